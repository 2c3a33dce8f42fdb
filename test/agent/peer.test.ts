// Where the system gives no peer credentials, a client trusts the socket file's owner only in
// directories that nobody else can change.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkAgentPeer } from '../../src/agent/peer.js';
import { rejectionOf } from '../helpers/wait.js';

vi.mock('../../src/binding/index.js', () => ({ peerUid: async () => undefined }));

const reason = process.platform === 'win32' ? 'Unix sockets only' : process.getuid?.() !== 0 ? 'giving a file to another user needs root' : undefined;
if (reason && process.env.CI === 'true') {
  it('runs as root (required when CI=true)', () => {
    throw new Error(reason);
  });
}

describe.skipIf(reason !== undefined)(`the client's check without peer credentials${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
  let base: string;
  const servers: Server[] = [];
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'ilo-agent-peer-'));
  });
  afterAll(() => {
    for (const server of servers) server.close();
    rmSync(base, { recursive: true, force: true });
  });

  async function connected(dir: string, mode: number): Promise<{ socket: Socket; path: string }> {
    mkdirSync(dir);
    chmodSync(dir, mode);
    const path = join(dir, 'agent.sock');
    const server = createServer(() => undefined);
    servers.push(server);
    await new Promise<void>((r) => server.listen(path, r));
    const socket = connect(path);
    await new Promise((r) => socket.once('connect', r));
    return { socket, path };
  }

  it('accepts our socket in our directory; refuses another user\'s socket, and a directory others can write', async () => {
    const ours = await connected(join(base, 'ours'), 0o700);
    await checkAgentPeer(ours.socket, ours.path);

    const theirs = await connected(join(base, 'theirs'), 0o700);
    chownSync(theirs.path, 65534, 65534);
    expect((await rejectionOf(checkAgentPeer(theirs.socket, theirs.path))).message).toMatch(/is a socket of uid 65534, neither you \(uid 0\) nor root: refused/);

    const open = await connected(join(base, 'open'), 0o777);
    const error = await rejectionOf(checkAgentPeer(open.socket, open.path));
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toMatch(/refused the agent at .*: .* is writable by other users without the sticky bit/);
    for (const s of [ours, theirs, open]) s.socket.destroy();
  });
});
