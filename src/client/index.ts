// The client layer's public surface.
export { RedfishClient, toRedfishError } from './client.js';
export type { ConnectedClient, RedfishResponse, RequestOptions, SessionLike } from './client.js';
export { IloClient, openSession, withSession, DEFAULT_CLOSE_TIMEOUT_MS } from './open-session.js';
export type { ConnectOptions, ConnectionFacts } from './open-session.js';
export { checkMethod, checkPath, checkNotSessionPost, isSessionPath, parseJsonInput } from './paths.js';
/** What ConnectOptions.timeoutMs defaults to (the CLI's --timeout default too). */
export { DEFAULT_TIMEOUT_MS } from '../transport/index.js';
export { applyPatch, buildDesired, deepEqual, diffResource, isPlainObject, isWriteOnly, masked, missingProperties, parseAssignment, project, writeOnlyPaths } from './diff.js';
export type { Assignment, Difference, JsonObject, JsonValue, MissingProperty } from './diff.js';
export { crawl, linksOf, DEFAULT_MAX_RESOURCES } from './crawl.js';
export type { CrawlOptions, CrawlError } from './crawl.js';
export { waitUntilMatches, isPassing } from './wait.js';
export type { WaitOptions, WaitResult } from './wait.js';
export { listSessions, isOurs } from './session-table.js';
export type { SessionRow } from './session-table.js';
export { mapLimit } from './parallel.js';
export { runDoctor } from './doctor/index.js';
export type { Check, CheckStatus, DoctorReport } from './doctor/index.js';
export { applyPlan } from './apply.js';
export type { ApplyOptions, ApplyReport, ResourceOutcome, ResourceStatus } from './apply.js';
export { parseApplyFile } from './apply-file.js';
export type { ApplyPlan, DesiredResource } from './apply-file.js';
export { appAccountStatus, createAppAccount, deleteAppAccount, maskAppId, requireRoot, APP_ACCOUNTS_PATH } from './app-accounts.js';
export type { AppAccountStatus, CreateResult, DeleteResult, StatusVerdict } from './app-accounts.js';
export { captureResources } from './capture.js';
export type { CaptureResult } from './capture.js';
export { followTask, startsTask } from './task.js';
export type { TaskEnd, TaskOptions } from './task.js';
