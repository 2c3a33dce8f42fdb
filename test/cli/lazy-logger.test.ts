// The CLI's logger loads pino only when a line is due (src/cli/lazy-logger.ts): nothing is lost,
// redaction still applies, and below the level nothing is loaded at all.
import { Writable } from 'node:stream';
import { pino, type LevelWithSilent, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyLogger } from '../../src/cli/lazy-logger.js';
import { REDACTED_KEYS } from '../../src/log/logger.js';

function memoryPino(level: LevelWithSilent, lines: Record<string, unknown>[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level, redact: { paths: [...REDACTED_KEYS], censor: '[redacted]' } }, sink);
}

describe('lazyLogger', () => {
  it('answers level, isLevelEnabled, child() and lines below the level without loading pino', () => {
    let loads = 0;
    const log = lazyLogger('warn', () => {
      loads++;
      return memoryPino('warn', []);
    });
    log.debug('not written');
    log.info({ a: 1 }, 'not written');
    log.trace('not written');
    expect(log.level).toBe('warn');
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.isLevelEnabled('error')).toBe(true);
    const child = log.child({ component: 'x' });
    child.info('not written either');
    expect(loads).toBe(0);
  });

  it('loads pino once, at the first line due, and writes every line from then on, redacted', () => {
    const lines: Record<string, unknown>[] = [];
    let loads = 0;
    const log = lazyLogger('warn', (at) => {
      loads++;
      return memoryPino(at, lines);
    });
    log.warn({ password: 'hunter2', session: '/s/1' }, 'first');
    log.error('second');
    log.info('below the level');
    expect(loads).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual(['first', 'second']);
    expect(lines[0]?.password).toBe('[redacted]');
    expect(lines[0]?.session).toBe('/s/1');
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('a child made before pino is loaded writes with its bindings once a line is due', () => {
    const lines: Record<string, unknown>[] = [];
    const log = lazyLogger('info', (at) => memoryPino(at, lines));
    const child = log.child({ client: 7 });
    child.debug('below');
    child.info({ token: 'secret-token' }, 'from the child');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ client: 7, msg: 'from the child', token: '[redacted]' });
  });

  it('a level set before loading is the one pino is made with', () => {
    const lines: Record<string, unknown>[] = [];
    let madeAt: string | undefined;
    const log = lazyLogger('warn', (at) => {
      madeAt = at;
      return memoryPino(at, lines);
    });
    log.level = 'debug';
    log.debug('now due');
    expect(madeAt).toBe('debug');
    expect(lines.map((l) => l.msg)).toEqual(['now due']);
  });

  it('silent writes nothing and loads nothing', () => {
    let loads = 0;
    const log = lazyLogger('silent', () => {
      loads++;
      return memoryPino('silent', []);
    });
    log.fatal('nothing');
    log.error('nothing');
    expect(loads).toBe(0);
  });
});
