// `ilo-agent serve`: one session shared by many local invocations. Clients never see the token;
// the agent bounds its queue and its concurrency towards the iLO.
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { IloClient } from '../client/index.js';
import { AgentBusyError, IloAgentError, InvalidInputError } from '../errors.js';
import { FrameSplitter } from './frames.js';
import { MAX_FRAME, PRIVATE_HEADERS, type AgentRequest, type AgentResponse } from './protocol.js';
import { checkListenPath } from './socket-path.js';

export interface AgentServerOptions {
  client: IloClient;
  socketPath: string;
  /** Requests sent to the iLO at once; default 4. */
  maxInFlight?: number;
  /** Requests waiting beyond those; past it a request is refused at once (AgentBusyError, E_CONNECT). Default 1000. */
  maxQueue?: number;
  logger?: Logger;
}

export interface AgentServer {
  readonly socketPath: string;
  /** Requests answered since start. */
  readonly served: number;
  /** Stops accepting, lets requests in flight finish, closes every connection. */
  close(): Promise<void>;
}

export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const { client, socketPath, logger } = options;
  const maxInFlight = options.maxInFlight ?? 4;
  const maxQueue = options.maxQueue ?? 1000;
  let inFlight = 0;
  let served = 0;
  const waiting: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const running = new Set<Promise<void>>();

  const slot = async (): Promise<void> => {
    if (inFlight < maxInFlight) {
      inFlight++;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else inFlight--;
  };

  const answer = async (request: AgentRequest): Promise<AgentResponse> => {
    if (request.op === 'hello') {
      return {
        id: request.id,
        // Which iLO and which user, so that a client can refuse an agent of another iLO (no secret).
        hello: { sessionPath: client.session.path, sessionId: client.session.id, transport: client.transportDescription, ...client.target, version: 1 },
      };
    }
    if (request.op !== 'request' || typeof request.method !== 'string' || typeof request.path !== 'string') {
      throw new InvalidInputError('a request needs op "request", a method and a path');
    }
    if (waiting.length >= maxQueue) throw new AgentBusyError(`the agent's queue is full (${maxQueue} waiting); try again`);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (!PRIVATE_HEADERS.has(name.toLowerCase()) && typeof value === 'string') headers[name] = value;
    }
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'base64');
    await slot();
    try {
      const response = await client.request(request.method, request.path, { headers, body });
      const shown: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) if (!PRIVATE_HEADERS.has(name)) shown[name] = value;
      return { id: request.id, status: response.status, headers: shown, body: Buffer.from(response.body).toString('base64') };
    } finally {
      release();
    }
  };

  const serve = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const frames = new FrameSplitter(MAX_FRAME);
    // A client may half-close once its requests are written (`printf … | nc -U`): it still gets
    // every answer, then the end of the connection.
    let unanswered = 0;
    let readDone = false;
    let oversize = false;
    const endIfDone = () => {
      if (!readDone || unanswered > 0 || socket.destroyed || socket.writableEnded) return;
      // After an oversize frame, nothing more is read: the rest of it is dropped with the connection.
      socket.end(oversize ? () => socket.destroy() : undefined);
    };
    socket.on('end', () => {
      readDone = true;
      endIfDone();
    });
    socket.on('data', (chunk: Buffer) => {
      if (readDone) return;
      for (const line of frames.push(chunk)) {
        if (line.trim() === '') continue;
        unanswered++;
        const work = handleLine(line).then((response) => {
          served++;
          unanswered--;
          if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
          endIfDone();
        });
        running.add(work);
        void work.finally(() => running.delete(work));
      }
      if (frames.overflowed) {
        readDone = oversize = true;
        socket.write(`${JSON.stringify({ id: -1, error: { code: 'E_INPUT', message: `a frame longer than ${MAX_FRAME} bytes: the connection is closed` } })}\n`);
        endIfDone();
      }
    });
  };

  const handleLine = async (line: string): Promise<AgentResponse> => {
    let request: AgentRequest;
    try {
      request = JSON.parse(line) as AgentRequest;
    } catch {
      return { id: -1, error: { code: 'E_INPUT', message: 'a line that is not JSON' } };
    }
    const id = typeof request?.id === 'number' ? request.id : -1;
    try {
      return await answer({ ...request, id });
    } catch (error) {
      const code = error instanceof IloAgentError ? error.code : 'E_INTERNAL';
      if (!(error instanceof IloAgentError)) logger?.error({ err: error }, 'agent request failed');
      return { id, error: { code, message: error instanceof Error ? error.message : String(error) } };
    }
  };

  const server: Server = createServer({ allowHalfOpen: true }, serve);
  // Checked again here (serve.ts checks before its login): the library may be called directly.
  if ((await checkListenPath(socketPath)) === 'stale') unlinkSync(socketPath);
  // Owner only, from the first moment: the socket file is made under a strict umask.
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previous);
  }
  if (process.platform !== 'win32') chmodSync(socketPath, 0o600);
  logger?.info({ socket: socketPath, maxInFlight, maxQueue }, 'agent listening');

  let closing: Promise<void> | undefined;
  return {
    socketPath,
    get served() {
      return served;
    },
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.allSettled([...running]);
        for (const socket of sockets) {
          socket.end();
          setTimeout(() => socket.destroy(), 500).unref();
        }
        await closed;
        if (process.platform !== 'win32') {
          try {
            unlinkSync(socketPath);
          } catch {
            // already gone
          }
        }
      })()),
  };
}
