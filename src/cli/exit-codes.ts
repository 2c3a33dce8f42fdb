// The only place that knows exit numbers. A new ErrorCode without a number is a compile error.
import { IloAgentError, type ErrorCode } from '../errors.js';

export const EXIT_CODES = {
  E_INTERNAL: 1,
  E_USAGE: 2,
  E_INPUT: 2,
} as const satisfies Record<ErrorCode, number>;

/** Exit status for a process ended by a signal: 128 + its number, as shells report it. */
export const SIGNAL_EXIT: Readonly<Partial<Record<NodeJS.Signals, number>>> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
  SIGBREAK: 149,
};

export function exitCodeFor(error: unknown): number {
  return error instanceof IloAgentError ? EXIT_CODES[error.code] : EXIT_CODES.E_INTERNAL;
}
