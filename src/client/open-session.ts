// The library API: open one session, use it, and always delete it.
import type { Logger, LevelWithSilent } from 'pino';
import { ChifLibraryError, UsageError } from '../errors.js';
import { deleteInterruptedLogin, startGuardian, type Guardian, type GuardianTransport } from '../guardian/index.js';
import { SERVICE_ROOT } from '../redfish/index.js';
import { basicAuthorization, Session, type Credentials, type ExternalLogin } from '../session/index.js';
import {
  appTokenLogin,
  checkVnicAddress,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_VNIC_URL,
  ILOREST_APP_ACCOUNT,
  loadChifLibrary,
  openChifTransport,
  openHttpsTransport,
  openVnicTransport,
  planVnic,
  selectInband,
  type ChifLibrary,
  type InbandMode,
  type InterfaceAddress,
  type Transport,
  type VnicPlan,
} from '../transport/index.js';
import { RedfishClient } from './client.js';
import { timeoutSignal } from '../timeout-signal.js';

export interface ConnectOptions {
  /**
   * `https://host[:port]` of the iLO. Without it (and without `transport`) the local iLO is
   * reached in-band: CHIF through HPE's library (iLO 5/6), or the virtual NIC (iLO 7; see
   * `inband`). One never falls back to the other.
   */
  url?: string;
  /** The CHIF library to load in-band; default: the search README describes (never the working directory). */
  chifLibrary?: string;
  /**
   * In-band (no `url`): `auto` (default) lets HPE's DetectILO choose CHIF (iLO 5/6) or the vNIC
   * (iLO 7); `chif` and `vnic` choose. Decided once, before any login; never a fallback.
   */
  inband?: InbandMode;
  /** The iLO on its virtual NIC; default https://16.1.15.1. */
  vnicUrl?: string;
  /** On the vNIC, never the app token: a password login (`username` required). */
  noAppAccount?: boolean;
  /** vNIC TLS: accept exactly this leaf certificate (`sha256:<hex>`). */
  pin?: string;
  /** vNIC TLS: the name iLO's certificate carries, checked with `ca`. */
  tlsServername?: string;
  /** Pause before GetSessionID's one retry after an empty answer; default 500 ms. */
  appTokenRetryPauseMs?: number;
  /** Loads HPE's library (a test double of the binding); default: the real one, searched or `chifLibrary`. */
  loadLibrary?: () => Promise<ChifLibrary>;
  /** The host's interfaces, for the vNIC's link-bound TLS (a test double); default os.networkInterfaces. */
  networkInterfaces?: () => NodeJS.Dict<InterfaceAddress[]>;
  username?: string;
  password?: string;
  /**
   * `session` (default): one session, deleted at close. `basic`: no session at all, every request
   * carries the credentials (HTTP Basic; the way in when the iLO's session table is full); nothing
   * is left to delete, so no guardian is started. HTTPS and the vNIC with a password only.
   */
  auth?: 'session' | 'basic';
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

/** How this client reached the iLO, for `info` (nothing secret). */
export interface ConnectionFacts {
  /** `https` (--url), `chif` or `vnic` (in-band). */
  path: 'https' | 'chif' | 'vnic';
  /** In-band: the generation HPE's DetectILO reported; null when not asked. */
  generation: number | null;
  /** In-band: why this path (DetectILO's answer, or --inband). */
  selection: string | null;
  login: string;
  /** HTTPS and vNIC: how the iLO's certificate is trusted. */
  tls: string | null;
  /** vNIC: the address HPE's GetIPAddress reports (null: not loaded, no symbol, nothing reported). */
  libraryAddress?: string | null;
}

/** A Redfish client bound to its own session; close() (or `await using`) deletes the session. */
export class IloClient extends RedfishClient {
  readonly session: Session;
  readonly connection: ConnectionFacts | undefined;
  readonly #transport: Transport;
  readonly #options: ConnectOptions;
  readonly #guardian: Guardian | undefined;
  #closed: Promise<void> | undefined;

  constructor(session: Session, transport: Transport, options: ConnectOptions, guardian?: Guardian, connection?: ConnectionFacts) {
    super(session, { signal: options.signal, origin: transport.kind === 'https' ? transport.description : undefined });
    this.session = session;
    this.#transport = transport;
    this.#options = options;
    this.#guardian = guardian;
    this.connection = connection;
  }

  /** Which iLO (its `https://host:port` over HTTPS, null in-band) and which user (null without a password login). */
  get target(): { url: string | null; username: string | null } {
    return { url: this.connection?.path === 'https' ? this.#transport.description : null, username: this.#options.username ?? null };
  }

  /** Where requests go: `https://…` or the CHIF channel. */
  get transportDescription(): string {
    return `${this.#transport.kind} ${this.#transport.description}`;
  }

  /** Deletes the session and closes the transport; idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const timeout = timeoutSignal(this.#options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
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
      this.#transport.kind === 'chif' ? {} : username !== undefined ? { Authorization: basicAuthorization({ username, password: password ?? '' }) } : undefined;
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
  const route = options.transport ? given(options.transport, credentials) : options.url === undefined ? await openInband(options, credentials) : remote(options, credentials);
  const { transport, externalLogin } = route;
  if (!credentials && !externalLogin && transport.kind === 'https') {
    await transport.close();
    throw new UsageError('a user name and password are needed to log in over HTTPS');
  }
  const basic = options.auth === 'basic';
  if (basic && (!credentials || externalLogin || transport.kind === 'chif')) {
    await transport.close();
    throw new UsageError(
      transport.kind === 'chif'
        ? '--auth basic is for HTTPS and the vNIC: over CHIF, in-band requests use the channel\'s own session rules'
        : '--auth basic needs a user name and password (--username, and ILO_PASSWORD, --password-file or --password-stdin)',
    );
  }
  if (basic) route.facts.login = `basic (${credentials?.username ?? ''}): no session; each request carries the credentials, the iLO ends its transient session with the answer`;
  // Started alongside the login, never waited for: it boots while the POST is on its way. With
  // Basic there is nothing for it to delete.
  const guardian = options.guardian && !basic ? guardianFor(options, route, credentials) : undefined;
  const session = new Session({ transport, credentials, externalLogin, basic, logger: options.logger, observer: guardian, guarded: () => guardian?.watching === true });
  const client = new IloClient(session, transport, options, guardian, route.facts);
  try {
    await session.open({ signal: options.signal, deadline: options.closeSignal });
    options.onOpen?.(client);
  } catch (error) {
    await client.close().catch((closeError: unknown) => options.logger?.error({ err: closeError }, 'could not delete the session after a failed login'));
    throw error;
  }
  return client;
}

/** A transport, how to log in over it, and what `info` says of it. */
interface Route {
  transport: Transport;
  externalLogin?: ExternalLogin;
  facts: ConnectionFacts;
  /** The vNIC's HTTPS options (the guardian rebuilds the same transport). */
  vnic?: VnicPlan;
}

function loginWords(credentials: Credentials | null, external: ExternalLogin | undefined): string {
  if (external) return `app token: HPE's library makes the session from iLOrest's application account (HPE allows application accounts only for its own tools; the iLO lists the session as user ${external.label})`;
  return credentials ? `password (${credentials.username})` : 'null credentials (CHIF, production security state)';
}

function given(transport: Transport, credentials: Credentials | null): Route {
  return { transport, facts: { path: transport.kind, generation: null, selection: null, login: loginWords(credentials, undefined), tls: null } };
}

function remote(options: ConnectOptions, credentials: Credentials | null): Route {
  // --url never loads HPE's library: a remote user must not need it.
  if (options.inband && options.inband !== 'auto') throw new UsageError(`--inband ${options.inband} chooses an in-band path: it does not go with --url`);
  const transport = openHttpsTransport(httpsOptions(options));
  const tls = options.insecure ? 'insecure: any certificate is accepted (--insecure)' : options.ca ? 'verified with --ca-cert' : 'verified with the system\'s CAs';
  return { transport, facts: { path: 'https', generation: null, selection: null, login: loginWords(credentials, undefined), tls } };
}

/**
 * In-band: the path is chosen once (selectInband), before any login. CHIF as before; the vNIC is
 * the HTTPS transport at the vNIC address, with a password or iLOrest's application account.
 */
async function openInband(options: ConnectOptions, credentials: Credentials | null): Promise<Route> {
  const log = options.logger;
  const appToken = !credentials && !options.noAppAccount;
  // A candidate skipped as unsafe is a sign of a planted file: always said, with or without a logger.
  const warn = (message: string) => (log ? log.warn(message) : process.emitWarning(message));
  const load = options.loadLibrary ?? (() => loadChifLibrary(options.chifLibrary, { warn }));
  const selection = await selectInband({ mode: options.inband ?? 'auto', appToken, load, logger: log });
  const facts = { generation: selection.generation, selection: selection.reason };
  if (selection.path === 'chif') {
    const unused = [options.pin && '--pin', options.tlsServername && '--tls-servername', options.vnicUrl && 'the vNIC URL'].filter(Boolean);
    if (unused.length > 0) log?.warn(`${unused.join(', ')} not used: the CHIF path was chosen (${selection.reason})`);
    const library = selection.library as ChifLibrary;
    const transport = await openChifTransport({ library, credentials, timeoutMs: options.timeoutMs, logger: log });
    if (selection.noChifDriver) {
      // The channel opened although DetectILO saw no driver: the two disagree, nothing is guessed.
      await transport.close();
      throw new ChifLibraryError(`HPE's library reports no CHIF driver (${selection.reason}), yet a channel opened: give --inband chif to use it, or --url`);
    }
    return { transport, facts: { path: 'chif', ...facts, login: loginWords(credentials, undefined), tls: null } };
  }
  if (!credentials && options.noAppAccount) {
    throw new UsageError('--no-app-account needs a password login on the vNIC: --username NAME (with ILO_PASSWORD, --password-file or --password-stdin)');
  }
  const vnicUrl = options.vnicUrl ?? DEFAULT_VNIC_URL;
  const plan = planVnic(
    vnicUrl,
    { pin: options.pin, ca: options.ca, servername: options.tlsServername, insecure: options.insecure },
    { timeoutMs: options.timeoutMs, connectTimeoutMs: options.connectTimeoutMs, maxSockets: options.maxConnections },
    options.networkInterfaces,
  );
  log?.debug({ vnic: plan.https.url, tls: plan.tlsMode }, `vNIC TLS: ${plan.tls}`);
  const binding = selection.library?.appAccount;
  const libraryAddress = binding
    ? await checkVnicAddress(binding, plan.https.url, { source: options.vnicUrl ? '--vnic-url / ILO_VNIC_URL' : 'the default', logger: log, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS })
    : null;
  if (appToken && !binding) throw new ChifLibraryError('the app-token login needs HPE\'s library, and none is loaded; log in with a password: --username NAME');
  const transport = openVnicTransport(plan);
  const reachable = async (signal: AbortSignal) => void (await transport.request({ method: 'GET', path: SERVICE_ROOT, signal }));
  const externalLogin =
    appToken && binding
      ? appTokenLogin(binding, { logger: log, vnicHost: new URL(plan.https.url).hostname, retryPauseMs: options.appTokenRetryPauseMs, timeoutMs: options.timeoutMs, reachable })
      : undefined;
  log?.info({ login: externalLogin ? 'app-token' : 'password' }, externalLogin ? `vNIC login: app token (iLOrest's application account, ${ILOREST_APP_ACCOUNT.appid})` : 'vNIC login: password');
  return { transport, externalLogin, vnic: plan, facts: { path: 'vnic', ...facts, login: loginWords(credentials, externalLogin), tls: plan.tls, libraryAddress } };
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

function guardianFor(options: ConnectOptions, route: Route, credentials: Credentials | null): Guardian | undefined {
  const { transport } = route;
  let spec: GuardianTransport;
  if (options.transport) {
    options.logger?.debug('no guardian for a transport given by the caller');
    return undefined;
  } else if (route.vnic) {
    // The vNIC session is an HTTPS session for the guardian, with the same TLS trust.
    const https = route.vnic.https;
    spec = { kind: 'https', url: https.url, ca: https.ca ?? null, insecure: https.insecure ?? false };
    if (https.localAddress) spec.localAddress = https.localAddress;
    if (https.pin) spec.pin = https.pin;
    if (https.servername) spec.servername = https.servername;
  } else if (transport.kind === 'https') {
    spec = { kind: 'https', url: options.url as string, ca: options.ca ?? null, insecure: options.insecure ?? false };
  } else {
    // The file this process loaded, found and checked once: the guardian loads it, searches nothing.
    spec = { kind: 'chif', library: transport.library as string };
  }
  const level = (options.logger?.level ?? 'silent') as LevelWithSilent;
  return startGuardian({ transport: spec, credentials, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, logLevel: level, logger: options.logger });
}

export function httpsOptions(options: ConnectOptions) {
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
