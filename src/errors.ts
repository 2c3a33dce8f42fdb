// Every error ilo-agent raises on purpose carries a stable `code`; only cli/exit-codes.ts maps
// codes to exit numbers. Messages never carry tokens, passwords or auth headers.

/** Every code, for code that must check one it did not raise (the agent's answers). */
export const ERROR_CODES = [
  'E_INTERNAL',
  'E_CLOSED',
  'E_USAGE',
  'E_INPUT',
  'E_AUTH',
  'E_SESSION_LIMIT',
  'E_CONNECT',
  'E_TIMEOUT',
  'E_TLS',
  'E_REDFISH',
  'E_PROTOCOL',
  'E_NO_PROPERTY',
  'E_ABORTED',
  'E_CHIF_LIBRARY',
  'E_CHIF_CREDENTIALS',
  'E_CHIF',
  'E_VNIC',
  'E_APP_ACCOUNT',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(value);
}

export class IloAgentError extends Error {
  readonly code: ErrorCode;

  constructor(message: string, code: ErrorCode = 'E_INTERNAL', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A flag, option or argument the user gave is wrong. */
export class UsageError extends IloAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'E_USAGE', options);
  }
}

/** Input the user gave (JSON, a path, a file, a mockup folder) cannot be used; nothing was sent. */
export class InvalidInputError extends IloAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'E_INPUT', options);
  }
}

/** Details of an iLO error envelope (`error.@Message.ExtendedInfo`). */
export interface RedfishMessage {
  MessageId: string;
  MessageArgs?: string[];
}

interface ResponseDetails {
  status: number;
  messages?: readonly RedfishMessage[];
}

function describeMessages(messages: readonly RedfishMessage[] | undefined): string {
  if (!messages || messages.length === 0) return '';
  return ` (${messages.map((m) => (m.MessageArgs?.length ? `${m.MessageId}: ${m.MessageArgs.join(', ')}` : m.MessageId)).join('; ')})`;
}

/** The iLO refused the credentials. */
export class AuthError extends IloAgentError {
  readonly status: number;
  readonly messages: readonly RedfishMessage[];

  constructor(message: string, details: ResponseDetails) {
    super(`${message}${describeMessages(details.messages)}`, 'E_AUTH');
    this.status = details.status;
    this.messages = details.messages ?? [];
  }
}

/** The iLO's session table is full. */
export class SessionLimitError extends IloAgentError {
  readonly status: number;
  readonly messages: readonly RedfishMessage[];

  constructor(details: ResponseDetails) {
    super(
      `the iLO refused a new session: its session table is full${describeMessages(details.messages)}. ` +
        'Other tools have left sessions behind: "ilo-agent --auth basic sessions prune --all" lists them without taking a session, and with --yes removes them (they also expire when idle).',
      'E_SESSION_LIMIT',
    );
    this.status = details.status;
    this.messages = details.messages ?? [];
  }
}

/** No connection to the iLO, or it closed the connection before a full answer. */
export class ConnectError extends IloAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'E_CONNECT', options);
  }
}

export class TimeoutError extends IloAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'E_TIMEOUT', options);
  }
}

/** The iLO's certificate could not be verified. */
export class TlsError extends IloAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'E_TLS', options);
  }
}

/** The iLO answered with an HTTP error; its MessageIds say why. */
export class RedfishError extends IloAgentError {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly messages: readonly RedfishMessage[];
  /** The start of the raw body (at most 4 KiB), for what the envelope did not say. */
  readonly body: string;

  constructor(details: { status: number; method: string; path: string; messages: readonly RedfishMessage[]; body: string }) {
    const what = details.messages.length > 0 ? describeMessages(details.messages) : details.body ? ` (${details.body.slice(0, 200).trim()})` : '';
    super(`${details.method} ${details.path} answered ${details.status}${what}`, 'E_REDFISH');
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.messages = details.messages;
    this.body = details.body.slice(0, 4096);
  }

  get messageIds(): string[] {
    return this.messages.map((m) => m.MessageId);
  }
}

/**
 * Some of several independent requests failed (batch lines, sessions to prune, crawled resources); each failure was
 * reported on its own. E_REDFISH (exit 6), as one such failure would be.
 */
export class PartialFailureError extends IloAgentError {
  constructor(message: string) {
    super(message, 'E_REDFISH');
  }
}

/**
 * `ilo-agent serve` has too many requests waiting and refused one at once. E_CONNECT (exit 5):
 * the iLO cannot be reached through it now; trying again later may work.
 */
export class AgentBusyError extends IloAgentError {
  constructor(message: string) {
    super(message, 'E_CONNECT');
  }
}

/** The resource lacks a property the user named (`--value`, `--select`, `set --check`). */
export class MissingPropertyError extends IloAgentError {
  constructor(message: string) {
    super(message, 'E_NO_PROPERTY');
  }
}

/** The iLO answered something a Redfish service must not (a login without a token, bad JSON). */
export class ProtocolError extends IloAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'E_PROTOCOL', options);
  }
}

/** Work stopped because a signal (or the caller) asked; the session was still cleaned up. */
export class AbortedError extends IloAgentError {
  readonly signal: NodeJS.Signals | undefined;

  constructor(message = 'aborted', signal?: NodeJS.Signals) {
    super(message, 'E_ABORTED');
    this.signal = signal;
  }
}

/** A transport or session used after close(). */
export class ClosedError extends IloAgentError {
  constructor(message: string) {
    super(message, 'E_CLOSED');
  }
}

/**
 * The work is done (or failed) but the session could not be deleted: never a success. The code
 * is the cause's (unreachable iLO, an HTTP error), so the exit status says why.
 */
export class LogoutError extends IloAgentError {
  constructor(message: string, cause: unknown) {
    super(message, cause instanceof IloAgentError && !(cause instanceof AbortedError) ? cause.code : 'E_PROTOCOL', { cause });
  }
}

/** The CHIF library or driver cannot be used (missing, too old, not permitted). */
export class ChifLibraryError extends IloAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'E_CHIF_LIBRARY', options);
  }
}

/** The iLO's security state requires credentials for in-band access, and none were given. */
export class ChifCredentialsError extends IloAgentError {
  constructor(message: string) {
    super(message, 'E_CHIF_CREDENTIALS');
  }
}

/**
 * The CHIF channel failed mid-way (exchange error, blob error, no answer in time). `rc`: the
 * library's return code or the blob-store status that failed, when there was one (not HTTP).
 */
export class ChifError extends IloAgentError {
  readonly rc: number | undefined;

  constructor(message: string, rc?: number) {
    super(message, 'E_CHIF');
    this.rc = rc;
  }
}

/**
 * The in-band path chosen cannot be used on this host: the vNIC is disabled in the iLO, the host
 * side of the vNIC is not configured, HPE's library is missing what the app-token login needs.
 * Nothing was sent to the iLO. `libraryCode`: the number HPE's library answered, when it did.
 */
export class VnicError extends IloAgentError {
  readonly libraryCode: number | undefined;

  constructor(message: string, libraryCode?: number, options?: { cause?: unknown }) {
    super(message, 'E_VNIC', options);
    this.libraryCode = libraryCode;
  }
}

/**
 * The application-account (app-token) login failed: no account in the TPM, an inactive token, an
 * error of HPE's GetSessionID. `mayHaveSession`: the library may have made a session before it
 * failed (it is a black box), so nothing can say that no session exists.
 */
export class AppAccountError extends IloAgentError {
  readonly libraryCode: number | undefined;
  readonly mayHaveSession: boolean;

  constructor(message: string, details: { libraryCode?: number; mayHaveSession?: boolean } = {}) {
    super(message, 'E_APP_ACCOUNT');
    this.libraryCode = details.libraryCode;
    this.mayHaveSession = details.mayHaveSession ?? false;
  }
}
