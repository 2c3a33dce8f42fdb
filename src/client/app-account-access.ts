// How the `appaccount` commands (app-accounts.ts) reach both sides of iLOrest's application
// account: HPE's library on this host (loaded, checked for the functions a command needs, each
// call's wait bounded by --timeout and a stop), and the iLO's AppAccounts collection over one
// password session on the vNIC.
import { AbortedError, TimeoutError, UsageError, VnicError } from '../errors.js';
import { isJsonObject } from '../redfish/index.js';
import { DEFAULT_TIMEOUT_MS, ILOREST_APP_ACCOUNT, loadChifLibrary, type AppAccountBinding, type AppAccountManagement, type ChifLibrary } from '../transport/index.js';
import { withSession, type ConnectOptions, type IloClient } from './open-session.js';
import { timeoutSignal } from '../timeout-signal.js';

export const APP_ACCOUNTS_PATH = '/redfish/v1/AccountService/Oem/Hpe/AppAccounts';
/** HPE: the last 4 hex digits of iLOrest's self-registered id (AppAccountCommand.py; HPE's blog). */
const ILOREST_ID_SUFFIX = '00b5';
export const { appid: APPID, appname: APPNAME, salt: SALT } = ILOREST_APP_ACCOUNT;

/** DetectILO's answer when the vNIC is disabled (python-ilorest-library vnichpilo.py). */
export const VNIC_DISABLED = { rc: -50, type: 101 } as const;

export interface IloMember {
  /** The member's path, to DELETE. */
  path: string;
  id: string | null;
  hostAppId: string | null;
  hostAppName: string | null;
  privileges: Record<string, unknown> | null;
}

export function isIlorest(id: string | null, name: string | null): boolean {
  return (name !== null && /^(ilorest|self_register)$/i.test(name)) || (id !== null && id.toLowerCase().endsWith(ILOREST_ID_SUFFIX));
}

/** Root only: the TPM and the account are the host's (ilorest refuses non-root, AppAccountCommand.py). */
export function requireRoot(what: string): void {
  const euid = process.geteuid?.();
  if (euid !== undefined && euid !== 0) {
    throw new VnicError(`${what} changes this host's TPM and the iLO's accounts: run it as root (euid ${euid} is not); HPE's library was not loaded`);
  }
}

interface Loaded {
  login: AppAccountBinding;
  manage: AppAccountManagement;
}

export async function load(options: ConnectOptions): Promise<Loaded> {
  const warn = (message: string) => (options.logger ? options.logger.warn(message) : process.emitWarning(message));
  const library: ChifLibrary = await (options.loadLibrary ?? (() => loadChifLibrary(options.chifLibrary, { warn })))();
  if (!library.appAccount) {
    throw new VnicError(`application accounts need HPE's library with ${library.appAccountMissing.join(', ')}, which ${library.path} lacks (an older library: install iLOrest 7's)`);
  }
  return { login: library.appAccount, manage: library.appAccountManagement };
}

/** Before anything is asked of the library: the functions this command needs are all there. */
export function need(manage: AppAccountManagement, names: string[]): void {
  const lacking = names.filter((name) => manage.missing.includes(name));
  if (lacking.length > 0) throw new VnicError(`HPE's library has no ${lacking.join(', ')} (an older library: install iLOrest 7's library for application-account management)`);
}

/** How a command waits for HPE's library: `call(name, promise, aftermath)`. */
export type LibraryCall = <T>(name: string, call: Promise<T>, aftermath?: string) => Promise<T>;

/**
 * A native call cannot be cut: a stop or the request timeout (--timeout; the library's own
 * timeouts are unknown) only ends the wait, and the call finishes on its worker thread. So the
 * session is deleted at once on a signal, and what the call may have changed is said.
 */
export function libraryCalls(options: ConnectOptions): LibraryCall {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return <T>(name: string, call: Promise<T>, aftermath = 'it changes nothing'): Promise<T> => {
    const expired = timeoutSignal(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, expired]) : expired;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const stopped = options.signal?.aborted === true;
        const said = `HPE's ${name} ${stopped ? 'was still running when ilo-agent was stopped' : `gave no answer within ${Math.ceil(timeoutMs / 1000)} s`}: ${aftermath}; "ilo-agent appaccount status" shows what is there`;
        if (!stopped) return reject(new TimeoutError(said));
        options.logger?.warn(said);
        reject(options.signal?.reason instanceof AbortedError ? options.signal.reason : new AbortedError(said));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal.removeEventListener('abort', onAbort);
      call.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  };
}

/** DetectILO; anything but an iLO 7 (or later) with its vNIC up is an error for create/delete. */
export async function requireIlo7(login: AppAccountBinding, lib: LibraryCall): Promise<void> {
  const { rc, iloType } = await lib('DetectILO', login.detectIlo(APPID));
  if (rc === VNIC_DISABLED.rc && iloType === VNIC_DISABLED.type) throw new VnicError(`the local iLO 7's virtual NIC is disabled (DetectILO answered ${rc}, type ${iloType}): ${ENABLE_VNIC}`, rc);
  if (rc !== 0 || iloType < 7) throw new VnicError(`application accounts exist from iLO 7 on; HPE's DetectILO answered ${rc}, type ${iloType}`, rc);
  const ready = await lib('ReadyToUse', login.readyToUse());
  if (ready !== 0) throw new VnicError(`the iLO's virtual NIC is not ready (ReadyToUse answered ${ready}): ${ENABLE_VNIC}`, ready);
}

export const ENABLE_VNIC = 'enable it out-of-band (PATCH /redfish/v1/Managers/1/HostInterfaces/1 {"InterfaceEnabled": true}, or Oem.Hpe.VirtualNICEnabled), reset the iLO, and let this host\'s USB NIC get 16.1.15.2/30 by DHCP';

/** The iLO's application accounts (GET the collection, then each member). */
export async function iloAccounts(client: IloClient): Promise<IloMember[]> {
  const out: IloMember[] = [];
  for (const path of await client.members(APP_ACCOUNTS_PATH)) {
    const json = await client.get(path);
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    out.push({ path, id: text(json.Id), hostAppId: text(json.HostAppId), hostAppName: text(json.HostAppName), privileges: isJsonObject(json.Privileges) ? json.Privileges : null });
  }
  return out;
}

export const ilorestIn = (accounts: IloMember[]) => accounts.find((a) => isIlorest(a.hostAppId, a.hostAppName));

/** A password session on the vNIC for the iLO side: never the app token, never an agent. */
export function passwordSession<T>(options: ConnectOptions, work: (client: IloClient) => Promise<T>): Promise<T> {
  if (options.username === undefined) throw new UsageError('the iLO side needs credentials: --username NAME (with ILO_PASSWORD, --password-file or --password-stdin)');
  return withSession({ ...options, url: undefined, inband: 'vnic', noAppAccount: true }, work);
}
