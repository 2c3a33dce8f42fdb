// The log levels, without pino: the CLI offers them before it knows whether it will log at all.
import type { LevelWithSilent } from 'pino';

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** What the CLI asks of whoever makes its logger. */
export type LoggerFactory = (level: LevelWithSilent, options: { pretty?: boolean }) => import('pino').Logger;
