// The app-account side of the emulator socket: the far end of the emulator's DetectILO,
// ReadyToUse, AppIdExistsinTPM, GenerateAppToken, ReactivateAppToken, DeleteAppToken(UsingCreds),
// GetSessionID, ExpandAppid, GetIPAddress and CompareAppIds (native-bindings/PROTOCOL.md,
// "App-account ops"). Frames are those of the CHIF endpoint; strings are `u16 n` + UTF-8, with
// n = 0xFFFF for NULL. Every answer starts with the function's `i32 rc`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  allPrivileges,
  APP_RC,
  ILO_TYPE_NO_DRIVER,
  ILO_TYPE_VNIC_DISABLED,
  ILOREST_APP_NAME,
  SELF_REGISTER,
  VNIC_HOST_ADDRESS,
  type AppAccountStore,
} from './app-accounts.js';
import type { AppFaultKnobs } from './app-faults.js';
import type { Profile } from './profiles.js';
import type { RedfishService } from './redfish-service.js';

export const APP_OPS = {
  detect: 16,
  ready: 17,
  exists: 18,
  generate: 19,
  reactivate: 20,
  delete: 21,
  deleteWithCreds: 22,
  session: 23,
  expand: 24,
  address: 25,
  compare: 26,
} as const;
export type AppOpName = keyof typeof APP_OPS;
const OP_NAMES = new Map<number, AppOpName>(Object.entries(APP_OPS).map(([k, v]) => [v, k as AppOpName]));

const NULL_STRING = 0xffff;

export interface AppEndpointOptions {
  profile: Profile;
  store: AppAccountStore;
  service: RedfishService;
  users: ReadonlyMap<string, string>;
  knobs: AppFaultKnobs;
  /** The vNIC listener's origin (`https://host:port`), or null when the vNIC is off. */
  vnicUrl(): string | null;
  /** DetectILO on iLO 5/6: the security state byte (3 production, 4 high security, 5 FIPS). */
  securityStateByte(): number;
  /** DetectILO on iLO 5/6: true when a CHIF knob says "no driver" (19). */
  chifMissing(): boolean;
  /** Waits until the simulator's faults are released (the `sessionHold` knob). */
  hold(): Promise<void>;
  log: Logger;
}

export type AppCounters = Record<AppOpName | 'bad', number>;

/** A payload that cannot be read. */
class BadFrame extends Error {}

class Reader {
  #at = 0;
  constructor(private readonly buf: Buffer) {}
  string(): string | null {
    if (this.buf.length < this.#at + 2) throw new BadFrame('short string length');
    const n = this.buf.readUInt16LE(this.#at);
    this.#at += 2;
    if (n === NULL_STRING) return null;
    if (this.buf.length < this.#at + n) throw new BadFrame('short string');
    const text = this.buf.toString('utf8', this.#at, this.#at + n);
    this.#at += n;
    return text;
  }
}

function i32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32LE(value);
  return out;
}

function str(value: string | null): Buffer {
  if (value === null) return i16null();
  const bytes = Buffer.from(value, 'utf8');
  const head = Buffer.alloc(2);
  head.writeUInt16LE(Math.min(bytes.length, NULL_STRING - 1));
  return Buffer.concat([head, bytes.subarray(0, NULL_STRING - 1)]);
}

function i16null(): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16LE(NULL_STRING);
  return out;
}

export class AppEndpoint {
  readonly counters: AppCounters = { detect: 0, ready: 0, exists: 0, generate: 0, reactivate: 0, delete: 0, deleteWithCreds: 0, session: 0, expand: 0, address: 0, compare: 0, bad: 0 };
  readonly #o: AppEndpointOptions;

  constructor(options: AppEndpointOptions) {
    this.#o = options;
  }

  handles(op: number): boolean {
    return OP_NAMES.has(op);
  }

  /** The answer payload (after the op byte) to one app-account frame. */
  async answer(op: number, payload: Buffer, signal: AbortSignal): Promise<Buffer> {
    const name = OP_NAMES.get(op);
    if (!name) throw new Error(`not an app-account op: ${op}`);
    const r = new Reader(payload);
    try {
      this.counters[name]++;
      switch (name) {
        case 'detect':
          return this.#detect(r.string());
        case 'ready':
          return i32(this.#vnicUp() ? APP_RC.ok : APP_RC.failed);
        case 'exists':
          return this.#exists(r.string());
        case 'generate':
        case 'reactivate':
          return i32(this.#generate(name, r.string(), r.string(), r.string(), r.string(), r.string()));
        case 'delete': {
          const [appid, appname, salt] = [r.string(), r.string(), r.string()];
          return i32(appname === null || salt === null ? APP_RC.invalidParameters : this.#delete(appid));
        }
        case 'deleteWithCreds': {
          const [appid, user, password] = [r.string(), r.string(), r.string()];
          return i32(this.#checkUser(user, password) ? this.#delete(appid) : APP_RC.invalidCredentials);
        }
        case 'session':
          return await this.#session(r.string(), r.string(), r.string(), signal);
        case 'expand':
          return this.#expand(r.string());
        case 'address': {
          const forced = this.#o.knobs.ipAddress;
          if (forced !== undefined) return Buffer.concat([i32(APP_RC.ok), str(forced)]);
          const url = this.#o.vnicUrl();
          return url === null ? Buffer.concat([i32(APP_RC.failed), str(null)]) : Buffer.concat([i32(APP_RC.ok), str(new URL(url).hostname.replace(/^\[|\]$/g, ''))]);
        }
        case 'compare':
          return this.#compare(r.string());
      }
    } catch (error) {
      if (!(error instanceof BadFrame)) throw error;
      this.counters.bad++;
      this.#o.log.warn({ op, reason: error.message }, 'bad app-account frame');
      return i32(APP_RC.invalidParameters);
    }
  }

  get #isVnic(): boolean {
    return this.#o.profile.inband === 'vnic';
  }

  #vnicUp(): boolean {
    return this.#isVnic && this.#o.vnicUrl() !== null && !this.#o.knobs.vnicDown;
  }

  #checkUser(user: string | null, password: string | null): boolean {
    return user !== null && password !== null && this.#o.users.get(user) === password;
  }

  /** rc, type, state. */
  #detect(appid: string | null): Buffer {
    const answer = (rc: number, type: number, state: number) => Buffer.concat([i32(rc), i32(type), i32(state)]);
    if (appid === null) return answer(APP_RC.invalidParameters, 0, 0);
    const { profile, store } = this.#o;
    if (!this.#isVnic) {
      if (this.#o.chifMissing()) return answer(APP_RC.failed, ILO_TYPE_NO_DRIVER, 0);
      return answer(APP_RC.ok, profile.generation, this.#o.securityStateByte());
    }
    if (this.#o.vnicUrl() === null) return answer(APP_RC.vnicDisabled, ILO_TYPE_VNIC_DISABLED, 0);
    const id = store.resolve(appid);
    if (id === undefined || (appid !== SELF_REGISTER && !store.known(id))) return answer(APP_RC.invalidParameters, 0, 0);
    // The state is printed by HPE's tools only below iLO 7; 0 is what public notes show (unverified).
    return answer(APP_RC.ok, profile.generation, 0);
  }

  #exists(appid: string | null): Buffer {
    const answer = (rc: number, exists: boolean) => Buffer.concat([i32(rc), Buffer.from([exists ? 1 : 0])]);
    if (appid === null) return answer(APP_RC.invalidParameters, false);
    if (this.#o.knobs.existsRc !== undefined) return answer(this.#o.knobs.existsRc, false);
    const id = this.#o.store.resolve(appid);
    return answer(APP_RC.ok, id !== undefined && this.#o.store.tpm(id) !== undefined);
  }

  #generate(kind: 'generate' | 'reactivate', appid: string | null, appname: string | null, salt: string | null, user: string | null, password: string | null): number {
    const { store, knobs, log } = this.#o;
    if (appid === null || appname === null || salt === null) return APP_RC.invalidParameters;
    if (!this.#isVnic) return APP_RC.failed; // app accounts exist from iLO 7 on
    const forced = knobs.takeGenerateRc();
    if (forced !== undefined) return forced;
    if (!this.#checkUser(user, password)) return APP_RC.invalidCredentials;
    const id = store.resolve(appid);
    if (id === undefined) return APP_RC.failed;
    const entry = store.tpm(id);
    if (kind === 'reactivate') {
      if (!entry) return APP_RC.failed;
      entry.active = true;
      log.info({ appid: id.slice(-4) }, 'app token reactivated');
      return APP_RC.ok;
    }
    if (entry) return APP_RC.alreadyExists;
    // An account left in iLO after the TPM was cleared: HPE documents create failing as a TPM
    // save error until the orphan is deleted (gowrong.md; the exact code is unverified).
    if (store.iloOf(id)) return APP_RC.savingInTpm;
    store.putTpm({ id, name: appname, salt, active: true });
    store.addIlo(id, appid === SELF_REGISTER ? ILOREST_APP_NAME : appname, allPrivileges());
    log.info({ appid: id.slice(-4) }, 'app account created');
    return APP_RC.ok;
  }

  /** Removes the TPM token (and, with the knob, iLO's account). */
  #delete(appid: string | null): number {
    const { store, knobs, log } = this.#o;
    if (appid === null) return APP_RC.invalidParameters;
    const id = store.resolve(appid);
    if (id === undefined || !store.deleteTpm(id)) return APP_RC.failed;
    if (knobs.deleteRemovesIlo) {
      const account = store.iloOf(id);
      if (account) store.deleteIlo(account.memberId);
    }
    log.info({ appid: id.slice(-4) }, 'app token deleted');
    return APP_RC.ok;
  }

  /** rc, token (or NULL), absolute location (or NULL). */
  async #session(appid: string | null, appname: string | null, salt: string | null, signal: AbortSignal): Promise<Buffer> {
    const { store, knobs, service, log } = this.#o;
    const fail = (rc: number) => Buffer.concat([i32(rc), str(null), str(null)]);
    if (appid === null || appname === null || salt === null) return fail(APP_RC.invalidParameters);
    if (knobs.sessionDelayMs > 0) await sleep(knobs.sessionDelayMs, undefined, { signal });
    const hold = knobs.takeHold();
    if (hold === 'before') await this.#o.hold();
    if (knobs.takeContention()) return Buffer.concat([i32(APP_RC.ok), str(null), str(null)]);
    const id = store.resolve(appid);
    const entry = id === undefined ? undefined : store.tpm(id);
    if (!entry || entry.salt !== salt || entry.name !== appname) return fail(APP_RC.failed);
    if (!entry.active) return fail(APP_RC.inactiveToken);
    const origin = this.#o.vnicUrl();
    if (!this.#vnicUp() || origin === null) return fail(APP_RC.failed);
    const made = service.createAppSession(store.displayName(entry.id), VNIC_HOST_ADDRESS);
    // The library's answer at the session cap is not public (unverified): a plain failure.
    if (made === 'full') return fail(APP_RC.failed);
    const leak = knobs.takeCreateThenFail();
    if (leak !== undefined) {
      log.info({ id: made.id }, 'GetSessionID fault: session made, failure answered');
      return fail(leak);
    }
    if (hold === 'after') await this.#o.hold();
    return Buffer.concat([i32(APP_RC.ok), str(made.token), str(`${origin}${made.uri}`)]);
  }

  #expand(appid4: string | null): Buffer {
    if (appid4 === null) return Buffer.concat([i32(APP_RC.invalidParameters), str(null)]);
    const { store } = this.#o;
    const lower = appid4.toLowerCase();
    const matches = [...store.allIds()].filter((id) => store.tpm(id) && id.endsWith(lower));
    if (lower.length !== 4 || matches.length !== 1) return Buffer.concat([i32(APP_RC.failed), str(null)]);
    return Buffer.concat([i32(APP_RC.ok), str(matches[0] as string)]);
  }

  /** rc, u32 count, then per account: id, name, u8 in TPM, u8 in iLO. */
  #compare(appid: string | null): Buffer {
    const { store } = this.#o;
    if (appid === null) return Buffer.concat([i32(APP_RC.invalidParameters), i32(0)]);
    const asked = store.resolve(appid);
    const token = asked === undefined ? undefined : store.tpm(asked);
    if (token && !token.active) return Buffer.concat([i32(APP_RC.inactiveInCompare), i32(0)]);
    const ids = this.#isVnic ? store.allIds() : [];
    if (ids.length === 0) return Buffer.concat([i32(APP_RC.invalidCredentials), i32(0)]); // 7.x: "No app accounts"
    const parts = [i32(APP_RC.ok), i32(ids.length)];
    for (const id of ids) {
      parts.push(str(id), str(store.displayName(id)), Buffer.from([store.tpm(id) ? 1 : 0, store.iloOf(id) ? 1 : 0]));
    }
    return Buffer.concat(parts);
  }
}
