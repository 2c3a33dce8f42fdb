// systemd's readiness protocol (sd_notify): a state goes to NOTIFY_SOCKET when there is one, and
// children never inherit the variable.
import { describe, expect, it, vi } from 'vitest';
import { systemdNotifier } from '../../src/agent/index.js';

const sent = vi.hoisted(() => [] as Array<[string, string]>);
vi.mock('../../src/binding/index.js', () => ({
  sendUnixDatagram: async (path: string, message: string) => {
    sent.push([path, message]);
  },
}));

describe('systemdNotifier', () => {
  it('without NOTIFY_SOCKET (not run by systemd): nothing is sent, false', async () => {
    sent.length = 0;
    const env: NodeJS.ProcessEnv = { OTHER: 'x' };
    expect(await systemdNotifier(env).notify('READY=1')).toBe(false);
    expect(await systemdNotifier({ NOTIFY_SOCKET: '' }).notify('READY=1')).toBe(false);
    expect(sent).toEqual([]);
    expect(env).toEqual({ OTHER: 'x' });
  });

  it('a path or an abstract name: each state is sent there, and the variable is removed from the environment', async () => {
    sent.length = 0;
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', OTHER: 'x' };
    const notifier = systemdNotifier(env);
    expect(env).toEqual({ OTHER: 'x' });
    expect(await notifier.notify('READY=1')).toBe(true);
    expect(await notifier.notify('STOPPING=1')).toBe(true);
    expect(await systemdNotifier({ NOTIFY_SOCKET: '@abstract/notify' }).notify('READY=1')).toBe(true);
    expect(sent).toEqual([
      ['/run/systemd/notify', 'READY=1'],
      ['/run/systemd/notify', 'STOPPING=1'],
      ['@abstract/notify', 'READY=1'],
    ]);
  });

  it('anything else (vsock:CID:PORT, a relative path) is not a Unix socket: refused, nothing sent', async () => {
    sent.length = 0;
    for (const socket of ['vsock:2:1234', 'run/notify', 'x@y', 'x/']) {
      await expect(systemdNotifier({ NOTIFY_SOCKET: socket }).notify('READY=1')).rejects.toThrow(`NOTIFY_SOCKET ${socket} is not a Unix socket path`);
    }
    expect(sent).toEqual([]);
  });
});
