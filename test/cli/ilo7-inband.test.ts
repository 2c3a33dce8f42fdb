// iLO 7 in-band end to end, with nothing doubled on our side: the built CLI loads the C emulator
// library (HPE's ABI: DetectILO, ReadyToUse, AppIdExistsinTPM, GetSessionID, Chif*) through
// koffi, the library forwards to the simulator's CHIF socket, and Redfish goes to the simulator's
// vNIC listener, whose certificate names only ilo-simulator.local. No host address shares a /30
// with 127.0.0.1, so TLS is trusted with --ca-cert + --tls-servername or --pin (never link-bound).
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { killLive, runCli, runToEnd, type Running } from '../helpers/cli.js';
import { guardiansTagged } from '../helpers/proc.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const PASSWORD = 'ilo7-e2e-S3cret!';
const NO_STACK = /\n\s+at /;
const SYSTEM = '/redfish/v1/Systems/1';
/** What the iLO lists an app-token session as (HPE: the application account's name). */
const APP_USER = 'iLORest';

let dir: string;
let sim: Simulator | undefined;
let count = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-ilo7-e2e-'));
});
afterAll(() => {
  killLive();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  killLive();
  sim?.faults.release();
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startSimulator({
    profile: 'ilo7',
    loginFailureDelayMs: 0,
    users: { Administrator: PASSWORD },
    chifSocket: join(dir, `c${count++}.sock`),
    ...options,
  });
  return sim;
}

/** The environment of an in-band run: the emulator as HPE's library, no --url, no credentials. */
function inbandEnv(s: Simulator, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ILO_URL: '',
    ILO_USERNAME: '',
    ILO_PASSWORD: '',
    ILO_AGENT_SOCKET: '',
    ILO_CHIF_LIB: EMULATOR,
    ILO_CHIF_EMULATOR_SOCKET: s.chifSocket as string,
    ILO_VNIC_URL: s.vnicUrl ?? '',
    ...extra,
  };
}

/** --ca-cert with the vNIC's CA, checked against the name its certificate carries. */
function caTrust(s: Simulator): string[] {
  const file = join(dir, `vnic-ca-${count++}.pem`);
  writeFileSync(file, s.vnicCa as string);
  return ['--ca-cert', file, '--tls-servername', 'ilo-simulator.local'];
}

/** Waits until the simulator holds the CLI's GET; a CLI that ended first fails at once, with its stderr. */
async function held(s: Simulator, r: Running): Promise<void> {
  await until(() => s.faults.held === 1 || r.child.exitCode !== null || r.child.signalCode !== null, 'the GET is held', 20_000);
  expect(s.faults.held, `the CLI ended first: ${r.stderr()}`).toBe(1);
}

const pinOf = (pem: string) => `sha256:${new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase()}`;
const withPassword = { ILO_USERNAME: 'Administrator', ILO_PASSWORD: PASSWORD };

/** Frames the emulator sent over its CHIF socket for an actual channel exchange (none on the vNIC path). */
const chifExchanges = (s: Simulator) => s.chif.counters().frames.exchange;

describe('iLO 7 in-band through the emulator library and the simulator', () => {
  it('auto, no --url: DetectILO picks the vNIC; info shows the app-token login and the TLS trust; 0 sessions left', async () => {
    const s = await start();
    const r = await runToEnd(['--pin', pinOf(s.vnicCa as string), '--log-level', 'info', 'info'], { env: inbandEnv(s) });
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { connection: Record<string, unknown>; transport: string };
    expect(info.connection).toMatchObject({
      path: 'vnic',
      generation: 7,
      selection: 'iLO 7: DetectILO answered 0, type 7',
      tls: `pinned: the leaf certificate ${pinOf(s.vnicCa as string)}`,
      // HPE's GetIPAddress (here the emulator's: the vNIC listener's host)
      libraryAddress: '127.0.0.1',
    });
    expect(r.stderr).not.toMatch(/GetIPAddress/); // the same host as --vnic-url: nothing to say
    expect(info.connection.login).toMatch(/^app token: .*user iLORest/);
    expect(info.transport).toBe(`https ${s.vnicUrl}`);
    expect(r.stderr).toMatch(/in-band path: vNIC \(iLO 7: DetectILO answered 0, type 7\)/);
    // HPE's library made the session (one GetSessionID); no CHIF exchange, no session POST.
    expect(s.app.counters()).toMatchObject({ detect: 1, ready: 1, exists: 1, session: 1 });
    expect(chifExchanges(s)).toBe(0);
    expect(s.sessions()).toEqual([]);
  });

  it('get with no --url: an app-token session over the vNIC (seen mid-request), deleted; exit 0', async () => {
    const s = await start();
    s.faults.inject({ type: 'hang', method: 'GET', path: SYSTEM });
    const r = runCli([...caTrust(s), 'get', SYSTEM], { env: inbandEnv(s) });
    await held(s, r);
    // The one session is HPE's library's, for iLOrest's account, and the GET came over the vNIC.
    expect(s.sessions()).toEqual([expect.objectContaining({ user: APP_USER, transport: 'vnic', transient: false })]);
    expect(s.app.counters().session).toBe(1);
    expect(s.state().counters.logins).toBe(1); // GetSessionID's, not a session POST
    s.faults.release();
    const { code } = await r.exited;
    expect(r.stderr()).not.toMatch(NO_STACK);
    expect(code).toBe(0);
    expect(JSON.parse(r.stdout()).Id).toBe('1');
    expect(chifExchanges(s)).toBe(0);
    expect(s.sessions()).toEqual([]);
  }, 60_000);

  it('get with -u and a password: a password session over the vNIC, no GetSessionID; exit 0', async () => {
    const s = await start();
    s.faults.inject({ type: 'hang', method: 'GET', path: SYSTEM });
    const r = runCli([...caTrust(s), '-u', 'Administrator', 'get', SYSTEM], { env: inbandEnv(s, { ILO_PASSWORD: PASSWORD }) });
    await held(s, r);
    expect(s.sessions()).toEqual([expect.objectContaining({ user: 'Administrator', transport: 'vnic', transient: false })]);
    s.faults.release();
    const { code } = await r.exited;
    expect(code).toBe(0);
    expect(JSON.parse(r.stdout()).Id).toBe('1');
    expect(r.stderr()).not.toContain(PASSWORD);
    // DetectILO chose the path; the login was a POST with the password, not HPE's GetSessionID.
    expect(s.app.counters()).toMatchObject({ detect: 1, session: 0 });
    expect(chifExchanges(s)).toBe(0);
    expect(s.sessions()).toEqual([]);
  }, 60_000);

  it('GetIPAddress reporting another address than the vNIC URL: a warning naming both, the run goes on at the URL; an empty answer says nothing', async () => {
    const s = await start({ appFaults: { ipAddress: '16.1.15.1' } });
    const r = await runToEnd([...caTrust(s), 'info'], { env: inbandEnv(s) });
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`HPE's library reports the vNIC at 16.1.15.1 (GetIPAddress), but requests go to ${s.vnicUrl} (--vnic-url / ILO_VNIC_URL); if the vNIC does not answer, try --vnic-url https://16.1.15.1`);
    expect(JSON.parse(r.stdout).connection.libraryAddress).toBe('16.1.15.1');
    expect(s.app.counters().address).toBe(1);
    expect(s.sessions()).toEqual([]);

    await s.app.setFaults({ ipAddress: '' });
    const empty = await runToEnd([...caTrust(s), 'info'], { env: inbandEnv(s) });
    expect(empty.code).toBe(0);
    expect(empty.stderr).not.toMatch(/GetIPAddress/);
    expect(JSON.parse(empty.stdout).connection.libraryAddress).toBeNull();
    expect(s.sessions()).toEqual([]);
  }, 60_000);

  it('on an ilo6 the same command still goes over CHIF (null credentials, system administrator)', async () => {
    const s = await start({ profile: 'ilo6' });
    expect(s.vnicUrl).toBeNull();
    s.faults.inject({ type: 'hang', method: 'GET', path: SYSTEM });
    const r = runCli(['get', SYSTEM], { env: inbandEnv(s) });
    await held(s, r);
    expect(s.sessions()).toEqual([expect.objectContaining({ user: 'system administrator', transport: 'chif' })]);
    s.faults.release();
    const { code } = await r.exited;
    expect(code).toBe(0);
    expect(JSON.parse(r.stdout()).Id).toBe('1');
    expect(chifExchanges(s)).toBeGreaterThan(0);
    expect(s.app.counters()).toMatchObject({ detect: 1, session: 0 });
    expect(s.sessions()).toEqual([]);
  }, 60_000);

  it('--inband chif on an ilo7: exit 7, the CHIF channel cannot be made; DetectILO not asked, no session', async () => {
    const s = await start();
    const r = await runToEnd(['--inband', 'chif', 'get', SYSTEM], { env: inbandEnv(s) });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/the CHIF driver is not available/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.stdout).toBe('');
    expect(s.app.counters().detect).toBe(0);
    expect(s.state().counters.requests).toBe(0);
    expect(s.sessions()).toEqual([]);
  });

  it('--inband vnic on an ilo6 with a password: plain HTTPS to the vNIC address, without HPE\'s library', async () => {
    // An iLO 6 has no app accounts; its vNIC, if enabled, is HTTPS with a password. The ilo6
    // simulator has no vNIC listener: its main listener plays that address.
    const s = await start({ profile: 'ilo6' });
    const ca = join(dir, `ilo6-ca-${count++}.pem`);
    writeFileSync(ca, s.ca);
    const r = await runToEnd(['--inband', 'vnic', '--vnic-url', s.url, '--ca-cert', ca, '-u', 'Administrator', 'info'], { env: inbandEnv(s, { ILO_PASSWORD: PASSWORD }) });
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).connection).toMatchObject({ path: 'vnic', generation: null, selection: '--inband vnic', login: 'password (Administrator)' });
    // Neither DetectILO nor any CHIF frame: the library was not even loaded.
    expect(s.app.counters().detect).toBe(0);
    expect(Object.values(s.chif.counters().frames).reduce((a, b) => a + b, 0)).toBe(0);
    expect(s.sessions()).toEqual([]);

    // At the default vNIC address without a TLS option: nothing is sent anywhere, exit 7.
    const none = await runToEnd(['--inband', 'vnic', '-u', 'Administrator', 'get', SYSTEM], { env: inbandEnv(s, { ILO_PASSWORD: PASSWORD, ILO_VNIC_URL: '' }) });
    expect(none.code).toBe(7);
    expect(none.stderr).toMatch(/host side of the vNIC is not configured: no address of this host shares a \/30 with 16\.1\.15\.1/);
    expect(none.stderr).not.toMatch(NO_STACK);
  });
});

describe('iLO 7 app-token failures, end to end', () => {
  it('no app account in the TPM: exit 8, says how to create it and to use -u/--username; no GetSessionID, no session', async () => {
    const s = await start({ appAccount: 'absent' });
    const r = await runToEnd([...caTrust(s), 'get', SYSTEM], { env: inbandEnv(s) });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/TPM holds no application account for iLOrest/);
    expect(r.stderr).toMatch(/ilo-agent appaccount create --confirm-ilorest-account -u USER/);
    expect(r.stderr).toMatch(/ilorest appaccount create --self/);
    expect(r.stderr).toMatch(/--username NAME/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.stdout).toBe('');
    expect(s.app.counters()).toMatchObject({ exists: 1, session: 0 });
    expect(s.state().counters.requests).toBe(0);
    expect(s.sessions()).toEqual([]);
  });

  it('an inactive token: exit 8, GetSessionID answered 2, says to reactivate or use --username; no session', async () => {
    const s = await start({ appAccount: 'inactive' });
    const r = await runToEnd([...caTrust(s), 'get', SYSTEM], { env: inbandEnv(s) });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/inactive or expired \(GetSessionID answered 2\)/);
    expect(r.stderr).toMatch(/ilorest appaccount reactivate --self/);
    expect(r.stderr).toMatch(/--username NAME/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(s.app.counters().session).toBe(1);
    expect(s.sessions()).toEqual([]);
  });

  it('the vNIC disabled: exit 7 "virtual NIC is disabled" from DetectILO (-50, type 101), says how to enable it; nothing sent', async () => {
    const s = await start({ vnic: 'off' });
    expect(s.vnicUrl).toBeNull();
    const r = await runToEnd(['get', SYSTEM], { env: inbandEnv(s, { ILO_VNIC_URL: '' }) });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/virtual NIC is disabled \(HPE's DetectILO answered -50, type 101\)/);
    expect(r.stderr).toMatch(/InterfaceEnabled/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(s.app.counters()).toMatchObject({ detect: 1, session: 0 });
    expect(s.state().counters.requests).toBe(0);
  });

  it('GetSessionID contention (0 with empty outputs, once): retried after a pause, then works; exit 0, 0 sessions', async () => {
    const s = await start({ appFaults: { sessionContention: 1 } });
    const r = await runToEnd([...caTrust(s), 'get', SYSTEM], { env: inbandEnv(s) });
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Id).toBe('1');
    expect(r.stderr).toMatch(/TPM contention\?\); a session may exist; trying once more/);
    expect(s.app.counters().session).toBe(2);
    expect(s.sessions()).toEqual([]);
  });

  it.each([
    ['vnicTlsRefuse', /failed \(EPROTO: tlsv1 alert protocol version\)/],
    ['vnicTlsFail', /failed \((EPROTO|ERR_SSL_[A-Z_]+): [a-z ]+\)/],
  ] as const)('a TLS handshake that fails on the vNIC (%s): exit 5, says what failed, which Node and OpenSSL, and the iLO 7 security-state hint; no session', async (knob, what) => {
    const s = await start({ appFaults: { [knob]: true } });
    const r = await runToEnd([...caTrust(s), '-u', 'Administrator', 'get', SYSTEM], { env: inbandEnv(s, { ILO_PASSWORD: PASSWORD }) });
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`the TLS handshake with the iLO at ${s.vnicUrl} failed`));
    expect(r.stderr).toMatch(what);
    expect(r.stderr).toContain(`this client is Node ${process.version} with OpenSSL ${process.versions.openssl}, offering TLS 1.2 to 1.3`);
    expect(r.stderr).toMatch(/an iLO 7 in a higher security state \(CNSA\) may accept only stronger ciphers and key-exchange groups, post-quantum ML-KEM ones included/);
    // Node 20's OpenSSL 3.0 has no ML-KEM: the newer Node is suggested; Node 24's has it.
    if (Number(process.versions.openssl.split('.')[0]) === 3 && Number(process.versions.openssl.split('.')[1]) < 5) {
      expect(r.stderr).toMatch(/lacks \(ML-KEM needs OpenSSL 3\.5 or later\): run ilo-agent's single executable \(built on Node 24, with OpenSSL 3\.5\)/);
    } else {
      expect(r.stderr).toMatch(/this client offers ML-KEM already/);
    }
    expect(r.stderr).not.toMatch(/cannot verify the iLO's certificate|--ca-cert FILE/);
    expect(r.stdout).toBe('');
    expect(s.sessions()).toEqual([]);

    // With the app token, the vNIC is reached before GetSessionID: HPE's library makes its session
    // by its own means, and one made here could be neither used nor deleted. None is made.
    const app = await runToEnd([...caTrust(s), 'get', SYSTEM], { env: inbandEnv(s) });
    expect(app.stderr).not.toMatch(NO_STACK);
    expect(app.code).toBe(5);
    expect(app.stderr).toMatch(new RegExp(`the TLS handshake with the iLO at ${s.vnicUrl} failed`));
    expect(app.stderr).not.toMatch(/could not delete/);
    expect(s.app.counters()).toMatchObject({ exists: 1, session: 0 });
    expect(s.sessions()).toEqual([]);
  });

  it('contention twice: exit 8, says a session may exist; not tried a third time', async () => {
    const s = await start({ appFaults: { sessionContention: 2 } });
    const r = await runToEnd([...caTrust(s), 'get', SYSTEM], { env: inbandEnv(s) });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/answered 0 twice with no session token or location.*a session may exist/);
    expect(s.app.counters().session).toBe(2);
    expect(s.sessions()).toEqual([]);
  });

  it('GetSessionID makes a session and then fails: exit 8, not retried, says the session stays until its idle timeout as user iLORest; it does', async () => {
    const s = await start({ appFaults: { sessionCreateThenFail: -1 } });
    const tag = `ilo7-leak-${process.pid}-${Date.now()}`;
    // At info the guardian keeps the CLI's stderr (and the run ends when the guardian does).
    const r = runCli([...caTrust(s), '--log-level', 'info', 'get', SYSTEM], { env: inbandEnv(s, { GUARDIAN_TEST_TAG: tag }) });
    const { code } = await r.exited;
    expect(code).toBe(8);
    expect(r.stderr()).toMatch(/GetSessionID failed \(it answered -1\); not retried: the library may have made a session before failing, which then stays until its idle timeout \(the iLO lists it as user iLORest\)/);
    expect(r.stderr()).not.toMatch(NO_STACK);
    expect(s.app.counters().session).toBe(1);
    // The guardian knew a login was in flight, and says it cannot look for its session.
    expect(r.stderr()).toMatch(/"name":"ilo-agent-guardian".*"loginInFlight":true/);
    expect(r.stderr()).toMatch(/no credentials to look for the session of the interrupted login/);
    // Nobody holds its token, and the app-token login has no credentials to find it with: neither
    // the CLI nor its guardian can delete it (the README says so). It is left as promised.
    await until(() => guardiansTagged(tag).length === 0, 'the guardian exited', 15_000);
    expect(s.sessions()).toEqual([expect.objectContaining({ user: APP_USER, transport: 'vnic' })]);
    // Only the unauthenticated GET of the service root that checks the vNIC before GetSessionID.
    expect(s.state().counters.requests).toBe(1);
  }, 60_000);
});

// SIGINT/SIGTERM/SIGHUP at each moment: ilo7-signals.test.ts.
describe('iLO 7 app-token sessions and signals, end to end', () => {
  it('SIGKILL of the CLI\'s process group mid-request: its guardian deletes the app-token session over the vNIC', async () => {
    const s = await start();
    s.faults.inject({ type: 'hang', method: 'GET', path: SYSTEM });
    const tag = `ilo7-kill-${process.pid}-${Date.now()}`;
    const r = runCli([...caTrust(s), 'get', SYSTEM], { env: inbandEnv(s, { GUARDIAN_TEST_TAG: tag }) });
    await held(s, r);
    await until(() => guardiansTagged(tag).length === 1, 'the guardian runs', 15_000);
    expect(s.sessions()).toEqual([expect.objectContaining({ user: APP_USER, transport: 'vnic' })]);
    r.signal('SIGKILL');
    await r.exited;
    // The guardian has the token and the vNIC's TLS trust (CA and name), not the library.
    await until(() => s.sessions().length === 0, 'the guardian deleted the session', 20_000);
    await until(() => guardiansTagged(tag).length === 0, 'the guardian exited', 15_000);
    expect(s.app.counters().session).toBe(1);
  }, 60_000);
});
