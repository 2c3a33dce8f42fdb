// startSimulator(): one self-contained simulated iLO. Every instance owns its own state, so
// tests may run several side by side.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors.js';
import { silentLogger } from '../log/logger.js';
import { builtinTree } from './builtin-tree.js';
import { makeSelfSignedCertificate } from './certificate.js';
import {
  ChifCore,
  checkSocketPath,
  SECURITY_STATES,
  startChifEndpoint,
  type ChifCounters,
  type ChifEndpoint,
  type ChifFaults,
  type ChifFaultsView,
  type SecurityState,
} from './chif-endpoint.js';
import { FaultController, type FaultRule } from './faults.js';
import { startHttpsFront } from './https-front.js';
import { parseTarget } from './paths.js';
import { isProfileName, PROFILES, type ProfileName } from './profiles.js';
import { RedfishService, type InbandLocation, type SimRequest, type SimResponse } from './redfish-service.js';
import { ResourceStore } from './resource-store.js';
import { SessionTable, type SessionView } from './sessions.js';

export interface SimulatorOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  profile?: ProfileName;
  /** The global session cap; default 10 (unverified: HPE publishes no figure). */
  maxSessions?: number;
  /** Idle timeout; default 30 minutes; 0 = sessions never expire. */
  sessionTimeoutMs?: number;
  /** Status of a session POST at the cap; default 503. */
  limitStatus?: 503 | 403;
  /** Accounts that may log in; default {@link DEFAULT_USERS}. */
  users?: Readonly<Record<string, string>>;
  /** A DMTF-layout mockup folder to serve instead of the built-in tree. */
  mockupDir?: string;
  /** Added to every request. */
  latencyMs?: number;
  /** Added to every session POST (on top of latencyMs). */
  loginLatencyMs?: number;
  /** Delay of a refused login once more than `loginFailuresBeforeDelay` failed in a row; default 10 s as on iLO. */
  loginFailureDelayMs?: number;
  loginFailuresBeforeDelay?: number;
  faults?: readonly FaultRule[];
  /**
   * A Unix socket path for the CHIF endpoint, the far side of the CHIF emulator library
   * (native-bindings/PROTOCOL.md). Unset: no in-band access.
   */
  chifSocket?: string;
  /** iLO's security state as CHIF sees it; default production (chif-abi.md §5). */
  securityState?: SecurityState;
  /** `Location` of sessions made in-band: 'path' (default) or 'absolute' (with the HTTPS origin). */
  inbandLocation?: InbandLocation;
  /** CHIF fault knobs armed at start (see {@link ChifFaults}). */
  chifFaults?: ChifFaults;
  logger?: Logger;
  /** Clock for session times and expiry (tests); default Date.now. */
  clock?: () => number;
}

/** What `ilo-agent simulate` prints as its ready line. */
export interface SimulatorInfo {
  url: string;
  ca: string;
  control: string;
  chifSocket: string | null;
}

export interface SimulatorState {
  profile: ProfileName;
  maxSessions: number;
  sessionTimeoutSeconds: number;
  sessions: SessionView[];
  faults: FaultRule[];
  held: number;
  latency: { requestMs: number; loginMs: number };
  /** Requests and session POSTs received since start (over HTTPS and in-band alike). */
  counters: { requests: number; logins: number };
  chif: ChifState;
}

/** The in-band side, in `state()` and `GET /__sim/state`. */
export interface ChifState {
  /** The socket path, or null when the simulator has no CHIF endpoint. */
  socket: string | null;
  securityState: SecurityState;
  inbandLocation: InbandLocation;
  faults: ChifFaultsView;
  counters: ChifCounters;
  /** The blob store's live entries (request blobs that clients never delete included). */
  blobs: { keys: number; bytes: number };
}

export interface Simulator {
  readonly url: string;
  /** PEM of the self-signed certificate: the CA clients must trust. */
  readonly ca: string;
  /** Token for the control view (`X-Sim-Control` header). */
  readonly controlToken: string;
  readonly chifSocket: string | null;
  readonly info: SimulatorInfo;
  /** The live session table (transient Basic sessions included while their request runs). */
  sessions(): SessionView[];
  state(): SimulatorState;
  readonly faults: {
    inject(rule: FaultRule): void;
    clear(): void;
    setLatency(latency: { requestMs?: number; loginMs?: number }): void;
    /** Lets held (hung) requests go on; answers how many there were. */
    release(): number;
    readonly held: number;
  };
  /** The CHIF side (usable with or without a socket). */
  readonly chif: {
    /** Merges knobs in (null clears one); answers the knobs in force. */
    setFaults(faults: ChifFaults): ChifFaultsView;
    clearFaults(): void;
    faults(): ChifFaultsView;
    counters(): ChifCounters;
    /** Keys in the blob store (`volatile`), oldest first. */
    blobKeys(): string[];
    readonly blobCount: number;
  };
  /** Ends every session now, as an idle timeout would. Answers how many ended. */
  expireSessions(): number;
  /** Throws, listing them, when any session is left in the table. */
  assertNoSessions(): void;
  close(): Promise<void>;
}

export const DEFAULT_USERS: Readonly<Record<string, string>> = { Administrator: 'password' };

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const profileName = options.profile ?? 'ilo6';
  if (!isProfileName(profileName)) throw new InvalidInputError(`unknown profile ${String(profileName)}`);
  const profile = PROFILES[profileName];
  const host = options.host ?? '127.0.0.1';
  const log = options.logger ?? silentLogger();
  const users = new Map(Object.entries(options.users ?? DEFAULT_USERS));
  if (users.size === 0) throw new InvalidInputError('the simulator needs at least one user');

  if (![503, 403].includes(options.limitStatus ?? 503)) throw new InvalidInputError('limitStatus must be 503 or 403');
  const maxSessions = options.maxSessions ?? 10;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30 * 60_000;
  checkWhole('maxSessions', maxSessions, 1);
  checkWhole('sessionTimeoutMs', sessionTimeoutMs, 0);
  const sessions = new SessionTable({ maxSessions, timeoutMs: sessionTimeoutMs, clock: options.clock });
  const faults = new FaultController();
  const setLatency = (latency: { requestMs?: number; loginMs?: number }) => {
    if (latency.requestMs !== undefined) faults.latencyMs = checkWhole('latency requestMs', latency.requestMs, 0);
    if (latency.loginMs !== undefined) faults.loginLatencyMs = checkWhole('latency loginMs', latency.loginMs, 0);
  };
  setLatency({ requestMs: options.latencyMs, loginMs: options.loginLatencyMs });
  for (const rule of options.faults ?? []) faults.inject(rule);

  const securityState = options.securityState ?? 'production';
  if (!SECURITY_STATES.includes(securityState)) throw new InvalidInputError(`securityState must be one of ${SECURITY_STATES.join(', ')}`);
  if (options.chifSocket !== undefined) checkSocketPath(options.chifSocket);
  const inbandLocation = options.inbandLocation ?? 'path';
  if (inbandLocation !== 'path' && inbandLocation !== 'absolute') throw new InvalidInputError('inbandLocation must be path or absolute');

  const store = options.mockupDir ? ResourceStore.fromMockup(options.mockupDir) : ResourceStore.fromTree(builtinTree(profile, [...users.keys()]));
  const service = new RedfishService({
    profile,
    sessions,
    store,
    users,
    faults,
    limitStatus: options.limitStatus ?? 503,
    loginFailureDelayMs: checkWhole('loginFailureDelayMs', options.loginFailureDelayMs ?? 10_000, 0),
    loginFailuresBeforeDelay: checkWhole('loginFailuresBeforeDelay', options.loginFailuresBeforeDelay ?? 1, 0),
    inbandLocation,
    log,
  });

  let origin = '';
  const chif = new ChifCore({ service, users, securityState, faults, origin: () => origin, log: log.child({ component: 'chif' }) });
  if (options.chifFaults) chif.knobs.set(options.chifFaults);
  const chifSocket = options.chifSocket === undefined ? null : resolve(options.chifSocket);

  const controlToken = randomBytes(24).toString('hex');
  const { cert, key } = makeSelfSignedCertificate([host]);

  const state = (): SimulatorState => ({
    profile: profile.name,
    maxSessions: sessions.maxSessions,
    sessionTimeoutSeconds: sessions.timeoutMs / 1000,
    sessions: sessions.list().map((s) => sessions.view(s)),
    faults: faults.rules(),
    held: faults.held,
    latency: { requestMs: faults.latencyMs, loginMs: faults.loginLatencyMs },
    counters: { ...service.counters },
    chif: {
      socket: chifSocket,
      securityState,
      inbandLocation,
      faults: chif.knobs.view(),
      counters: structuredClone(chif.counters),
      blobs: { keys: chif.blobs.count, bytes: chif.blobs.bytes },
    },
  });
  const expireSessions = () => sessions.expireAll();
  const controls = { state, faults, setLatency, expireSessions, chif };

  const front = await startHttpsFront({
    host,
    port: options.port ?? 0,
    cert,
    key,
    faults,
    log,
    control: async (request) => control(request, controlToken, controls),
    handle: (request) => service.handle(request),
  });
  origin = front.url;
  let endpoint: ChifEndpoint | undefined;
  if (options.chifSocket !== undefined) {
    try {
      endpoint = await startChifEndpoint({ path: options.chifSocket, core: chif, log });
    } catch (error) {
      await front.close();
      throw error;
    }
  }
  log.info({ url: front.url, profile: profile.name, maxSessions, mockup: options.mockupDir ?? null, chifSocket, securityState }, 'simulator ready');

  let closed: Promise<void> | undefined;
  return {
    url: front.url,
    ca: cert,
    controlToken,
    chifSocket,
    info: { url: front.url, ca: cert, control: controlToken, chifSocket },
    sessions: () => state().sessions,
    state,
    faults: {
      inject: (rule) => faults.inject(rule),
      clear: () => faults.clear(),
      setLatency,
      release: () => faults.release(),
      get held() {
        return faults.held;
      },
    },
    chif: {
      setFaults: (f) => chif.knobs.set(f),
      clearFaults: () => chif.knobs.clear(),
      faults: () => chif.knobs.view(),
      counters: () => structuredClone(chif.counters),
      blobKeys: () => chif.blobs.keys(),
      get blobCount() {
        return chif.blobs.count;
      },
    },
    expireSessions,
    assertNoSessions() {
      const left = state().sessions;
      if (left.length > 0) {
        throw new Error(`${left.length} session(s) left on the simulator: ${left.map((s) => `${s.id} (${s.user}, ${s.tag})`).join(', ')}`);
      }
    },
    // The CHIF endpoint first: its held answers are then dropped when the front aborts them.
    close: () => (closed ??= (endpoint?.close() ?? Promise.resolve()).then(() => front.close()).then(() => log.info('simulator closed'))),
  };
}

function checkWhole(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new InvalidInputError(`${name} must be a whole number >= ${min}; got ${value}`);
  return value;
}

interface Controls {
  state(): SimulatorState;
  faults: FaultController;
  setLatency(latency: { requestMs?: number; loginMs?: number }): void;
  expireSessions(): number;
  chif: ChifCore;
}

/**
 * The control view for tests and checks, under `/__sim/`. Without the right `X-Sim-Control`
 * header it does not exist: such requests go to the Redfish service like any other path.
 */
function control(request: SimRequest, token: string, controls: Controls): SimResponse | undefined {
  const key = parseTarget(request.target)?.key;
  if (!key?.startsWith('/__sim/')) return undefined;
  const given = Buffer.from(request.headers['x-sim-control'] ?? '');
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;

  const json = (status: number, body: unknown): SimResponse => {
    const bytes = Buffer.from(JSON.stringify(body));
    return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(bytes.length) }, body: bytes };
  };
  const method = request.method.toUpperCase();
  let input: unknown;
  try {
    input = request.body.length > 0 ? JSON.parse(request.body.toString('utf8')) : {};
  } catch {
    return json(400, { error: 'request body is not valid JSON' });
  }
  try {
    switch (`${method} ${key}`) {
      case 'GET /__sim/state':
        return json(200, controls.state());
      case 'POST /__sim/faults':
        for (const rule of Array.isArray(input) ? input : [input]) controls.faults.inject(rule as FaultRule);
        return json(200, { faults: controls.faults.rules() });
      case 'DELETE /__sim/faults':
        controls.faults.clear();
        return json(200, { faults: [] });
      case 'PUT /__sim/latency':
        controls.setLatency(input as { requestMs?: number; loginMs?: number });
        return json(200, controls.state().latency);
      case 'POST /__sim/expire':
        return json(200, { expired: controls.expireSessions() });
      case 'POST /__sim/release':
        return json(200, { released: controls.faults.release() });
      case 'GET /__sim/chif-faults':
        return json(200, controls.chif.knobs.view());
      case 'PUT /__sim/chif-faults':
        return json(200, controls.chif.knobs.set(input as ChifFaults));
      case 'DELETE /__sim/chif-faults':
        controls.chif.knobs.clear();
        return json(200, {});
      default:
        return json(404, { error: `no control endpoint ${method} ${key}` });
    }
  } catch (error) {
    if (error instanceof InvalidInputError) return json(400, { error: error.message });
    throw error;
  }
}
