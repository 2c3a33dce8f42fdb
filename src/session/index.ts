// The session layer's public surface.
export { Session } from './session.js';
export type { Credentials, ExternalLogin, SessionObserver, SessionOptions, SessionRequest } from './session.js';
export { DOCUMENTED_SESSIONS_PATH, deleteSession, goneByAuthority, goneByToken, isCleanPath, isSessionsCollection, sessionPathOf } from './session-path.js';
export type { SendDelete } from './session-path.js';
export { envelopeMessages, parseJsonBody, isJsonObject, bodyText, hasMessage, dig } from './envelope.js';
