// The simulator's public shapes: the options startSimulator() takes, the handle it answers
// (the test-facing API: sessions, faults, CHIF and iLO 7 knobs, reset, close) and the state it
// reports (`state()`, `GET /__sim/state`). The behaviour lives in simulator.ts.
import type { Logger } from 'pino';
import type { ChifCounters, SecurityState } from './chif-core.js';
import type { ChifFaults, ChifFaultsView } from './chif-faults.js';
import type { AppAccountState, AppAccountsView } from './app-accounts.js';
import type { AppCounters } from './app-endpoint.js';
import type { AppFaults, AppFaultsView } from './app-faults.js';
import type { FaultRule } from './faults.js';
import type { ProfileName } from './profiles.js';
import type { InbandLocation } from './redfish-service.js';
import type { EndedSession, SessionView } from './sessions.js';

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
