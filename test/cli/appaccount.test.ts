// `ilo-agent appaccount status|create|delete` end to end: the built CLI loads the C emulator
// library (HPE's ABI: DetectILO … CompareAppIds, GenerateAppToken, DeleteAppToken(UsingCreds))
// through koffi, the library forwards to an ilo7 simulator, and the iLO side goes over the
// simulator's vNIC listener with a password session (trusted with --ca-cert + --tls-servername).
// After every case the simulator holds no session.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { client } from '../helpers/https-client.js';
import { killLive, runCli, runToEnd, type RunOptions } from '../helpers/cli.js';
import { AS_ROOT, plantLibrary } from '../helpers/planted-library.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const PASSWORD = 'appaccount-S3cret!';
const NO_STACK = /\n\s+at /;
const CONFIRM = '--confirm-ilorest-account';
const APP_ACCOUNTS = '/redfish/v1/AccountService/Oem/Hpe/AppAccounts';

let dir: string;
let sim: Simulator | undefined;
let count = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-appaccount-'));
});
afterAll(() => {
  killLive();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  killLive();
  sim?.faults.release();
  try {
    // Every case: the one password session (if any) was deleted.
    expect(sim?.sessions() ?? []).toEqual([]);
  } finally {
    await sim?.close();
    sim = undefined;
  }
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

function env(s: Simulator, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
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

/** The vNIC's CA, checked against the name its certificate carries. */
function trust(s: Simulator): string[] {
  const file = join(dir, `vnic-ca-${count++}.pem`);
  writeFileSync(file, s.vnicCa ?? s.ca);
  return ['--ca-cert', file, '--tls-servername', 'ilo-simulator.local'];
}

const creds = { ILO_PASSWORD: PASSWORD };

/** Runs `appaccount …` (global options first); `user`: -u Administrator with ILO_PASSWORD. */
async function appaccount(s: Simulator, args: string[], options: { user?: boolean; env?: NodeJS.ProcessEnv; run?: RunOptions } = {}) {
  const global = options.user ? [...trust(s), '-u', 'Administrator'] : trust(s);
  const r = await runToEnd([...global, 'appaccount', ...args], { ...options.run, env: env(s, { ...(options.user ? creds : {}), ...options.env }) });
  expect(r.stderr).not.toMatch(NO_STACK);
  expect(r.stderr).not.toContain(PASSWORD);
  expect(r.stdout).not.toContain(PASSWORD);
  return r;
}

const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const selfId = (s: Simulator) => s.app.accounts().tpm[0]?.id ?? s.app.accounts().ilo[0]?.appId ?? '';
/** Nothing was asked of HPE's library (nor of the iLO). */
const untouched = (s: Simulator) => {
  expect(Object.values(s.app.counters()).reduce((a, b) => a + b, 0)).toBe(0);
  expect(s.state().counters.requests).toBe(0);
};

describe('appaccount status (read-only)', () => {
  it('present: verdict ready; the id masked as iLO masks it (last 4 hex digits); no session without credentials', async () => {
    const s = await start();
    const id = selfId(s);
    const r = await appaccount(s, ['status']);
    expect(r.code).toBe(0);
    const st = json(r.stdout);
    expect(st).toMatchObject({ verdict: 'ready', generation: 7, detectIlo: { rc: 0, iloType: 7 }, vnicReady: true, readyToUse: 0, tokenInTpm: true, ilo: null });
    expect(st.compareAppIds).toEqual({ rc: 0, accounts: [{ id: `${'*'.repeat(id.length - 4)}${id.slice(-4)}`, name: 'iLORest', inTpm: true, inIlo: true }] });
    expect(r.stdout).not.toContain(id.slice(0, -4));
    expect(s.app.counters()).toMatchObject({ detect: 1, ready: 1, exists: 1, compare: 1, generate: 0, delete: 0, deleteWithCreds: 0, session: 0 });
    expect(s.state().counters.logins).toBe(0);
  });

  it('present with -u: the iLO side over one password session (AppAccounts + members), deleted', async () => {
    const s = await start();
    const r = await appaccount(s, ['status'], { user: true });
    expect(r.code).toBe(0);
    const st = json(r.stdout);
    expect(st.verdict).toBe('ready');
    expect(st.ilo).toMatchObject({ checked: true, ilorest: true });
    expect(st.ilo.accounts).toEqual([expect.objectContaining({ hostAppName: 'iLORest', path: expect.stringMatching(/^\/redfish\/v1\/AccountService\/Oem\/Hpe\/AppAccounts\/\d+$/) })]);
    expect(st.ilo.accounts[0].hostAppId).toMatch(/^\*+[0-9a-f]{4}$/);
    expect(s.state().counters.logins).toBe(1); // one session, a password POST, not GetSessionID
    expect(s.app.counters().session).toBe(0);
  });

  it('--output pretty: indented JSON', async () => {
    const s = await start();
    const r = await appaccount(s, ['status']);
    const pretty = await runToEnd([...trust(s), '--output', 'pretty', 'appaccount', 'status'], { env: env(s) });
    expect(r.stdout.split('\n').length).toBe(2);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toMatch(/^{\n {2}"verdict": "ready",/);
  });

  it('absent: verdict no-account, CompareAppIds -8 = an empty list; names appaccount create', async () => {
    const s = await start({ appAccount: 'absent' });
    const r = await appaccount(s, ['status']);
    expect(r.code).toBe(0);
    const st = json(r.stdout);
    expect(st).toMatchObject({ verdict: 'no-account', tokenInTpm: false, compareAppIds: { rc: -8, accounts: [] } });
    expect(st.explanation).toMatch(/ilo-agent appaccount create --confirm-ilorest-account -u USER/);
  });

  it('inactive: verdict inactive (CompareAppIds -62)', async () => {
    const s = await start({ appAccount: 'inactive' });
    const r = await appaccount(s, ['status'], { user: true });
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ verdict: 'inactive', tokenInTpm: true, compareAppIds: { rc: -62, accounts: [] }, ilo: { checked: true, ilorest: true } });
  });

  it('orphan: verdict orphan (in the iLO, not in the TPM), with and without credentials', async () => {
    const s = await start({ appAccount: 'orphan' });
    const bare = await appaccount(s, ['status']);
    expect(bare.code).toBe(0);
    expect(json(bare.stdout)).toMatchObject({ verdict: 'orphan', tokenInTpm: false, compareAppIds: { rc: 0, accounts: [{ name: 'iLORest', inTpm: false, inIlo: true }] } });
    const withIlo = await appaccount(s, ['status'], { user: true });
    expect(json(withIlo.stdout)).toMatchObject({ verdict: 'orphan', ilo: { checked: true, ilorest: true } });
  });

  it('the vNIC off: verdict vnic-disabled from DetectILO (-50, type 101); nothing else asked, no session', async () => {
    const s = await start({ vnic: 'off' });
    const r = await appaccount(s, ['status'], { user: true });
    expect(r.code).toBe(0);
    const st = json(r.stdout);
    expect(st).toMatchObject({ verdict: 'vnic-disabled', detectIlo: { rc: -50, iloType: 101 }, generation: null, tokenInTpm: null, ilo: { checked: false, reason: 'no session: DetectILO answered -50, type 101' } });
    expect(st.explanation).toMatch(/InterfaceEnabled/);
    expect(s.app.counters()).toMatchObject({ detect: 1, exists: 0, compare: 0 });
    expect(s.state().counters.requests).toBe(0);
  });

  it('an iLO 6: verdict not-ilo7 with the generation; nothing else asked', async () => {
    const s = await start({ profile: 'ilo6' });
    const r = await appaccount(s, ['status']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ verdict: 'not-ilo7', generation: 6, detectIlo: { rc: 0, iloType: 6 }, tokenInTpm: null });
    expect(s.app.counters()).toMatchObject({ detect: 1, exists: 0, compare: 0 });
  });

  it('the vNIC listener down (ReadyToUse fails): verdict vnic-not-ready; the iLO side not tried', async () => {
    const s = await start({ appFaults: { vnicDown: true } });
    const r = await appaccount(s, ['status'], { user: true });
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ verdict: 'vnic-not-ready', vnicReady: false, tokenInTpm: true, ilo: { checked: false } });
    expect(s.state().counters.requests).toBe(0);
  });
});

describe('appaccount create', () => {
  it('from absent: created (one session, GenerateAppToken), then `get` with no -u logs in with the app token', async () => {
    const s = await start({ appAccount: 'absent' });
    const r = await appaccount(s, ['create', CONFIRM], { user: true });
    expect(r.code, r.stderr).toBe(0);
    const out = json(r.stdout);
    expect(out).toMatchObject({ result: 'created', libraryCode: 0, orphanDeleted: null, ilo: { hostAppName: 'iLORest' } });
    expect(s.app.counters().generate).toBe(1);
    expect(s.state().counters.logins).toBe(1);
    expect(s.app.accounts().tpm).toEqual([expect.objectContaining({ name: 'self_register', active: true })]);
    expect(s.app.accounts().ilo).toEqual([expect.objectContaining({ hostAppName: 'iLORest' })]);
    expect(s.sessions()).toEqual([]);

    const get = await runToEnd([...trust(s), 'get', '/redfish/v1/Systems/1'], { env: env(s) });
    expect(get.stderr).not.toMatch(NO_STACK);
    expect(get.code).toBe(0);
    expect(json(get.stdout).Id).toBe('1');
    expect(s.app.counters().session).toBe(1);
  });

  it('already there: exit 0, "already exists" (GenerateAppToken -55); nothing changed', async () => {
    const s = await start();
    const before = s.app.accounts();
    const r = await appaccount(s, ['create', CONFIRM], { user: true });
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ result: 'already-exists', libraryCode: -55 });
    expect(json(r.stdout).message).toMatch(/already exists.*-55/);
    expect(s.app.accounts()).toEqual(before);
  });

  it('an inactive token: exit 8, says to reactivate (CompareAppIds -62); GenerateAppToken not called, nothing changed', async () => {
    const s = await start({ appAccount: 'inactive' });
    const before = s.app.accounts();
    const r = await appaccount(s, ['create', CONFIRM], { user: true });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/token is inactive or expired \(CompareAppIds answered -62\): reactivate it.*nothing was changed/);
    expect(s.app.counters().generate).toBe(0);
    expect(s.app.accounts()).toEqual(before);
  });

  it('a token whose iLO account is gone: exit 8, says to delete it first; nothing changed', async () => {
    const s = await start();
    const member = s.app.accounts().ilo[0]?.memberId as string;
    expect((await client({ url: s.url, ca: s.ca }).call('DELETE', `${APP_ACCOUNTS}/${member}`, { basic: ['Administrator', PASSWORD] })).status).toBe(200);
    const r = await appaccount(s, ['create', CONFIRM], { user: true });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/TPM holds iLOrest's token but the iLO has no account for it: remove the token with "ilo-agent appaccount delete/);
    expect(s.app.counters().generate).toBe(0);
    expect(s.app.accounts().tpm).toHaveLength(1);
  });

  it('on an iLO 6: exit 7, application accounts exist from iLO 7 on; no session', async () => {
    const s = await start({ profile: 'ilo6' });
    const r = await appaccount(s, ['create', CONFIRM], { user: true });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/application accounts exist from iLO 7 on; HPE's DetectILO answered 0, type 6/);
    expect(s.state().counters.requests).toBe(0);
  });

  it('a wrong password: exit 3 like a refused login, nothing created, GenerateAppToken not called', async () => {
    const s = await start({ appAccount: 'absent' });
    const r = await appaccount(s, ['create', CONFIRM], { user: true, env: { ILO_PASSWORD: 'wrong-one' } });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(s.app.counters().generate).toBe(0);
    expect(s.app.accounts()).toEqual({ tpm: [], ilo: [] });
  });

  it('orphan: the iLO\'s iLOrest account is deleted over the session first, then the account is created', async () => {
    const s = await start({ appAccount: 'orphan' });
    const old = s.app.accounts().ilo[0]?.memberId as string;
    const r = await appaccount(s, ['create', CONFIRM], { user: true });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ result: 'created', orphanDeleted: `${APP_ACCOUNTS}/${old}` });
    const now = s.app.accounts();
    expect(now.tpm).toHaveLength(1);
    expect(now.ilo).toEqual([expect.objectContaining({ hostAppName: 'iLORest' })]);
    expect(now.ilo[0]?.memberId).not.toBe(old);
  });

  it.each([
    [-8, 3, /refused the user name or password \(it answered -8/],
    [-67, 8, /GenerateAppToken failed \(it answered -67\): the TPM is in dictionary-attack lockout/],
    [-63, 8, /answered -63\): the TPM requires its owner authorisation/],
    [-54, 8, /answered -54\): saving the application token in the TPM failed/],
    [-99, 8, /answered -99\): .*GenerateAndSaveAccountError.*IAK/],
  ])('GenerateAppToken answering %i: exit %i with HPE\'s wording and the number', async (rc, exit, text) => {
    const s = await start({ appAccount: 'absent', appFaults: { generateRc: rc } });
    const r = await appaccount(s, ['create', CONFIRM], { user: true });
    expect(r.code).toBe(exit);
    expect(r.stderr).toMatch(text);
    expect(r.stdout).toBe('');
    expect(s.app.accounts()).toEqual({ tpm: [], ilo: [] });
  });

  it('GenerateAppToken answering +1 (auto-provisioning) is a success', async () => {
    const s = await start({ appAccount: 'absent', appFaults: { generateRc: 1 } });
    const r = await appaccount(s, ['create', CONFIRM], { user: true });
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ result: 'created', libraryCode: 1 });
    expect(json(r.stdout).message).toMatch(/auto-provisioning/);
  });

  it('without -u: exit 2, nothing asked of the library', async () => {
    const s = await start({ appAccount: 'absent' });
    const r = await appaccount(s, ['create', CONFIRM]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs an iLO user.*--username NAME/);
    untouched(s);
  });
});

describe('appaccount delete', () => {
  it('with credentials: the TPM token (DeleteAppTokenUsingCreds) and the iLO\'s member (DELETE), one session', async () => {
    const s = await start();
    const member = `${APP_ACCOUNTS}/${s.app.accounts().ilo[0]?.memberId}`;
    const r = await appaccount(s, ['delete', CONFIRM], { user: true });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ result: 'deleted', removed: { tpm: true, ilo: member }, left: { tpm: false, ilo: false } });
    expect(json(r.stdout).message).toMatch(/nothing is left/);
    expect(s.app.counters()).toMatchObject({ deleteWithCreds: 1, delete: 0 });
    expect(s.state().counters.logins).toBe(1);
    expect(s.app.accounts()).toEqual({ tpm: [], ilo: [] });
  });

  it('without credentials: the TPM token only (DeleteAppToken); says the iLO\'s account is left and how to remove it', async () => {
    const s = await start();
    const r = await appaccount(s, ['delete', CONFIRM]);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r.stdout);
    expect(out).toMatchObject({ result: 'deleted', removed: { tpm: true, ilo: null }, left: { tpm: false, ilo: true } });
    expect(out.message).toMatch(/the iLO still holds iLOrest's account.*appaccount delete --confirm-ilorest-account -u USER/);
    expect(s.app.counters()).toMatchObject({ delete: 1, deleteWithCreds: 0 });
    expect(s.state().counters.requests).toBe(0);
    expect(s.app.accounts()).toMatchObject({ tpm: [], ilo: [expect.objectContaining({ hostAppName: 'iLORest' })] });
  });

  it('orphan with credentials: only the iLO\'s member is removed (the TPM had no token)', async () => {
    const s = await start({ appAccount: 'orphan' });
    const r = await appaccount(s, ['delete', CONFIRM], { user: true });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ result: 'deleted', removed: { tpm: false, ilo: expect.stringMatching(/AppAccounts\/\d+$/) }, left: { tpm: false, ilo: false } });
    expect(s.app.counters()).toMatchObject({ deleteWithCreds: 0, delete: 0 });
    expect(s.app.accounts()).toEqual({ tpm: [], ilo: [] });
  });

  it('orphan without credentials: exit 8, nothing removed, says credentials are needed on the iLO side', async () => {
    const s = await start({ appAccount: 'orphan' });
    const r = await appaccount(s, ['delete', CONFIRM]);
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/TPM holds no token for iLOrest, and the iLO still holds iLOrest's account.*-u USER.*nothing was removed/);
    expect(s.app.accounts().ilo).toHaveLength(1);
  });

  it('the reverse (token in the TPM, no account in the iLO): the token is removed, said precisely', async () => {
    const s = await start();
    const member = s.app.accounts().ilo[0]?.memberId as string;
    // Someone removed the iLO's account behind the TPM's back (out-of-band, with Basic auth).
    const gone = await client({ url: s.url, ca: s.ca }).call('DELETE', `${APP_ACCOUNTS}/${member}`, { basic: ['Administrator', PASSWORD] });
    expect(gone.status).toBe(200);
    const status = await appaccount(s, ['status'], { user: true });
    expect(json(status.stdout)).toMatchObject({ verdict: 'token-only', ilo: { checked: true, ilorest: false } });
    const r = await appaccount(s, ['delete', CONFIRM], { user: true });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ result: 'deleted', removed: { tpm: true, ilo: null }, left: { tpm: false, ilo: false } });
    expect(s.app.accounts()).toEqual({ tpm: [], ilo: [] });
  });

  it('nothing anywhere: exit 0, "nothing to delete"', async () => {
    const s = await start({ appAccount: 'absent' });
    const r = await appaccount(s, ['delete', CONFIRM], { user: true });
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ result: 'nothing-to-delete', removed: { tpm: false, ilo: null } });
  });
});

describe('appaccount refusals (exit 2, nothing asked of the library or the iLO)', () => {
  it.each([['create'], ['delete']])('%s without --confirm-ilorest-account: says what the flag is and why', async (sub) => {
    const s = await start();
    const r = await appaccount(s, [sub], { user: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--confirm-ilorest-account/);
    expect(r.stderr).toMatch(/iLOrest's password-less login on this host/);
    untouched(s);
  });

  it.each([['status'], ['create', CONFIRM], ['delete', CONFIRM]])('-p/--password refused (%s)', async (...sub) => {
    const s = await start();
    const r = await runToEnd([...trust(s), '-u', 'Administrator', '-p', 'from-argv', 'appaccount', ...sub], { env: env(s) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/takes no password on the command line \(-p\/--password/);
    expect(r.stderr).toMatch(/ILO_PASSWORD, --password-file FILE or --password-stdin/);
    untouched(s);
  });

  it.each([['status'], ['create', CONFIRM], ['delete', CONFIRM]])('--url refused (%s): TPM operations are local only', async (...sub) => {
    const s = await start();
    const refused = await runToEnd([...trust(s), '--url', s.url, '-u', 'Administrator', 'appaccount', ...sub], { env: env(s, creds) });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/works on this host's own iLO only.*--url \/ ILO_URL do not go with it/);
    const byEnv = await runToEnd([...trust(s), 'appaccount', ...sub], { env: env(s, { ILO_URL: s.url }) });
    expect(byEnv.code).toBe(2);
  });
});

describe('appaccount as a user other than root', () => {
  if (!AS_ROOT && process.env.CI === 'true') {
    it('the non-root refusal test needs root to spawn as nobody (required when CI=true)', () => {
      throw new Error('run the suite as root under CI: test/cli/appaccount.test.ts spawns the CLI as nobody');
    });
  }
  it.skipIf(!AS_ROOT).each([['create'], ['delete']])('%s as nobody (65534): exit 7 before HPE\'s library is loaded or called', async (sub) => {
    const s = await start();
    // A library that writes a line when it is loaded: the marker must stay empty.
    const libDir = mkdtempSync(join(tmpdir(), 'ilo-agent-appaccount-lib-'));
    try {
      chmodSync(libDir, 0o755);
      const lib = join(libDir, 'libilorestchif.so');
      const marker = plantLibrary(lib);
      writeFileSync(marker, '');
      chmodSync(marker, 0o666);
      const r = await runToEnd(['-u', 'Administrator', 'appaccount', sub, CONFIRM], {
        env: env(s, { ...creds, ILO_CHIF_LIB: lib }),
        uid: 65534,
        gid: 65534,
      });
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(new RegExp(`appaccount ${sub} changes this host's TPM.*run it as root.*HPE's library was not loaded`));
      expect(readFileSync(marker, 'utf8')).toBe('');
      untouched(s);
    } finally {
      rmSync(libDir, { recursive: true, force: true });
    }
  });
  it.skipIf(AS_ROOT)('SKIPPED: not root, so the CLI cannot be spawned as nobody', () => undefined);
});

describe('appaccount and signals: the one session is deleted', () => {
  it.each([
    ['status', 'SIGTERM', 143],
    ['create', 'SIGINT', 130],
    ['delete', 'SIGHUP', 129],
  ] as const)('%s stopped by %s while the iLO holds the AppAccounts GET: exit %i, no session left', async (sub, signal, exit) => {
    const s = await start(sub === 'create' ? { appAccount: 'absent' } : {});
    const before = s.app.accounts();
    s.faults.inject({ type: 'hang', method: 'GET', path: APP_ACCOUNTS });
    const args = sub === 'status' ? [sub] : [sub, CONFIRM];
    const r = runCli([...trust(s), '-u', 'Administrator', 'appaccount', ...args], { env: env(s, creds) });
    await until(() => s.faults.held === 1 || r.child.exitCode !== null, 'the AppAccounts GET is held', 20_000);
    expect(s.faults.held, r.stderr()).toBe(1);
    expect(s.sessions()).toEqual([expect.objectContaining({ user: 'Administrator', transport: 'vnic' })]);
    r.signal(signal);
    const { code } = await r.exited;
    expect(code).toBe(exit);
    expect(r.stdout()).toBe('');
    expect(r.stderr()).not.toMatch(NO_STACK);
    // Deleted by the CLI itself while the GET is still held.
    expect(s.faults.held).toBe(1);
    expect(s.sessions()).toEqual([]);
    if (sub === 'delete') {
      // The token goes first (as iLOrest does); the iLO's member was not reached.
      expect(s.app.accounts()).toEqual({ tpm: [], ilo: before.ilo });
      expect(s.app.counters()).toMatchObject({ deleteWithCreds: 1 });
    } else {
      expect(s.app.accounts()).toEqual(before);
      expect(s.app.counters()).toMatchObject({ generate: 0, delete: 0, deleteWithCreds: 0 });
    }
  }, 60_000);
});
