// startSimulator(): one self-contained simulated iLO. Every instance owns its own state, so
// tests may run several side by side. This file wires the parts together and holds the
// lifecycle (the vNIC listener following its setting, iLO resets, close); the options and the
// handle's shape are in simulator-api.ts, the `/__sim/` control view in control-view.ts.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { silentLogger } from '../log/logger.js';
import { builtinTree } from './builtin-tree.js';
import { makeSelfSignedCertificate } from './certificate.js';
import { ChifCore, SECURITY_STATES } from './chif-core.js';
import { checkSocketPath, startChifEndpoint, startChifTcpEndpoint, type ChifEndpoint } from './chif-endpoint.js';
import { APP_ACCOUNT_STATES, AppAccountStore, type AppAccountState } from './app-accounts.js';
import { AppEndpoint } from './app-endpoint.js';
import { AppFaultKnobs, type AppFaults, type AppFaultsView } from './app-faults.js';
import { control } from './control-view.js';
import { FaultController } from './faults.js';
import { startHttpRedirect, type HttpRedirect } from './http-redirect.js';
import { startHttpsFront, type HttpsFront } from './https-front.js';
import { isProfileName, PROFILES } from './profiles.js';
import { RedfishService } from './redfish-service.js';
import { ResourceStore } from './resource-store.js';
import { SessionTable } from './sessions.js';
import { DEFAULT_USERS, type Simulator, type SimulatorInfo, type SimulatorOptions, type SimulatorState } from './simulator-api.js';
import { TaskBoard } from './tasks.js';
import { PowerControl } from './power.js';
import { SettingsObjects } from './settings.js';
import { envelope } from './envelopes.js';
import { readVnicSetting, writeVnicSetting } from './vnic-setting.js';

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

/** How long connections open at a reset live on: the reset's own answer gets out first. */
const RESET_GRACE_MS = 250;

function checkWhole(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new InvalidInputError(`${name} must be a whole number >= ${min}; got ${value}`);
  return value;
}
