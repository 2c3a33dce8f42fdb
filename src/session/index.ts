// The session layer's public surface.
export { Session } from './session.js';
export type { Credentials, ExternalLogin, SessionObserver, SessionOptions, SessionRequest } from './session.js';
export { deleteSession, goneByAuthority, goneByToken, isCleanPath, isSessionsCollection, sessionPathOf } from './session-path.js';
export type { SendDelete } from './session-path.js';
