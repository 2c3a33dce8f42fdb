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
  E_CHIF_LIBRARY: 7,
  E_CHIF_CREDENTIALS: 8,
  // The iLO did not answer over the channel: "unreachable", as over HTTPS.
  E_CHIF: 5,
  // Aborted without a signal (the caller gave up): treated as an interruption, as SIGINT.
  E_ABORTED: 130,
} as const satisfies Record<ErrorCode, number>;

const SIGNAL_NUMBERS: Readonly<Partial<Record<NodeJS.Signals, number>>> = {
  SIGHUP: 1,
  SIGINT: 2,
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
