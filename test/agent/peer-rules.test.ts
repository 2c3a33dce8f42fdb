// The client's check of who serves the agent's socket, before a byte is sent: the peer's uid
// (from the kernel) must be ours or root's; without peer credentials, the socket file's owner.
// The uid of "us" is set per test (process.getuid); the peer's uid is what the binding reports.
import { chownSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkAgentPeer, pipeServerVerdict } from '../../src/agent/peer.js';
import { rejectionOf } from '../helpers/wait.js';

const peer = vi.hoisted(() => ({ uid: undefined as number | undefined, fds: [] as unknown[] }));
vi.mock('../../src/binding/index.js', () => ({
  peerUid: async (fd: unknown) => {
    peer.fds.push(fd);
    return peer.uid;
  },
}));

const USER = 4242;
const reason = process.platform === 'win32' ? 'Unix sockets only' : process.getuid?.() !== 0 ? 'giving a file to another user needs root' : undefined;
if (reason && process.env.CI === 'true') {
  it('runs as root (required when CI=true)', () => {
    throw new Error(reason);
  });
}

describe.skipIf(reason !== undefined)(`checkAgentPeer${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
  let base: string;
  let n = 0;
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'ilo-agent-peer-rules-'));
    chmodSync(base, 0o755);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    peer.uid = undefined;
    peer.fds = [];
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(base, { recursive: true, force: true });
  });

  /** A listening socket in a fresh 0700 directory of USER, its file owned by `owner`, and a connection to it. */
  async function connected(owner: number): Promise<{ socket: Socket; path: string }> {
    const dir = join(base, `d${++n}`);
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, USER, USER);
    const path = join(dir, 'agent.sock');
    const server = createServer(() => undefined);
    servers.push(server);
    await new Promise<void>((r) => server.listen(path, r));
    chownSync(path, owner, owner);
    const socket = connect(path);
    sockets.push(socket);
    await new Promise((r) => socket.once('connect', r));
    return { socket, path };
  }

  it('peer credentials: our uid and root are trusted, another uid is refused', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(USER);
    // The file's owner would be refused: with peer credentials only the peer counts
    const { socket, path } = await connected(65534);
    peer.uid = USER;
    await checkAgentPeer(socket, path);
    peer.uid = 0;
    await checkAgentPeer(socket, path);
    // the connection's own descriptor is what the kernel is asked about
    expect(peer.fds).toHaveLength(2);
    expect(typeof peer.fds[0]).toBe('number');
    expect(peer.fds[0]).toBeGreaterThan(0);
    peer.uid = 1234;
    const error = await rejectionOf(checkAgentPeer(socket, path));
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toBe(`the agent at ${path} runs as uid 1234, neither you (uid ${USER}) nor root: refused, nothing was sent to it`);
  });

  it('a socket without a descriptor (never opened): the kernel is not asked, the file decides', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(USER);
    const { path } = await connected(USER);
    const unconnected = new Socket();
    peer.uid = 1234; // would be refused, were it asked
    await checkAgentPeer(unconnected, path);
    expect(peer.fds).toEqual([]);
  });

  it('no peer credentials: a socket file of ours or root\'s is trusted, another user\'s refused', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(USER);
    const ours = await connected(USER);
    await checkAgentPeer(ours.socket, ours.path);
    const roots = await connected(0);
    await checkAgentPeer(roots.socket, roots.path);
    const theirs = await connected(65534);
    expect((await rejectionOf(checkAgentPeer(theirs.socket, theirs.path))).message).toBe(
      `the agent at ${theirs.path} is a socket of uid 65534, neither you (uid ${USER}) nor root: refused, nothing was sent to it`,
    );
  });

  it('no peer credentials and no socket file at the path (removed, or not a socket): refused', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(USER);
    const { socket, path } = await connected(USER);
    rmSync(path);
    expect((await rejectionOf(checkAgentPeer(socket, path))).message).toBe(
      `the agent at ${path} is not a socket file, neither you (uid ${USER}) nor root: refused, nothing was sent to it`,
    );
    writeFileSync(path, '');
    chownSync(path, USER, USER);
    expect((await rejectionOf(checkAgentPeer(socket, path))).message).toMatch(/ is not a socket file, neither you/);
  });
});

describe('pipeServerVerdict (Windows): whose the pipe\'s server is', () => {
  const server = (sid: string) => ({ pid: 1, sid, ownSid: 'S-1-5-21-1-2-3-1001' });
  it('ours, LocalSystem\'s, or another user\'s', () => {
    expect(pipeServerVerdict(server('S-1-5-21-1-2-3-1001'))).toBe('ours');
    expect(pipeServerVerdict(server('S-1-5-18'))).toBe('LocalSystem');
    expect(pipeServerVerdict(server('S-1-5-21-1-2-3-1002'))).toBe('other');
  });
});
