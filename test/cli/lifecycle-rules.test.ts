// The Lifecycle's rules in-process (the CLI tests see them only through a spawned bin): what a stop aborts,
// which stop wins, the exit code it imposes, when the shutdown deadline and the overrun fire, and the
// last-resort cleanup's count. Fake timers: the deadlines are asserted by the order of events, not by a clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError } from '../../src/errors.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, Lifecycle, type SyncClosable } from '../../src/cli/lifecycle.js';
import { SHUTDOWN_SIGNALS, untilStopped } from '../../src/cli/signals.js';
import { signalExitCode } from '../../src/cli/exit-codes.js';

const closable = (deletes: boolean): SyncClosable & { calls: number } => {
  const client = { calls: 0, session: { closeSync: () => (client.calls++, deletes) } };
  return client;
};

describe('Lifecycle', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('before any stop: nothing aborted, no reason, no deadline, no exit code', () => {
    const life = new Lifecycle();
    expect(life.signal.aborted).toBe(false);
    expect(life.closeSignal.aborted).toBe(false);
    expect(life.reason).toBeUndefined();
    expect(life.shutdownDeadline).toBeUndefined();
    expect(life.exitCode()).toBeUndefined();
    expect(life.stopsOnSignal).toBe(false);
    expect(life.shutdownTimeoutMs).toBe(DEFAULT_SHUTDOWN_TIMEOUT_MS);
    expect(DEFAULT_SHUTDOWN_TIMEOUT_MS).toBe(10_000);
  });

  it('a signal aborts the work with an AbortedError naming it, and exits 128 + its number', () => {
    const life = new Lifecycle();
    life.stop('SIGTERM');
    expect(life.signal.aborted).toBe(true);
    const reason = life.signal.reason as AbortedError;
    expect(reason).toBeInstanceOf(AbortedError);
    expect(reason.signal).toBe('SIGTERM');
    expect(reason.message).toBe('stopped by SIGTERM');
    expect(life.reason).toEqual({ kind: 'signal', signal: 'SIGTERM' });
    expect(life.exitCode()).toBe(signalExitCode('SIGTERM'));
    expect(life.exitCode()).toBe(143);
    // Cleanup is not cut at once: only the deadline does that.
    expect(life.closeSignal.aborted).toBe(false);
  });

  it('a crash aborts the work and exits 1', () => {
    const life = new Lifecycle();
    const error = new Error('boom');
    life.crash(error);
    expect(life.signal.aborted).toBe(true);
    expect((life.signal.reason as AbortedError).message).toBe('stopped by an internal error');
    expect((life.signal.reason as AbortedError).signal).toBeUndefined();
    expect(life.reason).toEqual({ kind: 'crash', error });
    expect(life.exitCode()).toBe(1);
  });

  it('a command whose normal end is a signal exits 0 on one, but 1 on a crash', () => {
    const life = new Lifecycle();
    life.signalEndsNormally();
    expect(life.stopsOnSignal).toBe(true);
    life.stop('SIGINT');
    expect(life.exitCode()).toBe(0);
    const crashed = new Lifecycle();
    crashed.signalEndsNormally();
    crashed.crash(new Error('boom'));
    expect(crashed.exitCode()).toBe(1);
  });

  it('the first stop decides: a later signal or crash changes neither the reason nor the deadline', () => {
    const life = new Lifecycle();
    life.shutdownTimeoutMs = 1000;
    life.stop('SIGINT');
    const first = life.signal.reason;
    vi.advanceTimersByTime(600);
    life.stop('SIGTERM');
    life.crash(new Error('later'));
    expect(life.reason).toEqual({ kind: 'signal', signal: 'SIGINT' });
    expect(life.signal.reason).toBe(first);
    expect(life.exitCode()).toBe(signalExitCode('SIGINT'));
    expect(life.shutdownDeadline).toBe(1_000_000 + 1000);
    // The second stop armed no second, later deadline: the first one still fires on time.
    vi.advanceTimersByTime(400);
    expect(life.closeSignal.aborted).toBe(true);
  });

  it('the shutdown deadline aborts cleanup when the timeout ends, then the overrun fires 2 s later', () => {
    const life = new Lifecycle();
    life.shutdownTimeoutMs = 3000;
    const overruns: number[] = [];
    life.onOverrun = () => overruns.push(Date.now());
    life.stop('SIGTERM');
    expect(life.shutdownDeadline).toBe(1_000_000 + 3000);
    vi.advanceTimersByTime(2999);
    expect(life.closeSignal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(life.closeSignal.aborted).toBe(true);
    expect((life.closeSignal.reason as AbortedError).message).toBe('shutdown timeout');
    expect(overruns).toEqual([]);
    vi.advanceTimersByTime(1999);
    expect(overruns).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(overruns).toEqual([1_000_000 + 5000]);
  });

  it('without an onOverrun handler the overrun passes quietly (main.ts sets one only for some runs)', () => {
    const life = new Lifecycle();
    life.shutdownTimeoutMs = 100;
    life.stop('SIGTERM');
    expect(() => vi.advanceTimersByTime(5000)).not.toThrow();
    expect(life.closeSignal.aborted).toBe(true);
  });

  it('the timers do not hold the process open', () => {
    const life = new Lifecycle();
    const made: NodeJS.Timeout[] = [];
    const real = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((...args: Parameters<typeof setTimeout>) => {
      const timer = real(...args);
      made.push(timer);
      return timer;
    }) as typeof setTimeout);
    life.stop('SIGTERM');
    spy.mockRestore();
    expect(made).toHaveLength(2);
    for (const timer of made) expect(timer.hasRef()).toBe(false);
  });

  it('dispose() cancels the deadline and the overrun', () => {
    const life = new Lifecycle();
    life.shutdownTimeoutMs = 100;
    let overrun = false;
    life.onOverrun = () => (overrun = true);
    life.stop('SIGTERM');
    life.dispose();
    vi.advanceTimersByTime(10_000);
    expect(life.closeSignal.aborted).toBe(false);
    expect(overrun).toBe(false);
  });

  it('the last-resort cleanup closes every tracked client once and counts the sessions it deleted', () => {
    const life = new Lifecycle();
    const deleted = [closable(true), closable(true)];
    const kept = closable(false);
    for (const client of [...deleted, kept]) life.track(client);
    life.track(deleted[0]!); // tracked twice: still one client
    expect(life.lastResortCleanup()).toBe(2);
    expect([...deleted, kept].map((c) => c.calls)).toEqual([1, 1, 1]);
    // Forgotten afterwards: a second way out sends nothing more.
    expect(life.lastResortCleanup()).toBe(0);
    expect([...deleted, kept].map((c) => c.calls)).toEqual([1, 1, 1]);
  });
});

describe('SHUTDOWN_SIGNALS', () => {
  it.skipIf(process.platform === 'win32')('on POSIX: SIGINT, SIGTERM, SIGHUP and SIGQUIT', () => {
    expect(SHUTDOWN_SIGNALS).toEqual(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']);
  });
});

describe('untilStopped', () => {
  it('waits for the stop, and resolves at once for one that already happened', async () => {
    const stop = new AbortController();
    let done = false;
    const waiting = untilStopped(stop.signal).then(() => (done = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(done).toBe(false);
    stop.abort();
    await waiting;
    expect(done).toBe(true);
    await expect(untilStopped(AbortSignal.abort())).resolves.toBeUndefined();
  });
});
