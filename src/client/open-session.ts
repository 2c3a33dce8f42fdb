// The library API: open one session, use it, and always delete it.
import type { Logger, LevelWithSilent } from 'pino';
import { UsageError } from '../errors.js';
import { deleteInterruptedLogin, startGuardian, type Guardian, type GuardianTransport } from '../guardian/index.js';
import { Session, type Credentials } from '../session/index.js';
import { DEFAULT_TIMEOUT_MS, openHttpsTransport, openInbandTransport, type Transport } from '../transport/index.js';
import { RedfishClient } from './client.js';

export interface ConnectOptions {
  /**
   * `https://host[:port]` of the iLO. Without it (and without `transport`) the local iLO is
   * reached in-band through HPE's CHIF library. One never falls back to the other.
   */
  url?: string;
  /** The CHIF library to load in-band; default: the search README describes (never the working directory). */
  chifLibrary?: string;
  username?: string;
  password?: string;
  /** PEM of the CA to trust for the iLO's certificate. */
  ca?: string;
  /** Accept any certificate (a loud opt-in; TLS is verified by default). */
  insecure?: boolean;
  /** Time for one request; default 60 s. */
  timeoutMs?: number;
  /** Time to open a connection; default 10 s. */
  connectTimeoutMs?: number;
  /** HTTPS connections open at once to the iLO; default 4. Match it to the requests you keep in flight. */
  maxConnections?: number;
  /** Time close() may take to delete the session; default 10 s. */
  closeTimeoutMs?: number;
  /**
   * Stops work in progress: requests in flight are aborted, and a login in flight is allowed to
   * finish so that its session can be deleted. close() still runs, bounded by closeSignal.
   */
  signal?: AbortSignal;
  /** Cuts close() short, before closeTimeoutMs (after which a session may remain until its idle timeout). */
  closeSignal?: AbortSignal;
  /**
   * When the DELETE failed or was cut short, one more with a blocking request before close()
   * reports it (in-band only: CHIF can send one, on a fresh channel). For a process that leaves
   * right after (the CLI): the request holds the event loop until the iLO answers.
   */
  blockingCloseFallback?: boolean;
  /** A transport to use instead of HTTPS to `url` (the CHIF transport, a test double). */
  transport?: Transport;
  /** Told of each client once its session is open (the CLI keeps them for a last-resort cleanup). */
  onOpen?: (client: IloClient) => void;
  logger?: Logger;
  /**
   * Start a guardian process with the login: it deletes the session if this process dies without
   * doing so (SIGKILL, the OOM killer, a native crash). It gets the token, and the password over
   * HTTPS, through a pipe only. Not for a `transport` given here. The CLI turns it on.
   */
  guardian?: boolean;
}

export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose');

/** A Redfish client bound to its own session; close() (or `await using`) deletes the session. */
export class IloClient extends RedfishClient {
  readonly session: Session;
  readonly #transport: Transport;
  readonly #options: ConnectOptions;
  readonly #guardian: Guardian | undefined;
  #closed: Promise<void> | undefined;

  constructor(session: Session, transport: Transport, options: ConnectOptions, guardian?: Guardian) {
    super(session, { signal: options.signal, origin: transport.kind === 'https' ? transport.description : undefined });
    this.session = session;
    this.#transport = transport;
    this.#options = options;
    this.#guardian = guardian;
  }

  /** Where requests go: `https://…` or the CHIF channel. */
  get transportDescription(): string {
    return `${this.#transport.kind} ${this.#transport.description}`;
  }

  /** Deletes the session and closes the transport; idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const timeout = AbortSignal.timeout(this.#options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
      const bound = this.#options.closeSignal ? AbortSignal.any([timeout, this.#options.closeSignal]) : timeout;
      try {
        await this.session.close({ signal: bound });
      } catch (error) {
        if (!(this.#options.blockingCloseFallback && this.session.closeSync())) throw error;
      } finally {
        // Released: the guardian exits. Not released (the DELETE failed): it tries itself.
        await this.#guardian?.detach();
        if (!this.#guardian) await this.#searchInterruptedLogin(bound);
        await this.#transport.close();
      }
    })();
    return this.#closed;
  }

  /**
   * Without a guardian, a login whose answer never came (a timeout, a cut connection) is searched
   * for here, as the guardian would (the agent is alive and holds the credentials): otherwise the
   * session the iLO may have made would stay until its idle timeout, unseen.
   */
  async #searchInterruptedLogin(signal: AbortSignal): Promise<void> {
    const login = this.session.interruptedLogin;
    if (!login) return;
    const log = this.#options.logger;
    const { username, password } = this.#options;
    const authority: Record<string, string> | undefined =
      this.#transport.kind === 'chif' ? {} : username !== undefined ? { Authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` } : undefined;
    const gaveUp = 'a login got no answer; if the iLO made its session, it stays until its idle timeout';
    if (!authority || signal.aborted) {
      log?.warn(gaveUp);
      return;
    }
    log?.warn('a login got no answer; looking for the session the iLO may have made');
    try {
      const found = await deleteInterruptedLogin({
        transport: this.#transport,
        authority,
        login,
        signal,
        requestTimeoutMs: this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        log,
      });
      if (found === 0) log?.info('no session of the unanswered login was found');
    } catch (error) {
      log?.warn({ err: error }, gaveUp);
    }
  }

  [asyncDispose](): Promise<void> {
    return this.close();
  }
}

export async function openSession(options: ConnectOptions): Promise<IloClient> {
  const credentials = options.username === undefined ? null : { username: options.username, password: options.password ?? '' };
  const transport =
    options.transport ??
    (options.url === undefined
      ? await openInbandTransport({ libraryPath: options.chifLibrary, credentials, timeoutMs: options.timeoutMs, logger: options.logger })
      : openHttpsTransport(httpsOptions(options)));
  if (!credentials && transport.kind === 'https') {
    await transport.close();
    throw new UsageError('a user name and password are needed to log in over HTTPS');
  }
  // Started alongside the login, never waited for: it boots while the POST is on its way.
  const guardian = options.guardian ? guardianFor(options, transport, credentials) : undefined;
  const session = new Session({ transport, credentials, logger: options.logger, observer: guardian, guarded: () => guardian?.watching === true });
  const client = new IloClient(session, transport, options, guardian);
  try {
    await session.open({ signal: options.signal, deadline: options.closeSignal });
    options.onOpen?.(client);
  } catch (error) {
    await client.close().catch((closeError: unknown) => options.logger?.error({ err: closeError }, 'could not delete the session after a failed login'));
    throw error;
  }
  return client;
}

/** Runs `work` with a fresh session and deletes the session afterwards, whatever happens. */
export async function withSession<T>(options: ConnectOptions, work: (client: IloClient) => Promise<T>): Promise<T> {
  const client = await openSession(options);
  let result: T;
  try {
    result = await work(client);
  } catch (error) {
    // The first failure is the one to report; a failed logout after it is logged, not lost.
    await client.close().catch((closeError: unknown) => options.logger?.error({ err: closeError }, (closeError as Error).message));
    throw error;
  }
  await client.close();
  return result;
}

function guardianFor(options: ConnectOptions, transport: Transport, credentials: Credentials | null): Guardian | undefined {
  let spec: GuardianTransport;
  if (options.transport) {
    options.logger?.debug('no guardian for a transport given by the caller');
    return undefined;
  } else if (transport.kind === 'https') {
    spec = { kind: 'https', url: options.url as string, ca: options.ca ?? null, insecure: options.insecure ?? false };
  } else {
    // The file this process loaded, found and checked once: the guardian loads it, searches nothing.
    spec = { kind: 'chif', library: transport.library as string };
  }
  const level = (options.logger?.level ?? 'silent') as LevelWithSilent;
  return startGuardian({ transport: spec, credentials, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, logLevel: level, logger: options.logger });
}

function httpsOptions(options: ConnectOptions) {
  if (!options.url) throw new UsageError('the iLO address is required (--url or ILO_URL)');
  return {
    url: options.url,
    ca: options.ca,
    insecure: options.insecure,
    timeoutMs: options.timeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    maxSockets: options.maxConnections,
  };
}
