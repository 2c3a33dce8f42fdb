// Turn option strings into typed values, with messages that name the option.
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30m`, `10s`, `1h`, `250ms`; a bare number is seconds; `0` means "never" where allowed. */
export function parseDuration(value: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  if (!m?.[1]) throw new InvalidArgumentError('expected a duration such as 30m, 10s, 1h or 0');
  return Number(m[1]) * (UNIT_MS[m[2] ?? 's'] as number);
}

/**
 * A time limit that must let something happen: `0` would cut every request (or every cleanup)
 * at once, and "no limit" would let a hung iLO hold the process and its session forever.
 */
export function parseTimeLimit(value: string): number {
  const ms = parseDuration(value);
  if (ms === 0) throw new InvalidArgumentError('expected a duration above 0, such as 60s (0 would cut everything at once; there is no "no limit")');
  // Node's timers turn a longer delay into 1 ms (setTimeout in the Node docs): it would act as 0.
  if (ms > MAX_TIMER_MS) throw new InvalidArgumentError('expected a duration of at most 24 days (596h)');
  return ms;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export function parseWholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}`);
    return value as T;
  };
}

/** `name:password,name:password` (a password may contain ':' but not ','). */
export function parseUsers(value: string): Record<string, string> {
  const users: Record<string, string> = {};
  for (const entry of value.split(',')) {
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1) throw new InvalidArgumentError('expected name:password[,name:password...]');
    users[entry.slice(0, colon)] = entry.slice(colon + 1);
  }
  return users;
}

export function collect<T>(parse: (value: string) => T) {
  return (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];
}

/** Lets a library parser's error read as commander's "option '--x <v>' argument ... is invalid". */
export function asOptionParser<T>(parse: (value: string) => T) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
}
