// The session layer's public surface.
export { Session, DOCUMENTED_SESSIONS_PATH, pathOfLocation } from './session.js';
export type { Credentials, SessionObserver, SessionOptions, SessionRequest } from './session.js';
export { envelopeMessages, parseJsonBody, isJsonObject, bodyText, hasMessage, dig } from './envelope.js';
