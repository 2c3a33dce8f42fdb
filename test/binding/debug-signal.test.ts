// refuseDebugSignal, the one part of process-hardening.ts that is safe in a test worker: a SIGUSR1
// listener of our own, so the signal opens no inspector. protectSecrets (not dumpable, core limit,
// /proc/self/environ wiped) changes the whole process for good: it is tested on the CLI's own
// processes (test/cli/process-hardening.test.ts), never here.
import inspector from 'node:inspector';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { refuseDebugSignal } from '../../src/binding/index.js';
import { until } from '../helpers/wait.js';

describe.skipIf(process.platform === 'win32')('refuseDebugSignal', () => {
  afterEach(() => {
    process.removeAllListeners('SIGUSR1');
    vi.restoreAllMocks();
  });

  it('installs one listener (once), and SIGUSR1 then says it was ignored and opens no inspector', async () => {
    expect(process.listenerCount('SIGUSR1')).toBe(0);
    refuseDebugSignal();
    refuseDebugSignal();
    expect(process.listenerCount('SIGUSR1')).toBe(1);
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    // Only with our listener in place: without one, Node would open its inspector in this worker.
    if (process.listenerCount('SIGUSR1') === 1) process.kill(process.pid, 'SIGUSR1');
    await until(() => written.length > 0, 'the signal is handled');
    expect(written).toEqual(['ilo-agent: SIGUSR1 ignored (it would open a debugger to every local user)\n']);
    expect(inspector.url()).toBeUndefined();
  });

  it('leaves a listener already there alone (the process has its own use for the signal)', () => {
    const own = () => undefined;
    process.on('SIGUSR1', own);
    refuseDebugSignal();
    expect(process.listeners('SIGUSR1')).toEqual([own]);
  });
});
