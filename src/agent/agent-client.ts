// A local client of `ilo-agent serve`: sends Redfish requests through the agent's session
// instead of logging in. It looks like a session to RedfishClient.
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { RedfishClient } from '../client/index.js';
import { AbortedError, ClosedError, ConnectError, IloAgentError, isErrorCode, ProtocolError, TimeoutError } from '../errors.js';
import type { SessionRequest } from '../session/index.js';
import type { TransportResponse } from '../transport/index.js';
import { FrameSplitter } from './frames.js';
import { checkAgentPeer } from './peer.js';
import { MAX_FRAME, type AgentHello, type AgentRequest, type AgentResponse } from './protocol.js';
import { checkAgentTarget, type AgentExpectation } from './target.js';

export class AgentConnection {
  readonly #socket: Socket;
  readonly #pending = new Map<number, { resolve: (r: AgentResponse) => void; reject: (e: Error) => void }>();
  readonly #timeoutMs: number;
  #nextId = 1;
  readonly #frames = new FrameSplitter(MAX_FRAME);
  #closed = false;
  /** Set once the agent has closed the connection: later requests fail at once, not at their timeout. */
  #lost = false;
  hello: AgentHello | undefined;

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('close', () => {
      this.#lost = true;
      this.#fail(new ConnectError('the agent closed the connection'));
    });
    socket.on('error', () => undefined); // 'close' follows and reports it
  }

  /**
   * Connects and greets the agent; says clearly when no agent listens there (exit 5), and refuses
   * (exit 2) an agent run by another user than ours or root, before sending it anything.
   */
  static async open(socketPath: string, timeoutMs = 60_000, logger?: Pick<Logger, 'debug'>): Promise<AgentConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(socketPath);
      s.once('connect', () => resolve(s));
      s.once('error', (error: NodeJS.ErrnoException) =>
        reject(new ConnectError(`no ilo-agent serve is listening at ${socketPath} (${error.code ?? error.message}); start one, or run without --agent / ILO_AGENT_SOCKET`)),
      );
    });
    try {
      await checkAgentPeer(socket, socketPath, logger);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    const connection = new AgentConnection(socket, timeoutMs);
    const hello = await connection.#send({ id: 0, op: 'hello' });
    connection.hello = hello.hello;
    return connection;
  }

  /** Same contract as Session.request: any status resolves. */
  async request(request: SessionRequest): Promise<TransportResponse> {
    const response = await this.#send(
      {
        id: 0,
        op: 'request',
        method: request.method,
        path: request.path,
        headers: { ...request.headers },
        body: request.body ? Buffer.from(request.body).toString('base64') : undefined,
      },
      request.signal,
    );
    return { status: response.status ?? 0, headers: response.headers ?? {}, body: Buffer.from(response.body ?? '', 'base64') };
  }

  close(): Promise<void> {
    this.#closed = true;
    return new Promise((resolve) => {
      if (this.#socket.destroyed) resolve();
      else this.#socket.end(() => resolve());
    });
  }

  #send(request: AgentRequest, signal?: AbortSignal): Promise<AgentResponse> {
    if (this.#closed) return Promise.reject(new ClosedError('the agent connection is closed'));
    if (signal?.aborted) return Promise.reject(new AbortedError('aborted'));
    if (this.#lost) return Promise.reject(new ConnectError('the agent closed the connection'));
    const id = this.#nextId++;
    return new Promise<AgentResponse>((resolve, reject) => {
      const timer = setTimeout(() => done(new TimeoutError(`the agent did not answer within ${this.#timeoutMs / 1000} s`)), this.#timeoutMs);
      const onAbort = () => done(new AbortedError('aborted'));
      const done = (error?: Error, response?: AgentResponse) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
        if (error) reject(error);
        else if (response?.error) reject(agentError(response.error));
        else resolve(response as AgentResponse);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, { resolve: (r) => done(undefined, r), reject: (e) => done(e) });
      this.#socket.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  #receive(chunk: Buffer): void {
    for (const line of this.#frames.push(chunk)) {
      let response: AgentResponse;
      try {
        response = JSON.parse(line) as AgentResponse;
      } catch {
        continue;
      }
      this.#pending.get(response.id)?.resolve(response);
    }
    if (this.#frames.overflowed) this.#socket.destroy();
  }

  #fail(error: Error): void {
    for (const pending of [...this.#pending.values()]) pending.reject(error);
  }
}

/**
 * A RedfishClient whose requests go through the agent's session. With `expected`, an agent of
 * another iLO or user is refused (exit 2) after its hello, before a single request.
 */
export async function openAgentClient(
  socketPath: string,
  timeoutMs?: number,
  logger?: Pick<Logger, 'debug'>,
  expected?: AgentExpectation & { agentFrom: string },
): Promise<AgentClient> {
  const connection = await AgentConnection.open(socketPath, timeoutMs, logger);
  if (expected) {
    try {
      checkAgentTarget(connection.hello, expected, expected.agentFrom);
    } catch (error) {
      await connection.close();
      throw error;
    }
  }
  return new AgentClient(connection, socketPath);
}

export class AgentClient extends RedfishClient {
  readonly session: { readonly path: string | null; readonly id: string | null };
  readonly transportDescription: string;
  readonly #connection: AgentConnection;

  constructor(connection: AgentConnection, socketPath: string) {
    // The agent's hello names its transport as `https https://host:port`: links of that iLO are followed.
    super(connection, { origin: /^https (https:\/\/\S+)$/.exec(connection.hello?.transport ?? '')?.[1] });
    this.#connection = connection;
    this.session = { path: connection.hello?.sessionPath ?? null, id: connection.hello?.sessionId ?? null };
    this.transportDescription = `agent ${socketPath} (${connection.hello?.transport ?? 'unknown'})`;
  }

  close(): Promise<void> {
    return this.#connection.close();
  }
}

/**
 * The error the agent raised, with its code. A code this version does not know means an agent
 * that speaks another protocol (or no agent at all): E_PROTOCOL, never an unchecked code.
 */
function agentError(error: { code?: unknown; message?: unknown }): IloAgentError {
  const message = typeof error.message === 'string' ? error.message : 'the agent answered an error without a message';
  return isErrorCode(error.code) ? new IloAgentError(message, error.code) : new ProtocolError(`the agent answered an error with an unknown code: ${message}`);
}
