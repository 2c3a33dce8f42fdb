// The agent's side of the guardian when node cannot start it: what spawn() gives then (EMFILE,
// ENFILE: no pid, no stdio, an 'error' on the next tick) must end in a warning, never a throw and
// never a kill() (process.kill of an unset pid: 0 is the caller's whole process group).
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';

const spawned: FakeChild[] = [];

class FakeChild extends EventEmitter {
  pid: number | undefined = undefined;
  stdin = null;
  kill = vi.fn(() => true);
  unref = vi.fn();
}

vi.mock('node:child_process', async (original) => ({
  ...(await original<typeof import('node:child_process')>()),
  // What ChildProcess.spawn does on EMFILE: returns before the stdio and the pid are set, and
  // emits 'error' on the next tick.
  spawn: () => {
    const child = new FakeChild();
    spawned.push(child);
    process.nextTick(() => child.emit('error', Object.assign(new Error('spawn node EMFILE'), { code: 'EMFILE' })));
    return child;
  },
}));

const { startGuardian, setGuardianLaunch } = await import('../../src/guardian/spawn.js');

afterEach(() => {
  spawned.length = 0;
});

describe('startGuardian when the spawn fails (EMFILE)', () => {
  it('answers undefined, signals nothing, and reports the error as a warning instead of throwing it', async () => {
    setGuardianLaunch({ command: process.execPath, args: ['guardian.js'] });
    const warnings: string[] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(String(args.at(-1))), debug: () => undefined, info: () => undefined };
    const uncaught = vi.fn();
    process.on('uncaughtException', uncaught);
    try {
      const guardian = startGuardian({
        transport: { kind: 'https', url: 'https://ilo', ca: null, insecure: false },
        credentials: { username: 'u', password: 'pw' },
        logLevel: 'warn',
        logger: logger as never,
      });
      expect(guardian).toBeUndefined();
      // the 'error' comes on the next tick: let it come
      await new Promise((r) => setImmediate(r));
      expect(spawned).toHaveLength(1);
      expect(spawned[0]?.kill).not.toHaveBeenCalled();
      expect(uncaught).not.toHaveBeenCalled();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('the guardian could not be started (spawn node EMFILE); continuing without it');
    } finally {
      process.off('uncaughtException', uncaught);
    }
  });
});
