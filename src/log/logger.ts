// The one way ilo-agent logs: pino, synchronously to stderr (fd 2), never stdout, which carries
// only results. JSON lines, or short readable lines when stderr is a terminal. Redaction is fixed
// here, by explicit keys (cheaper than wildcards); secrets must never be put into message
// strings, where redaction cannot see them.
import { writeSync } from 'node:fs';
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

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


const LABELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/** Formats each JSON line for a person: `12:00:01 WARN message key=value`. */
const prettyStderr: DestinationStream = {
  write(line: string) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      writeSync(2, line);
      return;
    }
    const time = new Date(Number(record.time)).toISOString().slice(11, 19);
    const extra = Object.entries(record)
      .filter(([key]) => !HIDDEN.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    writeSync(2, `${time} ${LABELS[Number(record.level)] ?? record.level} ${String(record.msg ?? '')}${extra ? ` ${extra}` : ''}\n`);
  },
};

export function createLogger(level: LevelWithSilent = 'info', options: { pretty?: boolean; name?: string } = {}): Logger {
  return pino(
    { name: options.name ?? 'ilo-agent', level, redact: { paths: [...REDACTED_KEYS], censor: '[redacted]' }, base: { pid: process.pid } },
    options.pretty ? prettyStderr : pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything: the default for library users and in-process tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
