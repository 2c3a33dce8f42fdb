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
  startChifTcpEndpoint,
  type ChifCounters,
  type ChifEndpoint,
  type ChifFaults,
  type ChifFaultsView,
  type SecurityState,
} from './chif-endpoint.js';
import { APP_ACCOUNT_STATES, AppAccountStore, type AppAccountState, type AppAccountsView } from './app-accounts.js';
import { AppEndpoint, type AppCounters } from './app-endpoint.js';
import { AppFaultKnobs, type AppFaults, type AppFaultsView } from './app-faults.js';
import { FaultController, type FaultRule } from './faults.js';
import { startHttpRedirect, type HttpRedirect } from './http-redirect.js';
import { startHttpsFront, type HttpsFront } from './https-front.js';
import { parseTarget } from './paths.js';
import { isProfileName, PROFILES, type ProfileName } from './profiles.js';
import { RedfishService, type InbandLocation, type SimRequest, type SimResponse } from './redfish-service.js';
import { ResourceStore } from './resource-store.js';
import { SessionTable, type EndedSession, type SessionView } from './sessions.js';
import { TaskBoard } from './tasks.js';
import { PowerControl } from './power.js';
import { SettingsObjects } from './settings.js';
import { envelope } from './envelopes.js';
import { isJsonObject } from '../redfish/index.js';

export interface SimulatorOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default: the generation a mockup's service root names (`iLO 7` → ilo7), else ilo6. */
  profile?: ProfileName;
  /** The global session cap; default 10 (unverified: HPE publishes no figure). */
  maxSessions?: number;
  /** How long an operation turned into a task (the `task` faults) runs; default 2000 ms. */
  taskMs?: number;
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
  /**
   * The same endpoint on loopback TCP (127.0.0.1, `port` 0 or unset: a free one), for the
   * emulator's Windows build; each connection must first send the per-run secret (see
   * {@link Simulator.chifTcp}). Unset: none.
   */
  chifTcp?: { port?: number };
  /** iLO's security state as CHIF sees it; default production (docs/reference/chif-abi.md §5). */
  securityState?: SecurityState;
  /** `Location` of sessions made in-band: 'path' (default) or 'absolute' (with the HTTPS origin). */
  inbandLocation?: InbandLocation;
  /** CHIF fault knobs armed at start (see {@link ChifFaults}). */
  chifFaults?: ChifFaults;
  /**
   * iLO 7 only: the virtual NIC, a second HTTPS listener serving the same Redfish service with
   * its own certificate (which does not name the listener's address, as iLO's does not name
   * 16.1.15.1). 'off' = disabled in iLO: DetectILO answers -50 / type 101. Default 'on'.
   */
  vnic?: 'on' | 'off';
  /** Listen address of the vNIC listener; default loopback (127.0.0.1). */
  vnicHost?: string;
  /** Its port; 0 (default) picks a free one. */
  vnicPort?: number;
  /** iLOrest's application account at start (iLO 7): default 'present' (in the TPM and in iLO). */
  appAccount?: AppAccountState;
  /** App-account / vNIC fault knobs armed at start (see {@link AppFaults}). */
  appFaults?: AppFaults;
  /**
   * Frame answers with Content-Length (over HTTPS and CHIF) instead of chunked transfer coding,
   * which iLO 5 and later use and which is the default.
   */
  contentLength?: boolean;
  /**
   * How long an iLO reset (`Manager.Reset`, the control view's `POST /__sim/reset`, or
   * {@link Simulator.resetIlo}) takes the service away: connections refused, CHIF exchanges
   * answered 19 (ENODEV). Default 0 here (sessions end, nothing else); `ilo-agent simulate` says 30.
   */
  resetSeconds?: number;
  /**
   * How long the host's POST takes after a ComputerSystem.Reset that boots it (PostState and
   * BootProgress move through their states meanwhile; staged settings apply at FinishedPost).
   * Default 0 here (at once); `ilo-agent simulate` says 20.
   */
  postSeconds?: number;
  /**
   * A plain-HTTP listener on this port (0 picks a free one) that redirects every request to the
   * HTTPS one, as an iLO does. Unset: none.
   */
  httpPort?: number;
  logger?: Logger;
  /** Clock for session times and expiry, tasks, POST (tests); default Date.now. */
  clock?: () => number;
}

/** What `ilo-agent simulate` prints as its ready line. */
export interface SimulatorInfo {
  url: string;
  ca: string;
  control: string;
  chifSocket: string | null;
  /** The CHIF endpoint on loopback TCP and its secret (ILO_CHIF_EMULATOR_TCP / _SECRET), or null. */
  chifTcp: { address: string; secret: string } | null;
  /** iLO 7 with the vNIC on: the vNIC listener's URL; else null. */
  vnicUrl: string | null;
  /** PEM of the vNIC listener's own certificate (it names `ilo-simulator.local` only), or null. */
  vnicCa: string | null;
  /** With `httpPort`: the plain-HTTP listener (it only redirects to `url`); else null. */
  httpUrl: string | null;
}

export interface SimulatorState {
  profile: ProfileName;
  maxSessions: number;
  sessionTimeoutSeconds: number;
  sessions: SessionView[];
  /** Sessions that ended and how (which path deleted them), oldest first. */
  ended: EndedSession[];
  faults: FaultRule[];
  held: number;
  latency: { requestMs: number; loginMs: number };
  /** Requests and session POSTs received since start (over HTTPS and in-band alike). */
  counters: { requests: number; logins: number };
  chif: ChifState;
  app: AppState;
}

/** The iLO 7 side, in `state()` and `GET /__sim/state`. */
export interface AppState {
  vnicUrl: string | null;
  /** False while the `vnicDown` knob holds the listener closed. */
  vnicListening: boolean;
  accounts: AppAccountsView;
  faults: AppFaultsView;
  counters: AppCounters;
}

/** The in-band side, in `state()` and `GET /__sim/state`. */
export interface ChifState {
  /** The socket path, or null when the simulator has no CHIF endpoint. */
  socket: string | null;
  /** The loopback TCP address (`127.0.0.1:port`), or null; never the secret. */
  tcp: string | null;
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
  /**
   * The CHIF endpoint on loopback TCP: the emulator's ILO_CHIF_EMULATOR_TCP and
   * ILO_CHIF_EMULATOR_SECRET (a random secret per simulator), or null.
   */
  readonly chifTcp: { address: string; secret: string } | null;
  /** The vNIC listener's URL, null while the vNIC is disabled (it follows PATCH + `Manager.Reset`). */
  readonly vnicUrl: string | null;
  readonly vnicCa: string | null;
  readonly info: SimulatorInfo;
  /** The live session table (transient Basic sessions included while their request runs). */
  sessions(): SessionView[];
  /**
   * Every session that ended, in order, and how: deleted with its own token, with Basic, with
   * another session's token, on the in-band channel's trust; expired; ended by an iLO reset.
   */
  endedSessions(): EndedSession[];
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
  /** The iLO 7 side: application accounts and vNIC knobs. */
  readonly app: {
    /** Merges knobs in (null clears one) and applies vnicDown at once; answers the knobs in force. */
    setFaults(faults: AppFaults): Promise<AppFaultsView>;
    clearFaults(): Promise<void>;
    faults(): AppFaultsView;
    /** Puts iLOrest's own account in a state (present, absent, inactive, orphan). */
    setAccount(state: AppAccountState): void;
    accounts(): AppAccountsView;
    counters(): AppCounters;
  };
  /** Ends every session now, as an idle timeout would. Answers how many ended. */
  expireSessions(): number;
  /** Throws, listing them, when any session is left in the table. */
  assertNoSessions(): void;
  /** An iLO reset now: every session ends, the service is away for `seconds` (default the option's). */
  resetIlo(seconds?: number): void;
  /** True while a reset keeps the service away. */
  readonly resetting: boolean;
  close(): Promise<void>;
}

export const DEFAULT_USERS: Readonly<Record<string, string>> = { Administrator: 'password' };

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  // A mockup is read first when it has to pick the profile.
  const mockup = options.mockupDir ? ResourceStore.fromMockup(options.mockupDir) : undefined;
  const mockupProfile = `ilo${mockup?.generation() ?? ''}`;
  const profileName = options.profile ?? (isProfileName(mockupProfile) ? mockupProfile : 'ilo6');
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

  const vnicEnabled = profile.inband === 'vnic' && (options.vnic ?? 'on') === 'on';
  if (options.vnic !== undefined && options.vnic !== 'on' && options.vnic !== 'off') throw new InvalidInputError('vnic must be on or off');
  const appAccountState = options.appAccount ?? (profile.inband === 'vnic' ? 'present' : 'absent');
  if (!APP_ACCOUNT_STATES.includes(appAccountState)) throw new InvalidInputError(`appAccount must be one of ${APP_ACCOUNT_STATES.join(', ')}`);
  const appAccounts = new AppAccountStore(appAccountState);
  const appKnobs = new AppFaultKnobs();
  if (options.appFaults) appKnobs.set(options.appFaults);

  const store = mockup ?? ResourceStore.fromTree(builtinTree(profile, [...users.keys()], { vnicEnabled }));
  const clock = options.clock ?? Date.now;
  const settings = new SettingsObjects(store, profile.etagStyle, clock);
  const postMs = checkWhole('postSeconds', options.postSeconds ?? 0, 0) * 1000;
  const power = new PowerControl({
    store,
    postMs,
    clock,
    onPostFinished: () => {
      const applied = settings.applyAll();
      if (applied.length > 0) log.info({ applied }, 'POST finished: staged settings applied');
    },
  });
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
    onManagerReset: () => resetIlo(),
    power,
    settings,
    tasks: new TaskBoard(checkWhole('taskMs', options.taskMs ?? 2_000, 0), () => ({ status: 500, body: envelope(profile, 'Base', 'InternalError'), headers: {} }), options.clock),
    ...(profile.inband === 'vnic' ? { appAccounts, onVnicPatch: (enabled: boolean) => writeVnicSetting(store, enabled) } : {}),
    log,
  });
  // A mockup's captured setting yields to the option; from here on it changes by PATCH + reset.
  if (profile.inband === 'vnic') writeVnicSetting(store, vnicEnabled);

  let origin = '';
  let vnicFront: HttpsFront | undefined;
  const app: AppEndpoint = new AppEndpoint({
    profile,
    store: appAccounts,
    service,
    users,
    knobs: appKnobs,
    vnicUrl: () => vnicFront?.url ?? null,
    securityStateByte: () => ({ production: 3, highsecurity: 4, fips: 5 })[securityState],
    chifMissing: (): boolean => chif.knobs.ping === 19 || chif.knobs.create === 19,
    hold: () => faults.hold(),
    log: log.child({ component: 'app-accounts' }),
  });
  const chif: ChifCore = new ChifCore({
    service,
    users,
    securityState,
    faults,
    origin: () => origin,
    app,
    chifPresent: profile.inband === 'chif',
    contentLength: options.contentLength === true,
    log: log.child({ component: 'chif' }),
  });
  if (options.chifFaults) chif.knobs.set(options.chifFaults);
  const chifSocket = options.chifSocket === undefined ? null : resolve(options.chifSocket);
  let tcpEndpoint: ChifEndpoint | undefined;

  const controlToken = randomBytes(24).toString('hex');
  const { cert, key } = makeSelfSignedCertificate([host]);

  const state = (): SimulatorState => ({
    profile: profile.name,
    maxSessions: sessions.maxSessions,
    sessionTimeoutSeconds: sessions.timeoutMs / 1000,
    sessions: sessions.list().map((s) => sessions.view(s)),
    ended: sessions.ended(),
    faults: faults.rules(),
    held: faults.held,
    latency: { requestMs: faults.latencyMs, loginMs: faults.loginLatencyMs },
    counters: { ...service.counters },
    chif: {
      socket: chifSocket,
      tcp: tcpEndpoint?.path ?? null,
      securityState,
      inbandLocation,
      faults: chif.knobs.view(),
      counters: structuredClone(chif.counters),
      blobs: { keys: chif.blobs.count, bytes: chif.blobs.bytes },
    },
    app: {
      vnicUrl: vnicFront?.url ?? null,
      vnicListening: vnicFront !== undefined && !appKnobs.vnicDown,
      accounts: appAccounts.view(),
      faults: appKnobs.view(),
      counters: { ...app.counters },
    },
  });
  const expireSessions = () => sessions.expireAll();
  // vnicDown closes the listener (connects are refused) and reopens it on the same port.
  const setAppFaults = async (input: AppFaults): Promise<AppFaultsView> => {
    const view = appKnobs.set(input);
    await vnicFront?.setListening(!appKnobs.vnicDown);
    return view;
  };
  const clearAppFaults = async () => {
    appKnobs.clear();
    await vnicFront?.setListening(true);
  };
  const controls = { state, faults, setLatency, expireSessions, resetIlo: (seconds?: number) => resetIlo(seconds), chif, setAppFaults, clearAppFaults, setAccount: (s: AppAccountState) => appAccounts.setSelf(s) };

  const front = await startHttpsFront({
    host,
    port: options.port ?? 0,
    cert,
    key,
    faults,
    log,
    control: async (request) => control(request, controlToken, controls),
    handle: (request) => service.handle(request),
    contentLength: options.contentLength === true,
    unknownMethod: () => service.unknownMethodResponse(),
    // Gated so that an iLO reset can refuse connections on the same port.
    gate: () => 'pass',
  });
  origin = front.url;
  let vnicCert: { cert: string; key: string } | undefined;
  let vnicPort = options.vnicPort ?? 0;
  const startVnic = async () => {
    // iLO's certificate names iLO, not the vNIC address (docs/reference/ilo7-inband.md §4.4): so does this one.
    vnicCert ??= makeSelfSignedCertificate(['ilo-simulator.local'], { onlyHosts: true });
    vnicFront = await startHttpsFront({
      host: options.vnicHost ?? '127.0.0.1',
      port: vnicPort,
      cert: vnicCert.cert,
      key: vnicCert.key,
      faults,
      log,
      transport: 'vnic',
      gate: () => (appKnobs.vnicHang ? 'hold' : appKnobs.vnicTlsFail ? 'garbage' : appKnobs.vnicTlsRefuse ? 'refuse' : 'pass'),
      control: async (request) => control(request, controlToken, controls),
      handle: (request) => service.handle(request),
      contentLength: options.contentLength === true,
      unknownMethod: () => service.unknownMethodResponse(),
    });
    vnicPort = Number(new URL(vnicFront.url).port); // re-enabled later: the same port
    if (appKnobs.vnicDown) await vnicFront.setListening(false);
  };
  // After an iLO reset the stored VirtualNICEnabled takes effect (HPE's vNIC page: PATCH, then reset).
  // One change at a time, and close() waits for the one in flight (no listener outlives close).
  let closing = false;
  let vnicChange = Promise.resolve();
  const applyVnicSetting = () => (vnicChange = vnicChange.then(changeVnic));
  const changeVnic = async () => {
    const wanted = readVnicSetting(store);
    try {
      if (closing || wanted === (vnicFront !== undefined)) return;
      if (wanted) {
        await startVnic();
      } else {
        const stopping = vnicFront;
        vnicFront = undefined;
        await stopping?.close();
      }
      log.info({ vnicUrl: vnicFront?.url ?? null }, wanted ? 'vNIC enabled by the iLO reset' : 'vNIC disabled by the iLO reset');
    } catch (error) {
      log.error({ err: error }, 'the vNIC listener could not follow the iLO reset');
    }
  };
  // An iLO reset: every session ends at once; with resetSeconds > 0 the service is away that
  // long (new connections refused, open ones cut once the reset's own answer is out, CHIF
  // exchanges answered ENODEV), then serves again with an empty table.
  const resetDefault = checkWhole('resetSeconds', options.resetSeconds ?? 0, 0);
  let resetTimer: NodeJS.Timeout | undefined;
  let resetEnd: (() => Promise<void>) | undefined;
  const resetIlo = (seconds: number = resetDefault) => {
    checkWhole('seconds', seconds, 0);
    setImmediate(() => {
      log.info({ ended: sessions.expireAll('reset'), seconds }, 'iLO reset: all sessions ended');
      if (seconds === 0 || closing) {
        if (!resetEnd) void applyVnicSetting();
        return;
      }
      chif.resetting = true;
      if (resetTimer) clearTimeout(resetTimer); // a reset during a reset starts the wait again
      else {
        void front.setListening(false, RESET_GRACE_MS);
        void vnicFront?.setListening(false, RESET_GRACE_MS);
      }
      resetEnd = async () => {
        resetTimer = undefined;
        resetEnd = undefined;
        chif.resetting = false;
        if (closing) return;
        sessions.expireAll('reset');
        await front.setListening(true);
        if (!appKnobs.vnicDown) await vnicFront?.setListening(true);
        log.info('iLO reset over: serving again');
        void applyVnicSetting();
      };
      const end = resetEnd;
      resetTimer = setTimeout(() => void end().catch((error: unknown) => log.error({ err: error }, 'the iLO reset could not end')), seconds * 1000);
    });
  };
  let endpoint: ChifEndpoint | undefined;
  let http: HttpRedirect | undefined;
  const tcpSecret = randomBytes(24).toString('hex');
  try {
    if (vnicEnabled) await startVnic();
    if (options.chifSocket !== undefined) endpoint = await startChifEndpoint({ path: options.chifSocket, core: chif, log });
    if (options.chifTcp !== undefined) tcpEndpoint = await startChifTcpEndpoint({ port: options.chifTcp.port ?? 0, secret: tcpSecret, core: chif, log });
    if (options.httpPort !== undefined) {
      http = await startHttpRedirect({ host, port: checkWhole('httpPort', options.httpPort, 0), httpsPort: () => Number(new URL(front.url).port || 443), log });
    }
  } catch (error) {
    await endpoint?.close();
    await vnicFront?.close();
    await front.close();
    throw error;
  }
  const tcpInfo = tcpEndpoint ? { address: tcpEndpoint.path, secret: tcpSecret } : null;
  const httpUrl = http?.url ?? null;
  log.info({ url: front.url, vnicUrl: vnicFront?.url ?? null, profile: profile.name, maxSessions, mockup: options.mockupDir ?? null, chifSocket, chifTcp: tcpInfo?.address ?? null, securityState }, 'simulator ready');

  let closed: Promise<void> | undefined;
  return {
    url: front.url,
    ca: cert,
    controlToken,
    chifSocket,
    chifTcp: tcpInfo,
    get vnicUrl() {
      return vnicFront?.url ?? null;
    },
    get vnicCa() {
      return vnicFront ? (vnicCert?.cert ?? null) : null;
    },
    get info(): SimulatorInfo {
      return { url: front.url, ca: cert, control: controlToken, chifSocket, chifTcp: tcpInfo, vnicUrl: vnicFront?.url ?? null, vnicCa: vnicFront ? (vnicCert?.cert ?? null) : null, httpUrl };
    },
    sessions: () => state().sessions,
    endedSessions: () => sessions.ended(),
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
    app: {
      setFaults: setAppFaults,
      clearFaults: clearAppFaults,
      faults: () => appKnobs.view(),
      setAccount: (s) => appAccounts.setSelf(s),
      accounts: () => appAccounts.view(),
      counters: () => ({ ...app.counters }),
    },
    expireSessions,
    resetIlo,
    get resetting() {
      return resetEnd !== undefined;
    },
    assertNoSessions() {
      const left = state().sessions;
      if (left.length > 0) {
        throw new Error(`${left.length} session(s) left on the simulator: ${left.map((s) => `${s.id} (${s.user}, ${s.tag})`).join(', ')}`);
      }
    },
    // The CHIF endpoint first: its held answers are then dropped when the front aborts them.
    close: () =>
      (closed ??= (async () => {
        closing = true;
        if (resetTimer) clearTimeout(resetTimer);
        resetEnd = undefined;
        await endpoint?.close();
        await tcpEndpoint?.close();
        await http?.close();
        await vnicChange;
        await vnicFront?.close();
        await front.close();
        log.info('simulator closed');
      })()),
  };
}

const MANAGER = '/redfish/v1/managers/1';
/** How long connections open at a reset live on: the reset's own answer gets out first. */
const RESET_GRACE_MS = 250;
const HOST_INTERFACE = '/redfish/v1/managers/1/hostinterfaces/1';

/** The vNIC setting as stored: Managers/1 `Oem.Hpe.VirtualNICEnabled` (mirrored in HostInterfaces/1). */
function readVnicSetting(store: ResourceStore): boolean {
  const hpe = (store.get(MANAGER)?.json.Oem as { Hpe?: { VirtualNICEnabled?: unknown } } | undefined)?.Hpe;
  return hpe?.VirtualNICEnabled !== false;
}

/** Writes the setting into both resources that show it (either may be PATCHed; they are one setting). */
export function writeVnicSetting(store: ResourceStore, enabled: boolean): void {
  const manager = store.get(MANAGER);
  const oem = manager?.json.Oem as { Hpe?: Record<string, unknown> } | undefined;
  if (manager && oem?.Hpe && 'VirtualNICEnabled' in oem.Hpe) {
    store.replace(manager, { ...manager.json, Oem: { ...oem, Hpe: { ...oem.Hpe, VirtualNICEnabled: enabled } } });
  }
  const hostInterface = store.get(HOST_INTERFACE);
  if (hostInterface && 'InterfaceEnabled' in hostInterface.json) store.replace(hostInterface, { ...hostInterface.json, InterfaceEnabled: enabled });
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
  resetIlo(seconds?: number): void;
  chif: ChifCore;
  setAppFaults(faults: AppFaults): Promise<AppFaultsView>;
  clearAppFaults(): Promise<void>;
  setAccount(state: AppAccountState): void;
}

/**
 * The control view for tests and checks, under `/__sim/`. Without the right `X-Sim-Control`
 * header it does not exist: such requests go to the Redfish service like any other path.
 */
async function control(request: SimRequest, token: string, controls: Controls): Promise<SimResponse | undefined> {
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
      case 'POST /__sim/reset': {
        const seconds = isJsonObject(input) ? input.seconds : undefined;
        if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)) {
          return json(400, { error: 'seconds must be a whole number of seconds, 0 or more' });
        }
        controls.resetIlo(seconds as number | undefined);
        return json(200, { resetting: true });
      }
      case 'POST /__sim/release':
        return json(200, { released: controls.faults.release() });
      case 'GET /__sim/chif-faults':
        return json(200, controls.chif.knobs.view());
      case 'PUT /__sim/chif-faults':
        return json(200, controls.chif.knobs.set(input as ChifFaults));
      case 'DELETE /__sim/chif-faults':
        controls.chif.knobs.clear();
        return json(200, {});
      case 'GET /__sim/app-faults':
        return json(200, controls.state().app.faults);
      case 'PUT /__sim/app-faults':
        return json(200, await controls.setAppFaults(input as AppFaults));
      case 'DELETE /__sim/app-faults':
        await controls.clearAppFaults();
        return json(200, {});
      case 'PUT /__sim/app-account': {
        const wanted = (input as { state?: unknown }).state;
        controls.setAccount(wanted as AppAccountState);
        return json(200, controls.state().app.accounts);
      }
      default:
        return json(404, { error: `no control endpoint ${method} ${key}` });
    }
  } catch (error) {
    if (error instanceof InvalidInputError) return json(400, { error: error.message });
    throw error;
  }
}
