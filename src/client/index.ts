// The client layer's public surface.
export { RedfishClient, toRedfishError } from './client.js';
export type { ConnectedClient, RedfishResponse, RequestOptions, SessionLike } from './client.js';
export { IloClient, openSession, withSession, DEFAULT_CLOSE_TIMEOUT_MS } from './open-session.js';
export type { ConnectOptions, ConnectionFacts } from './open-session.js';
export { checkMethod, checkPath, checkNotSessionPost, isSessionPath, parseJsonInput } from './paths.js';
export { nativeCallsPending, exitNow, protectSecrets } from '../transport/index.js';
export { applyPatch, buildDesired, deepEqual, diffResource, isPlainObject, isWriteOnly, masked, parseAssignment, project, writeOnlyPaths } from './diff.js';
export type { Assignment, Difference, JsonObject, JsonValue } from './diff.js';
export { crawl, linksOf, DEFAULT_MAX_RESOURCES } from './crawl.js';
export type { CrawlOptions, CrawlError } from './crawl.js';
export { appAccountStatus, createAppAccount, deleteAppAccount, maskAppId, requireRoot, APP_ACCOUNTS_PATH } from './app-accounts.js';
export type { AppAccountStatus, CreateResult, DeleteResult, StatusVerdict } from './app-accounts.js';
