// iLO 7 application accounts, as the simulator plays them: the host's TPM (app id -> token
// entry) and iLO's account list (`AccountService/Oem/Hpe/AppAccounts`), one store per simulator
// instance. HPE's library keeps the token in the TPM and makes an ordinary Redfish session from
// it (`GetSessionID`); what it sends to iLO for that is not public, so here the store creates the
// session directly in the simulator's one session table.
//
// Sources (public): python-ilorest-library `src/redfish/hpilo/vnichpilo.py` (return codes),
// python-redfish-utility `AppAccountCommand.py` (iLOrest's triple `self_register`, id ending
// `00b5`), HPE's securityService.md (the Redfish shape, masked HostAppId, privileges inherited
// from the creating user). Anything marked **unverified** is a guess no public source settles.
import { randomBytes, randomInt } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { JsonObject } from './resource-store.js';

/** The literal iLOrest passes as app id, name and salt for its own account. */
export const SELF_REGISTER = 'self_register';
/** How iLO names iLOrest's account (`HostAppName`). */
export const ILOREST_APP_NAME = 'iLORest';
/** The host's address on the vNIC /30: `UserIP` of app-token sessions (HPE's vNIC page). */
export const VNIC_HOST_ADDRESS = '16.1.15.2';
export const APP_ACCOUNTS = '/redfish/v1/AccountService/Oem/Hpe/AppAccounts';

/** `--app-account`: iLOrest's account in both TPM and iLO, in neither, inactive, or in iLO only (TPM cleared). */
export const APP_ACCOUNT_STATES = ['present', 'absent', 'inactive', 'orphan'] as const;
export type AppAccountState = (typeof APP_ACCOUNT_STATES)[number];

/** Return codes of HPE's library (vnichpilo.py and its 7.x constants). */
export const APP_RC = {
  ok: 0,
  failed: -1,
  invalidParameters: -2,
  inactiveToken: 2,
  invalidCredentials: -8,
  vnicDisabled: -50,
  savingInTpm: -54,
  alreadyExists: -55,
  inactiveInCompare: -62,
} as const;

const ILO_TYPE_NO_DRIVER = 100;
const ILO_TYPE_VNIC_DISABLED = 101;
/** Full ids are 34 hex digits: the Redfish mask shows 30 stars and 4 digits (securityService.md). */
const ID_LENGTH = 34;
const SELF_SUFFIX = '00b5';

const ALL_PRIVILEGES = [
  'HostBIOSConfigPriv',
  'HostNICConfigPriv',
  'HostStorageConfigPriv',
  'LoginPriv',
  'RemoteConsolePriv',
  'SystemRecoveryConfigPriv',
  'UserConfigPriv',
  'VirtualMediaPriv',
  'VirtualPowerAndResetPriv',
  'iLOConfigPriv',
] as const;

interface TpmEntry {
  id: string;
  name: string;
  salt: string;
  active: boolean;
}

interface IloAppAccount {
  memberId: string;
  appId: string;
  hostAppName: string;
  privileges: Record<string, boolean>;
}

/** What `state()` shows: no salts. */
export interface AppAccountsView {
  tpm: { id: string; name: string; active: boolean }[];
  ilo: { memberId: string; appId: string; hostAppName: string }[];
}

export class AppAccountStore {
  readonly selfId: string;
  readonly #tpm = new Map<string, TpmEntry>();
  readonly #ilo = new Map<string, IloAppAccount>();
  #nextMember = randomInt(60000, 70000);

  constructor(state: AppAccountState) {
    this.selfId = randomBytes(ID_LENGTH / 2).toString('hex').slice(0, ID_LENGTH - SELF_SUFFIX.length) + SELF_SUFFIX;
    this.setSelf(state);
  }

  /** Puts iLOrest's own account in the given state (as `--app-account` does at start). */
  setSelf(state: AppAccountState): void {
    if (!APP_ACCOUNT_STATES.includes(state)) throw new InvalidInputError(`app account state must be one of ${APP_ACCOUNT_STATES.join(', ')}`);
    this.#tpm.delete(this.selfId);
    for (const account of this.#ilo.values()) if (account.appId === this.selfId) this.#ilo.delete(account.memberId);
    if (state === 'absent') return;
    if (state !== 'orphan') this.#tpm.set(this.selfId, { id: this.selfId, name: SELF_REGISTER, salt: SELF_REGISTER, active: state === 'present' });
    this.addIlo(this.selfId, ILOREST_APP_NAME, allPrivileges());
  }

  /**
   * The full id an app id stands for: `self_register` is iLOrest's; 4 hex digits are the end of
   * one known id; a known full id is itself; an unknown well-formed full id too (a new account).
   */
  resolve(appid: string): string | undefined {
    if (appid === SELF_REGISTER) return this.selfId;
    const lower = appid.toLowerCase();
    const known = new Set([...this.#tpm.keys(), ...[...this.#ilo.values()].map((a) => a.appId)]);
    if (/^[0-9a-f]{4}$/.test(lower)) {
      const matches = [...known].filter((id) => id.endsWith(lower));
      return matches.length === 1 ? matches[0] : undefined;
    }
    if (new RegExp(`^[0-9a-f]{${ID_LENGTH}}$`).test(lower)) return lower;
    return undefined;
  }

  /** True when the id names an account either side knows. */
  known(id: string): boolean {
    return this.#tpm.has(id) || this.iloOf(id) !== undefined;
  }

  tpm(id: string): TpmEntry | undefined {
    return this.#tpm.get(id);
  }

  putTpm(entry: TpmEntry): void {
    this.#tpm.set(entry.id, entry);
  }

  deleteTpm(id: string): boolean {
    return this.#tpm.delete(id);
  }

  iloOf(appId: string): IloAppAccount | undefined {
    return [...this.#ilo.values()].find((a) => a.appId === appId);
  }

  addIlo(appId: string, hostAppName: string, privileges: Record<string, boolean>): IloAppAccount {
    const account = { memberId: String(this.#nextMember++), appId, hostAppName, privileges };
    this.#ilo.set(account.memberId, account);
    return account;
  }

  deleteIlo(memberId: string): boolean {
    return this.#ilo.delete(memberId);
  }

  /** Ids of either side, TPM first, each once. */
  allIds(): string[] {
    return [...new Set([...this.#tpm.keys(), ...[...this.#ilo.values()].map((a) => a.appId)])];
  }

  /** The name HPE's tools show: iLO's HostAppName when iLO has the account, else the TPM's. */
  displayName(id: string): string {
    return this.iloOf(id)?.hostAppName ?? (id === this.selfId ? ILOREST_APP_NAME : (this.#tpm.get(id)?.name ?? ''));
  }

  view(): AppAccountsView {
    return {
      tpm: [...this.#tpm.values()].map(({ id, name, active }) => ({ id, name, active })),
      ilo: [...this.#ilo.values()].map(({ memberId, appId, hostAppName }) => ({ memberId, appId, hostAppName })),
    };
  }

  // ---- Redfish --------------------------------------------------------------------------

  collection(): JsonObject {
    const members = [...this.#ilo.values()].map((a) => ({ '@odata.id': `${APP_ACCOUNTS}/${a.memberId}` }));
    return {
      '@odata.context': '/redfish/v1/$metadata#ManagerAccountCollection.ManagerAccountCollection',
      '@odata.id': APP_ACCOUNTS,
      '@odata.type': '#ManagerAccountCollection.ManagerAccountCollection',
      Description: 'iLO Application Accounts',
      Name: 'Application Accounts',
      Members: members,
      'Members@odata.count': members.length,
    };
  }

  member(memberId: string): JsonObject | undefined {
    const account = this.#ilo.get(memberId);
    if (!account) return undefined;
    return {
      '@odata.context': '/redfish/v1/$metadata#HpeiLOAppAccount.HpeiLOAppAccount',
      '@odata.id': `${APP_ACCOUNTS}/${account.memberId}`,
      '@odata.type': '#HpeiLOAppAccount.v1_0_0.HpeiLOAppAccount',
      Id: account.memberId,
      Description: 'iLO Application Account',
      // iLO masks all but the last 4 digits (securityService.md example).
      HostAppId: '*'.repeat(account.appId.length - 4) + account.appId.slice(-4),
      HostAppName: account.hostAppName,
      Name: 'Application Account',
      Privileges: { ...account.privileges },
    };
  }
}

/** The built-in users are all administrators: an app account inherits every privilege. */
export function allPrivileges(): Record<string, boolean> {
  return Object.fromEntries(ALL_PRIVILEGES.map((p) => [p, true]));
}

export { ILO_TYPE_NO_DRIVER, ILO_TYPE_VNIC_DISABLED };
