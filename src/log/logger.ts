// The one way ilo-agent logs: pino, synchronously to stderr (fd 2), never stdout, which carries
// only results. Redaction is fixed here, by explicit keys (cheaper than wildcards); secrets must
// never be put into message strings, where redaction cannot see them.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACTED_KEYS = [
  'password',
  'Password',
  'token',
  'authorization',
  'controlToken',
  'headers.authorization',
  'headers["x-auth-token"]',
  'headers["x-sim-control"]',
  'body.Password',
] as const;

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(level: LevelWithSilent = 'info', name = 'ilo-agent'): Logger {
  return pino(
    { name, level, redact: { paths: [...REDACTED_KEYS], censor: '[redacted]' }, base: { pid: process.pid } },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything: the default for library users and in-process tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
