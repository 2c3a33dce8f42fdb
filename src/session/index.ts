// The session layer's public surface.
export { Session } from './session.js';
export type { Credentials, ExternalLogin, SessionObserver, SessionOptions, SessionRequest } from './session.js';
export { isCleanPath, isSessionsCollection, readListing, sessionPathOf } from './session-path.js';
export { basicAuthorization, deleteSession, goneByAuthority, goneByToken } from './logout.js';
export type { SendDelete } from './logout.js';
