// The simulator's CHIF endpoint: the far side of the CHIF emulator library
// (native-bindings/emulator/). The emulator exports HPE's libilorestchif ABI and forwards each
// call over a Unix socket (or loopback TCP opened by a secret), one frame per connection, as
// native-bindings/PROTOCOL.md lays out. This file holds the listeners; each whole frame is
// answered by ChifCore (chif-core.ts).
//
// Frames, both ways: u32 length (LE, of what follows), u8 op, payload. The answer echoes the op.
// A frame that cannot be read answers rc 5 (EIO) and never takes the simulator down.
import { lstatSync, unlinkSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors.js';
import type { ChifCore } from './chif-core.js';
import { RC_ACCESS_DENIED, RC_BAD_FRAME, u32 } from './chif-wire.js';

/** A frame may not be longer (the largest legal one, VERIFY or EXCHANGE, is about 128 KiB). */
export const MAX_FRAME = 256 * 1024;
/** A connection that has not sent its whole frame by then is cut. */
const FRAME_TIMEOUT_MS = 30_000;

// ---- the listeners: a Unix socket, or loopback TCP with a secret ------------------------------

export interface ChifEndpoint {
  /** The socket path as given, or the TCP address `127.0.0.1:port`. */
  readonly path: string;
  close(): Promise<void>;
}

/** The op of the frame that opens every TCP connection: the secret (PROTOCOL.md). */
const OP_SECRET = 7;

/**
 * One connection: frames until the answer is sent. With `secret`, the first frame must be
 * OP_SECRET carrying it; otherwise the answer is OP_SECRET with rc 13 and nothing is done.
 */
function serveConnection(socket: Socket, options: { core: ChifCore; log: Logger; signal: AbortSignal; secret?: Buffer }): void {
  const { core, log, signal, secret } = options;
  socket.on('error', (error) => log.debug({ err: error }, 'CHIF connection error'));
  socket.setTimeout(FRAME_TIMEOUT_MS, () => socket.destroy());
  let buffered = Buffer.alloc(0);
  let received = 0;
  let opened = secret === undefined;
  let done = false;

  const reply = (op: number, payload: Buffer | undefined) => {
    if (socket.destroyed) return;
    if (payload === undefined) {
      socket.destroy();
      return;
    }
    const head = Buffer.alloc(5);
    head.writeUInt32LE(1 + payload.length, 0);
    head.writeUInt8(op, 4);
    socket.end(Buffer.concat([head, payload]));
  };
  const refuse = (reason: string, op = 0) => {
    done = true;
    core.counters.frames.bad++;
    log.warn({ reason }, 'bad CHIF frame');
    reply(op, u32(RC_BAD_FRAME));
  };

  socket.on('data', (chunk: Buffer) => {
    if (done) return;
    buffered = Buffer.concat([buffered, chunk]);
    received += chunk.length;
    while (!done && buffered.length >= 4) {
      const wanted = buffered.readUInt32LE(0);
      if (wanted === 0 || wanted > MAX_FRAME) {
        refuse(`frame length ${wanted}`);
        return;
      }
      if (buffered.length < 4 + wanted) return;
      const frame = buffered.subarray(4, 4 + wanted);
      buffered = buffered.subarray(4 + wanted);
      const op = frame[0] ?? 0;
      if (!opened) {
        const given = frame.subarray(1);
        if (op !== OP_SECRET || given.length !== secret?.length || !timingSafeEqual(given, secret)) {
          done = true;
          log.warn('CHIF connection refused: the first frame is not the secret');
          reply(OP_SECRET, u32(RC_ACCESS_DENIED));
          return;
        }
        opened = true;
        continue;
      }
      done = true;
      socket.setTimeout(0);
      core.answer(Buffer.from(frame), signal).then(
        (payload) => reply(op, payload),
        (error: unknown) => {
          log.error({ err: error }, 'CHIF endpoint failed to answer');
          socket.destroy();
        },
      );
    }
  });
  socket.on('end', () => {
    if (done) return;
    if (received === 0) socket.destroy(); // a bare connect (a liveness probe)
    else refuse('connection ended inside a frame');
  });
}

/** A server that tracks its connections, so that close() can end them. */
function frameServer(options: { core: ChifCore; log: Logger; secret?: Buffer }) {
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  // allowHalfOpen: an emulator may shut its writing side down once its frame is sent.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, { ...options, signal: closing.signal });
  });
  const listen = (where: string, at: { path: string } | { port: number; host: string }) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new InvalidInputError(`cannot listen on the CHIF ${where}: ${error.code ?? error.message}`, { cause: error })),
      );
      server.listen(at, () => {
        server.removeAllListeners('error');
        server.on('error', (error) => options.log.error({ err: error }, 'CHIF endpoint error'));
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      closing.abort();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return { server, listen, close };
}

/**
 * Listens on `path`, one frame per connection. A stale socket file is replaced (only a socket,
 * and only when nothing answers on it); the file is removed at close.
 */
export async function startChifEndpoint(options: { path: string; core: ChifCore; log: Logger }): Promise<ChifEndpoint> {
  const { path, core, log } = options;
  checkSocketPath(path);
  await removeStaleSocket(path);
  const frames = frameServer({ core, log });
  await frames.listen(`socket ${path}`, { path });
  let inode: number;
  try {
    inode = lstatSync(path).ino;
  } catch (error) {
    frames.server.close();
    throw new InvalidInputError(`the CHIF socket ${path} is not where it was bound: ${(error as Error).message}`, { cause: error });
  }
  log.info({ path }, 'CHIF endpoint ready');

  let closed: Promise<void> | undefined;
  return {
    path,
    close: () =>
      (closed ??= frames.close().then(() => {
        // Node removes the file itself; make sure, but never remove someone else's file.
        try {
          const stat = lstatSync(path);
          if (stat.isSocket() && stat.ino === inode) unlinkSync(path);
        } catch {
          // already gone
        }
      })),
  };
}

/**
 * Listens on loopback TCP (`port` 0: a free one), for the emulator's Windows build: a Windows
 * process has no Unix socket to rely on. Any local user can connect to a port, so each
 * connection must first send `secret` (PROTOCOL.md, "Loopback TCP").
 */
export async function startChifTcpEndpoint(options: { port: number; secret: string; core: ChifCore; log: Logger }): Promise<ChifEndpoint> {
  const { port, core, log } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError(`the CHIF TCP port must be a whole number from 0 to 65535; got ${port}`);
  if (options.secret === '') throw new InvalidInputError('the CHIF TCP secret must not be empty');
  const frames = frameServer({ core, log, secret: Buffer.from(options.secret) });
  await frames.listen(`TCP port ${port}`, { port, host: '127.0.0.1' });
  const address = `127.0.0.1:${(frames.server.address() as AddressInfo).port}`;
  log.info({ address }, 'CHIF endpoint ready on loopback TCP');
  let closed: Promise<void> | undefined;
  return { path: address, close: () => (closed ??= frames.close()) };
}

/** A Unix socket path must fit sockaddr_un (108 bytes with its NUL on Linux; longer ones are cut silently). */
export function checkSocketPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) throw new InvalidInputError('the CHIF socket path must be a non-empty path');
  if (Buffer.byteLength(path) > 107) throw new InvalidInputError(`the CHIF socket path is ${Buffer.byteLength(path)} bytes; a Unix socket path may have at most 107`);
}

async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InvalidInputError(`cannot check the CHIF socket path ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!isSocket) throw new InvalidInputError(`${path} exists and is not a socket; refusing to replace it`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new InvalidInputError(`the CHIF socket ${path} is in use by a running listener`);
  unlinkSync(path);
}
