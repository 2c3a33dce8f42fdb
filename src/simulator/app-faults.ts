// The app-account fault knobs: failure modes of the vNIC and of HPE's library that the
// app-account endpoint (app-endpoint.ts) and the vNIC listener reproduce on demand.
import { InvalidInputError } from '../errors.js';

/**
 * Faults of the vNIC and of HPE's library, each reproducing a failure mode a client must
 * report (docs/reference/ilo7-inband.md §6). Set through `startSimulator({ appFaults })`, `sim.app.setFaults()` or
 * `PUT /__sim/app-faults`; setting merges, null clears a knob.
 */
export interface AppFaults {
  /** The vNIC listener refuses connections (link down); ReadyToUse and GetSessionID fail. */
  vnicDown?: boolean | null;
  /** The vNIC listener accepts TCP connections and never answers (a connect/handshake that hangs). */
  vnicHang?: boolean | null;
  /** The vNIC listener answers the TLS ClientHello with bytes that are not TLS and closes (a handshake failure). */
  vnicTlsFail?: boolean | null;
  /**
   * The vNIC listener speaks TLS but accepts only TLS 1.0, which clients no longer offer: their
   * ClientHello is refused with an alert (a server stricter than the client, as an iLO whose
   * security state requires what the client lacks).
   */
  vnicTlsRefuse?: boolean | null;
  /** The next N GetSessionID calls answer 0 with NULL outputs and make no session (TPM contention). */
  sessionContention?: number | null;
  /** The next `times` GetSessionID calls (default 1) make a session, then answer `rc` with NULL outputs (leak test). A number is `{ rc }`. */
  sessionCreateThenFail?: { rc: number; times?: number } | number | null;
  /** GetSessionID answers after this delay. */
  sessionDelayMs?: number | null;
  /**
   * The next GetSessionID is held until the simulator's `faults.release()` (it counts in
   * `faults.held`): `before` making its session, or `after` (the session made, the answer pending).
   */
  sessionHold?: 'before' | 'after' | null;
  /** What GetIPAddress answers instead of the vNIC listener's host ('' for an empty string). */
  ipAddress?: string | null;
  /** The next GenerateAppToken or ReactivateAppToken answers this code and does nothing (e.g. -53, -54, -63, 1). */
  generateRc?: number | null;
  /** AppIdExistsinTPM answers this code until cleared (a call error). */
  existsRc?: number | null;
  /** DeleteAppToken(UsingCreds) also removes the iLO account (HPE's behaviour here is unknown). */
  deleteRemovesIlo?: boolean | null;
}

export interface AppFaultsView {
  vnicDown?: true;
  vnicHang?: true;
  vnicTlsFail?: true;
  vnicTlsRefuse?: true;
  sessionContention?: number;
  sessionCreateThenFail?: { rc: number; times: number };
  sessionDelayMs?: number;
  sessionHold?: 'before' | 'after';
  ipAddress?: string;
  generateRc?: number;
  existsRc?: number;
  deleteRemovesIlo?: true;
}

const KNOBS = ['vnicDown', 'vnicHang', 'vnicTlsFail', 'vnicTlsRefuse', 'sessionContention', 'sessionCreateThenFail', 'sessionDelayMs', 'sessionHold', 'ipAddress', 'generateRc', 'existsRc', 'deleteRemovesIlo'];
const I32_MIN = -0x80000000;
const I32_MAX = 0x7fffffff;

function whole(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`app fault ${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
  return value;
}

function flag(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidInputError(`app fault ${name} must be true, false or null`);
  return value;
}

export class AppFaultKnobs {
  #v: AppFaultsView = {};

  /** Validates everything first, then applies: a bad knob changes nothing. */
  set(input: AppFaults): AppFaultsView {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw new InvalidInputError('app faults must be an object');
    const unknown = Object.keys(input).filter((k) => !KNOBS.includes(k));
    if (unknown.length > 0) throw new InvalidInputError(`unknown app fault(s): ${unknown.join(', ')}; known: ${KNOBS.join(', ')}`);
    const next: AppFaultsView = { ...this.#v };
    for (const key of ['vnicDown', 'vnicHang', 'vnicTlsFail', 'vnicTlsRefuse', 'deleteRemovesIlo'] as const) {
      const value = input[key];
      if (value === null || value === false) delete next[key];
      else if (value !== undefined && flag(key, value)) next[key] = true;
    }
    for (const key of ['generateRc', 'existsRc'] as const) {
      const value = input[key];
      if (value === null) delete next[key];
      else if (value !== undefined) next[key] = whole(key, value, I32_MIN, I32_MAX);
    }
    if (input.sessionContention === null || input.sessionContention === 0) delete next.sessionContention;
    else if (input.sessionContention !== undefined) next.sessionContention = whole('sessionContention', input.sessionContention, 0, 1000);
    if (input.sessionDelayMs === null) delete next.sessionDelayMs;
    else if (input.sessionDelayMs !== undefined) next.sessionDelayMs = whole('sessionDelayMs', input.sessionDelayMs, 0, 600_000);
    if (input.sessionHold === null) delete next.sessionHold;
    else if (input.sessionHold !== undefined) {
      if (input.sessionHold !== 'before' && input.sessionHold !== 'after') throw new InvalidInputError('app fault sessionHold must be before, after or null');
      next.sessionHold = input.sessionHold;
    }
    if (input.ipAddress === null) delete next.ipAddress;
    else if (input.ipAddress !== undefined) {
      if (typeof input.ipAddress !== 'string' || input.ipAddress.length > 255) throw new InvalidInputError('app fault ipAddress must be a string of at most 255 characters, or null');
      next.ipAddress = input.ipAddress;
    }
    const leak = input.sessionCreateThenFail;
    if (leak === null) {
      delete next.sessionCreateThenFail;
    } else if (typeof leak === 'number') {
      next.sessionCreateThenFail = { rc: whole('sessionCreateThenFail', leak, I32_MIN, I32_MAX), times: 1 };
    } else if (leak !== undefined) {
      if (!leak || typeof leak !== 'object' || Array.isArray(leak)) throw new InvalidInputError('app fault sessionCreateThenFail must be a number or { rc, times }');
      const extra = Object.keys(leak).filter((k) => k !== 'rc' && k !== 'times');
      if (extra.length > 0) throw new InvalidInputError(`unknown field(s) in app fault sessionCreateThenFail: ${extra.join(', ')}`);
      next.sessionCreateThenFail = { rc: whole('sessionCreateThenFail.rc', leak.rc, I32_MIN, I32_MAX), times: whole('sessionCreateThenFail.times', leak.times ?? 1, 1, 1000) };
    }
    if (next.sessionCreateThenFail?.rc === 0) throw new InvalidInputError('app fault sessionCreateThenFail.rc must not be 0 (use sessionContention for 0 with empty outputs)');
    this.#v = next;
    return this.view();
  }

  clear(): void {
    this.#v = {};
  }

  view(): AppFaultsView {
    return structuredClone(this.#v);
  }

  get vnicDown(): boolean {
    return this.#v.vnicDown === true;
  }
  get vnicHang(): boolean {
    return this.#v.vnicHang === true;
  }
  get vnicTlsFail(): boolean {
    return this.#v.vnicTlsFail === true;
  }
  get vnicTlsRefuse(): boolean {
    return this.#v.vnicTlsRefuse === true;
  }
  get sessionDelayMs(): number {
    return this.#v.sessionDelayMs ?? 0;
  }
  get ipAddress(): string | undefined {
    return this.#v.ipAddress;
  }
  get existsRc(): number | undefined {
    return this.#v.existsRc;
  }
  get deleteRemovesIlo(): boolean {
    return this.#v.deleteRemovesIlo === true;
  }

  takeContention(): boolean {
    if (!this.#v.sessionContention) return false;
    if (--this.#v.sessionContention <= 0) delete this.#v.sessionContention;
    return true;
  }

  takeCreateThenFail(): number | undefined {
    const armed = this.#v.sessionCreateThenFail;
    if (!armed) return undefined;
    if (--armed.times <= 0) delete this.#v.sessionCreateThenFail;
    return armed.rc;
  }

  takeHold(): 'before' | 'after' | undefined {
    const stage = this.#v.sessionHold;
    delete this.#v.sessionHold;
    return stage;
  }

  takeGenerateRc(): number | undefined {
    const rc = this.#v.generateRc;
    delete this.#v.generateRc;
    return rc;
  }
}
