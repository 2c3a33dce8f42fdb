// The only place that knows exit numbers (stable, documented in README). A new ErrorCode
// without a number is a compile error.
import { AbortedError, IloAgentError, type ErrorCode } from '../errors.js';

export const EXIT_CODES = {
  E_INTERNAL: 1,
  E_CLOSED: 1,
  E_USAGE: 2,
  E_INPUT: 2,
  E_AUTH: 3,
  E_SESSION_LIMIT: 4,
  E_CONNECT: 5,
  E_TIMEOUT: 5,
  E_TLS: 5,
  E_REDFISH: 6,
  E_PROTOCOL: 6,
  // The answer lacks what --value/--select asked for: the iLO's data, as for an error status.
  E_NO_PROPERTY: 6,
  E_CHIF_LIBRARY: 7,
  E_CHIF_CREDENTIALS: 8,
  // In-band on iLO 7: the vNIC cannot be used (disabled, host side not configured, library too
  // old or missing) is 7 like a missing CHIF library; the app account cannot log in is 8 like
  // missing in-band credentials (both say: give -u).
  E_VNIC: 7,
  E_APP_ACCOUNT: 8,
  // The iLO did not answer over the channel: "unreachable", as over HTTPS.
  E_CHIF: 5,
  // Aborted without a signal (the caller gave up): treated as an interruption, as SIGINT.
  E_ABORTED: 130,
} as const satisfies Record<ErrorCode, number>;

/** `set --check`: the resource does not match yet; a run without --check would change it. */
export const EXIT_WOULD_CHANGE = 10;

/** `crawl`: the walk stopped at --max-resources; the output holds what it had read. */
export const EXIT_PARTIAL = 11;

/** `wait`: --for ran out before the resource held the values; the output holds the last read. */
export const EXIT_NOT_MATCHED = 12;

/** `apply --detailed-exit`: something changed, and nothing waits for a reset. */
export const EXIT_CHANGED = 13;

/** `apply --detailed-exit`: changed or already staged, and a reboot (or an iLO reset) is due. */
export const EXIT_RESET_DUE = 14;

/**
 * What each exit status means, for people: `--help`, docs/cli.md, the man page and README read
 * this table (README's copy is checked against it by a test). A status above without a meaning
 * is a compile error.
 */
export const EXIT_MEANINGS = {
  0: 'success',
  1: 'internal error (a bug: ILO_AGENT_DEBUG=1 prints the stack), or the session was closed under the command',
  2: 'usage error or invalid input; nothing was sent to the iLO',
  3: 'the iLO refused the login (user name or password)',
  4: "the iLO's session table is full (`sessions prune`, or --auth basic)",
  5: 'the iLO cannot be reached: connection, timeout, TLS, or no answer in-band',
  6: 'the iLO answered an error, or not what was asked (a property absent, a body that is not JSON)',
  7: "in-band: HPE's CHIF library cannot be loaded, or the vNIC cannot be used",
  8: 'in-band: the iLO asks for credentials (give -u), or the application account cannot log in',
  [EXIT_WOULD_CHANGE]: 'set --check / apply --check: something would change',
  [EXIT_PARTIAL]: 'crawl: stopped at --max-resources; the output holds what was read',
  [EXIT_NOT_MATCHED]: 'wait --for / raw --wait-task: the time ran out before the values (or the task) arrived',
  [EXIT_CHANGED]: 'apply --detailed-exit: something changed, no reset is due',
  [EXIT_RESET_DUE]: 'apply --detailed-exit: a reboot or an iLO reset is due',
  130: 'stopped by a signal: 128+n for signal n (130 SIGINT, 143 SIGTERM); the session was deleted first',
} as const satisfies Record<0 | (typeof EXIT_CODES)[ErrorCode] | OutcomeExitCode, string>;

export type ExitStatus = keyof typeof EXIT_MEANINGS;

/** Exit statuses that report a result, not an error (stable, documented in README). */
export type OutcomeExitCode = typeof EXIT_WOULD_CHANGE | typeof EXIT_PARTIAL | typeof EXIT_NOT_MATCHED | typeof EXIT_CHANGED | typeof EXIT_RESET_DUE;

/**
 * A command that completed normally but whose exit status must say more than 0 (`set --check`
 * exits 10 when something would change, as `diff` exits 1; a crawl cut at its cap exits 11). Not an error: the action throws it
 * once its output is written and its session is deleted, and main.ts turns it into the exit
 * status without a message. Commands never set an exit status themselves.
 */
export class CommandOutcome extends Error {
  readonly exitCode: OutcomeExitCode;

  constructor(exitCode: OutcomeExitCode, reason: string) {
    super(reason);
    this.name = 'CommandOutcome';
    this.exitCode = exitCode;
  }
}

const SIGNAL_NUMBERS: Readonly<Partial<Record<NodeJS.Signals, number>>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGPIPE: 13,
  SIGTERM: 15,
  SIGBREAK: 21,
};

/** Exit status for work ended by a signal: 128 + its number, as shells report it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 15);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof AbortedError && error.signal) return signalExitCode(error.signal);
  return error instanceof IloAgentError ? EXIT_CODES[error.code] : EXIT_CODES.E_INTERNAL;
}
