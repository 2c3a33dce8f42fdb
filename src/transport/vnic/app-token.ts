// The app-token login of iLO 7 in-band: HPE's library turns the application-account token kept
// in the TPM into an ordinary Redfish session (GetSessionID → token + location), as iLOrest does
// (python-ilorest-library vnichpilo.py, python-redfish-utility LoginCommand.py). What the library
// sends to the iLO for it is not public: only its documented outputs are used.
import type { Logger } from 'pino';
import { AbortedError, AppAccountError, TimeoutError, VnicError } from '../../errors.js';
import type { AppAccountBinding } from '../../binding/index.js';
import { timeoutSignal } from '../../timeout-signal.js';

/**
 * HPE allows application accounts only for its own tools (SUM, SUT, AMS, iLOrest): ilo-agent uses
 * iLOrest's, whose triple is the literal "self_register" three times; the iLO shows its sessions
 * as user iLORest.
 */
export const ILOREST_APP_ACCOUNT = { appid: 'self_register', appname: 'self_register', salt: 'self_register', label: 'iLORest' } as const;

/** GetSessionID's answer for an inactive or expired token (ilorest 7.x vlogin). */
const INACTIVE_TOKEN = 2;
export const CONTENTION_RETRY_PAUSE_MS = 500;
const DEFAULT_CALL_TIMEOUT_MS = 60_000;

export interface AppTokenOptions {
  logger?: Logger;
  /** The vNIC host requests go to: a location naming another host is said (the path is used). */
  vnicHost?: string;
  retryPauseMs?: number;
  /**
   * How long one call of the library may take (the request timeout): its own timeouts are
   * unknown, and a call that never returns would hold every later login (the calls are
   * serialised). The call itself cannot be cut: it stays on its worker thread.
   */
  timeoutMs?: number;
  /**
   * Reaches the vNIC before GetSessionID (an unauthenticated GET of the service root, as
   * iLOrest's login does): HPE's library makes its session by its own means, so a vNIC that
   * ilo-agent cannot reach (a TLS handshake this client fails) would leave a session that could
   * be neither used nor deleted. Rejects with the transport's error.
   */
  reachable?: (signal: AbortSignal) => Promise<void>;
}

/** An external login (session/ExternalLogin) from iLOrest's application account. */
export function appTokenLogin(binding: AppAccountBinding, options: AppTokenOptions = {}) {
  const { appid, appname, salt, label } = ILOREST_APP_ACCOUNT;
  const log = options.logger;
  const withU = 'or log in with a password instead: --username NAME (with ILO_PASSWORD, --password-file or --password-stdin)';
  return {
    label,
    async acquire(cut: AbortSignal): Promise<{ token: string; location: string }> {
      const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
      const seconds = Math.ceil(timeoutMs / 1000);
      // Each call gets its own time, counted from its start: a slow step before it (the reachability
      // GET on a loaded host) must not be charged to GetSessionID, nor turn its timeout into a "cut off".
      const stopping = <T>(call: Promise<T>, name: string): Promise<T> => {
        const expired = timeoutSignal(timeoutMs);
        return cutShort(call, AbortSignal.any([cut, expired]), () =>
          expired.aborted
            ? Object.assign(new TimeoutError(`HPE's ${name} gave no answer within ${seconds} s; a session may exist, which then stays until its idle timeout`), { mayHaveSession: name === 'GetSessionID' })
            : new AbortedError(`the app-token login was cut off before HPE's ${name} answered`),
        );
      };
      const ready = await stopping(binding.readyToUse(), 'ReadyToUse');
      if (ready !== 0) {
        throw new VnicError(
          `the iLO's virtual NIC is not ready (HPE's ReadyToUse answered ${ready}): enable it in the iLO (HostInterfaces/1 InterfaceEnabled or Oem.Hpe.VirtualNICEnabled, out-of-band, then reset the iLO) and let this host's USB NIC get 16.1.15.2/30 by DHCP`,
          ready,
        );
      }
      const tpm = await stopping(binding.appIdExistsInTpm(appid), 'AppIdExistsinTPM');
      if (tpm.rc !== 0) throw new AppAccountError(`HPE's library could not check the TPM for iLOrest's application account (AppIdExistsinTPM answered ${tpm.rc}); ${withU}`, { libraryCode: tpm.rc });
      if (!tpm.exists) {
        throw new AppAccountError(
          `this host's TPM holds no application account for iLOrest (ilo-agent logs in with iLOrest's account): create it as root with "ilo-agent appaccount create --confirm-ilorest-account -u USER" (or "ilorest appaccount create --self -u USER -p PASSWORD"), ${withU}`,
        );
      }
      // Bounded by the transport's own request timeout.
      await options.reachable?.(cut);
      for (let attempt = 1; ; attempt++) {
        log?.debug({ attempt }, 'GetSessionID: asking HPE\'s library for an app-token session');
        const answer = await stopping(binding.getSessionId(appid, appname, salt), 'GetSessionID');
        if (answer.rc === INACTIVE_TOKEN) {
          throw new AppAccountError(
            `iLOrest's application-account token is inactive or expired (GetSessionID answered 2): reactivate it as root with "ilorest appaccount reactivate --self -u USER -p PASSWORD", ${withU}`,
            { libraryCode: answer.rc },
          );
        }
        if (answer.rc !== 0) {
          throw new AppAccountError(
            `HPE's GetSessionID failed (it answered ${answer.rc}); not retried: the library may have made a session before failing, which then stays until its idle timeout (the iLO lists it as user iLORest); ${withU}`,
            { libraryCode: answer.rc, mayHaveSession: true },
          );
        }
        if (answer.token && answer.location) {
          warnOnOtherHost(answer.location, options.vnicHost, log);
          return { token: answer.token, location: answer.location };
        }
        if (attempt === 2) {
          throw new AppAccountError(
            `HPE's GetSessionID answered 0 twice with no session token or location (TPM contention?); a session may exist and then stays until its idle timeout; ${withU}`,
            { libraryCode: 0, mayHaveSession: true },
          );
        }
        // HPE's own client says this happens under concurrent TPM access and can be retried.
        log?.warn('HPE\'s GetSessionID answered 0 with no token or location (TPM contention?); a session may exist; trying once more');
        await cutShort(new Promise<void>((resolve) => setTimeout(resolve, options.retryPauseMs ?? CONTENTION_RETRY_PAUSE_MS)), cut, () => new AbortedError('the app-token login was cut off'));
      }
    },
  };
}

function warnOnOtherHost(location: string, vnicHost: string | undefined, log: Logger | undefined): void {
  if (!vnicHost || !/^https?:\/\//i.test(location)) return;
  try {
    const host = new URL(location).hostname.replace(/^\[|\]$/g, '');
    if (host !== vnicHost) log?.warn({ host }, 'GetSessionID named the session on another host; its path is used on the vNIC');
  } catch {
    // the session layer says what it makes of it
  }
}

/**
 * A native call cannot be cut: a deadline only stops the wait (the call goes on on its worker
 * thread; what it makes, if anything, cannot be named).
 */
function cutShort<T>(call: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(reason());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
