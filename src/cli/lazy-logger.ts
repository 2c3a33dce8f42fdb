// A logger that loads pino only when it has a line to write. A one-shot command at the default
// level (warn) usually writes none, and pino is about 15 ms of such a run's start-up on Node 20.
// Levels, isLevelEnabled and child() are answered without it; everything else goes to pino.
import type { LevelWithSilent, Logger } from 'pino';

const VALUES: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const noop = (): void => undefined;

/** `load` makes the real logger at the level asked for; it is called once, at the first line due. */
export function lazyLogger(level: LevelWithSilent, load: (level: LevelWithSilent) => Logger): Logger {
  let real: Logger | undefined;
  let current = level;
  // pino's methods need their logger as `this`: bind once per name, not per call
  const bound = new Map<PropertyKey, unknown>();
  const loaded = (): Logger => (real ??= load(current));
  const fromReal = (prop: PropertyKey): unknown => {
    const logger = loaded();
    if (bound.has(prop)) return bound.get(prop);
    const value: unknown = Reflect.get(logger, prop, logger);
    if (typeof value !== 'function') return value;
    const fn = (value as (...args: unknown[]) => unknown).bind(logger);
    bound.set(prop, fn);
    return fn;
  };
  return new Proxy({} as Logger, {
    get(_target, prop) {
      if (real) return fromReal(prop);
      if (prop === 'level') return current;
      if (prop === 'silent') return noop;
      if (prop === 'isLevelEnabled') return (name: string) => (VALUES[name] ?? Infinity) >= (VALUES[current] ?? Infinity);
      if (prop === 'child') {
        return (bindings: Record<string, unknown>, options?: { level?: LevelWithSilent }) =>
          lazyLogger(options?.level ?? current, (childLevel) => loaded().child(bindings, { ...options, level: childLevel }));
      }
      // a level below the threshold writes nothing: no need for pino
      if (typeof prop === 'string' && VALUES[prop] !== undefined && VALUES[prop] < (VALUES[current] ?? Infinity)) return noop;
      return fromReal(prop);
    },
    set(_target, prop, value) {
      if (!real && prop === 'level') {
        current = value as LevelWithSilent;
        return true;
      }
      bound.clear(); // pino swaps its level methods when the level changes
      return Reflect.set(loaded(), prop, value);
    },
  });
}
