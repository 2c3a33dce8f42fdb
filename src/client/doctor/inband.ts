// doctor in-band: HPE's library, privileges, which path (CHIF or the vNIC) and why, the vNIC's
// host side and the application account, then a login as a run would make it. The errors are
// the ones a run gives (they name their cure); doctor shows them all in order, not one per try.
import { ILOREST_APP_ACCOUNT, DEFAULT_VNIC_URL, loadChifLibrary, planVnic, selectInband, type ChifLibrary } from '../../transport/index.js';
import type { ConnectOptions } from '../open-session.js';
import type { Checklist } from './checks.js';
import { checkLogin } from './login.js';

export async function inbandChecks(options: ConnectOptions, list: Checklist): Promise<void> {
  const mode = options.inband ?? 'auto';
  const appToken = options.username === undefined && !options.noAppAccount;
  const log = options.logger;

  // 1. HPE's library (a password on the vNIC chosen by hand needs none).
  let library: ChifLibrary | undefined;
  if (mode === 'vnic' && !appToken) {
    list.skip('library', '--inband vnic with a password needs no HPE library');
  } else {
    try {
      library = await (options.loadLibrary ?? (() => loadChifLibrary(options.chifLibrary, { warn: (m) => list.warn('library', m) })))();
      const app = library.appAccount ? 'app-account functions present (iLO 7 capable)' : `no app-account functions (missing ${library.appAccountMissing.join(', ')}: CHIF only, iLO 5/6)`;
      list.ok('library', `${library.path}; ${app}`);
    } catch (error) {
      list.fail('library', error, 'install HPE\'s library (it comes with ilorest) or name it with --chif-lib; or reach the iLO over the network with --url');
      return;
    }
  }

  // 2. Privileges: the CHIF device and the TPM are root's (HPE's tools refuse to run otherwise).
  const euid = process.geteuid?.();
  if (euid === undefined) list.skip('privileges', 'not checked on Windows: run from an elevated prompt');
  else if (euid === 0) list.ok('privileges', 'running as root');
  else list.warn('privileges', `running as uid ${euid}, not root: HPE's CHIF device and the TPM are normally root's`, 'run it with sudo (or as the service\'s root unit)');

  // 3. Which path, decided as a run decides it.
  let path: 'chif' | 'vnic';
  try {
    const loaded = library;
    const selection = await selectInband({ mode, appToken, load: async () => loaded as ChifLibrary, logger: log });
    path = selection.path;
    list.ok('path', `${path === 'chif' ? 'CHIF' : 'the vNIC'} (${selection.reason})${selection.generation ? `; iLO ${selection.generation}` : ''}`);
    if (selection.noChifDriver) {
      list.fail('path', 'HPE\'s library reports no CHIF driver', 'load the driver (Linux: modprobe hpilo; Windows: install HPE\'s iLO channel interface driver), or use --url', 'E_CHIF_LIBRARY');
      return;
    }
  } catch (error) {
    list.fail('path', error);
    return;
  }

  // 4. The vNIC: the host's side of the link, and the application account.
  if (path === 'vnic') {
    try {
      const plan = planVnic(options.vnicUrl ?? DEFAULT_VNIC_URL, { pin: options.pin, ca: options.ca, servername: options.tlsServername, insecure: options.insecure }, {}, options.networkInterfaces);
      list.ok('vnic', `${plan.https.url}; TLS ${plan.tls}`);
    } catch (error) {
      list.fail('vnic', error);
      return;
    }
    const binding = library?.appAccount;
    if (appToken && binding) {
      const ready = await binding.readyToUse();
      const inTpm = await binding.appIdExistsInTpm(ILOREST_APP_ACCOUNT.appid);
      if (ready !== 0) list.warn('app account', `HPE's ReadyToUse answers ${ready}: the vNIC is not ready for the library`);
      if (inTpm.rc !== 0) list.fail('app account', `AppIdExistsinTPM failed (${inTpm.rc})`, 'run as root; or log in with a password: -u NAME', 'E_APP_ACCOUNT');
      else if (!inTpm.exists) {
        list.fail('app account', 'no iLOrest application account in this host\'s TPM', 'create it once (as root): ilo-agent appaccount create --confirm-ilorest-account -u ADMIN; or log in with a password: -u NAME', 'E_APP_ACCOUNT');
      } else list.ok('app account', 'iLOrest\'s application account is in the TPM');
      if (list.failed) return;
    } else {
      list.skip('app account', options.username ? `a password login as ${options.username}` : 'no library to ask');
    }
  }

  // 5. A login, the session table, the logout.
  await checkLogin(options, list);
}
