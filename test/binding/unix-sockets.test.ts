// The two libc calls on Unix sockets: peerUid (SO_PEERCRED) on the accepted end of a real Unix
// socket server in this process, and sendUnixDatagram to a datagram socket bound by python3 (Node
// cannot bind one; skipped visibly without python3, a failure when CI=true).
import { chmodSync, closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { peerUid, sendUnixDatagram } from '../../src/binding/index.js';
import { killIfRunning, runProgram, type Running } from '../helpers/cli.js';
import { bindReceiver, receiverUnavailable } from '../helpers/datagram-receiver.js';
import { until } from '../helpers/wait.js';

const ROOT = process.geteuid?.() === 0;
const OTHER_UID = 65534; // nobody

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-unixsock-'));
  chmodSync(dir, 0o755); // another user's client must reach the socket
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** This process's open sockets, as /proc/self/fd shows them. */
const openSockets = (): string[] =>
  readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // the directory's own descriptor, closed by now
      }
    })
    .filter((target) => target.startsWith('socket:'))
    .sort();

/** The fd of an accepted connection's socket (libuv's; Node has no public accessor). */
const fdOf = (socket: Socket): number => (socket as unknown as { _handle: { fd: number } })._handle.fd;

describe.skipIf(process.platform !== 'linux')('peerUid (SO_PEERCRED)', () => {
  let server: Server;
  let path: string;
  const accepted: Socket[] = [];
  beforeAll(async () => {
    path = join(dir, 'peer.sock');
    server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    chmodSync(path, 0o777);
  });
  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  // peerUid binds getsockopt once per process: the first test that calls it is the one that can
  // tell a wrong SO_PEERCRED (as root, another option's zeros read as uid 0): another user's client.
  it.runIf(ROOT)('is the other user\'s uid for a client running as that user (root only: it runs one as nobody)', async () => {
    const before = accepted.length;
    const connect = `require('net').createConnection(${JSON.stringify(path)}).on('connect', () => console.log('connected'))`;
    const client = runProgram(process.execPath, ['-e', connect], { uid: OTHER_UID, gid: OTHER_UID });
    try {
      await until(() => accepted.length === before + 1, 'the connection is accepted');
      expect(await peerUid(fdOf(accepted[before] as Socket))).toBe(OTHER_UID);
    } finally {
      await killIfRunning(client);
    }
  });

  it('is this process\'s uid for a client in this process', async () => {
    const before = accepted.length;
    const client = createConnection(path);
    try {
      await until(() => accepted.length === before + 1, 'the connection is accepted');
      expect(await peerUid(fdOf(accepted[before] as Socket))).toBe(process.getuid?.());
    } finally {
      client.destroy();
    }
  });

  it('is undefined for a descriptor that is not a socket, or no descriptor at all', async () => {
    const fd = openSync(join(dir, 'plain'), 'w');
    try {
      expect(await peerUid(fd)).toBeUndefined();
    } finally {
      closeSync(fd);
    }
    expect(await peerUid(-1)).toBeUndefined();
  });
});


const reason = receiverUnavailable();
if (reason && process.env.CI === 'true') {
  it('binds a Unix datagram receiver (required when CI=true)', () => {
    throw new Error(reason);
  });
}

describe.skipIf(reason !== undefined)(`sendUnixDatagram${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let receiver: Running | undefined;
  afterEach(async () => {
    if (receiver) await killIfRunning(receiver);
    receiver = undefined;
  });

  /** A python3 receiver bound at `address`; what it received so far, one string per datagram. */
  async function bind(address: string): Promise<() => string[]> {
    const bound = await bindReceiver(address);
    receiver = bound.running;
    return bound.received;
  }

  // The libc binding is made once per process, by the first call: a failure (errno) comes first.
  it('an address nobody is bound at fails with the errno (ENOENT for a path, ECONNREFUSED for an abstract name)', async () => {
    const path = join(dir, 'nobody');
    await expect(sendUnixDatagram(path, 'READY=1')).rejects.toThrow(`sendto ${path} failed (errno 2)`);
    const abstract = `@ilo-agent-test-${process.pid}-nobody`;
    await expect(sendUnixDatagram(abstract, 'READY=1')).rejects.toThrow(`sendto ${abstract} failed (errno 111)`);
  });

  it.each([
    ['a socket path', () => join(dir, 'notify')],
    ['an abstract name (@name)', () => `@ilo-agent-test-${process.pid}-datagram`],
  ])('delivers each message whole to %s (UTF-8 bytes, not characters)', async (_kind, address) => {
    const at = address();
    const received = await bind(at);
    const sockets = openSockets();
    await sendUnixDatagram(at, 'READY=1\nSTATUS=serving é');
    await sendUnixDatagram(at, 'STOPPING=1');
    await until(() => received().length === 2, 'both datagrams arrive');
    expect(received()).toEqual(['READY=1\nSTATUS=serving é', 'STOPPING=1']);
    // Each send closes its socket: no descriptor is left behind (or inherited by a child).
    expect(openSockets()).toEqual(sockets);
  });

  it('an address of 1 to 107 bytes is tried; an empty one or one of 108 bytes is refused before any call', async () => {
    const usable = `/${'x'.repeat(106)}`; // 107 bytes and its NUL: sun_path's 108
    await expect(sendUnixDatagram(usable, 'x')).rejects.toThrow(`sendto ${usable} failed (errno 2)`);
    await expect(sendUnixDatagram(`@${'x'.repeat(106)}`, 'x')).rejects.toThrow(/failed \(errno 111\)/); // NUL + 106 bytes
    for (const address of ['', `/${'x'.repeat(107)}`, `@${'x'.repeat(107)}`]) {
      await expect(sendUnixDatagram(address, 'x')).rejects.toThrow(`not a usable Unix socket address (1 to 107 bytes): ${address}`);
    }
  });
});
