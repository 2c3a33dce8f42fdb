// Windows: a client accepts an agent whose named pipe is served by a process of its own user or
// of LocalSystem, and refuses any other, before it sends a byte. Under Wine every process is the
// same user (test/deploy/windows-wine.test.ts shows the accepted case on the real executable), so
// the refusal is shown here: the Windows lookup (binding/pipe-server.ts) is replaced by its answer.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PipeServer } from '../../src/binding/index.js';
import { checkAgentPeer } from '../../src/agent/peer.js';

const answer = vi.hoisted(() => ({ current: undefined as PipeServer | Error | undefined, asked: [] as string[] }));
vi.mock('../../src/binding/index.js', () => ({
  peerUid: async () => undefined,
  pipeServer: async (pipe: string) => {
    answer.asked.push(pipe);
    if (answer.current instanceof Error) throw answer.current;
    return answer.current;
  },
}));

const PIPE = '\\\\.\\pipe\\ilo-agent';
const OURS = 'S-1-5-21-1004336348-1177238915-682003330-1001';
const socket = {} as Socket; // not read on Windows: the pipe is asked by its name

describe('the client\'s check of a named pipe\'s server (Windows)', () => {
  const platform = Object.getOwnPropertyDescriptor(process, 'platform') as PropertyDescriptor;
  beforeAll(() => Object.defineProperty(process, 'platform', { ...platform, value: 'win32' }));
  afterAll(() => Object.defineProperty(process, 'platform', platform));

  async function check(server: PipeServer | Error) {
    answer.current = server;
    answer.asked = [];
    const lines: string[] = [];
    const logger = { debug: (_fields: object, message: string) => lines.push(message) } as never;
    const outcome = await checkAgentPeer(socket, PIPE, logger).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(answer.asked).toEqual([PIPE]);
    return { outcome, lines };
  }

  it('accepts a server of our own user, and says so at debug level with its pid', async () => {
    const { outcome, lines } = await check({ pid: 4242, sid: OURS, ownSid: OURS });
    expect(outcome).toBeUndefined();
    expect(lines).toEqual(["the agent's pipe is served by process 4242, which runs as our user"]);
  });

  it('accepts a server run as LocalSystem (a Windows service)', async () => {
    const { outcome, lines } = await check({ pid: 812, sid: 'S-1-5-18', ownSid: OURS });
    expect(outcome).toBeUndefined();
    expect(lines).toEqual(["the agent's pipe is served by process 812, which runs as LocalSystem"]);
  });

  it('refuses a server of another user (exit 2), naming both users', async () => {
    const other = 'S-1-5-21-1004336348-1177238915-682003330-1002';
    const { outcome, lines } = await check({ pid: 5150, sid: other, ownSid: OURS });
    expect(outcome).toMatchObject({ code: 'E_INPUT' });
    expect((outcome as Error).message).toBe(`the agent at ${PIPE} (process 5150) runs as ${other}, neither you (${OURS}) nor LocalSystem: refused, nothing was sent to it`);
    expect(lines).toEqual([]);
  });

  it('refuses (exit 2) when Windows cannot say who serves the pipe', async () => {
    const { outcome } = await check(new Error('its server, process 5150, cannot be opened to read its user (error 5)'));
    expect(outcome).toMatchObject({ code: 'E_INPUT' });
    expect((outcome as Error).message).toBe(`refused the agent at ${PIPE}, nothing was sent to it: its server, process 5150, cannot be opened to read its user (error 5)`);
  });
});
