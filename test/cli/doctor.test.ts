// `doctor` as a user runs it, against the simulator (HTTPS) and the emulator library (in-band,
// CHIF and the iLO 7 vNIC): every check in order, the cure for each failure, the exit code of the
// first failure, and no session left behind.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { killLive, runToEnd } from '../helpers/cli.js';
import { client } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { CLEAN_ENV } from '../helpers/env.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const NO_STACK = /\n\s+at /;
const PASSWORD = 'doctor-S3cret!';
const ADMIN = { ...CLEAN_ENV, ILO_USERNAME: 'Administrator', ILO_PASSWORD: PASSWORD };
const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-doctor-'));
let sim: Simulator | undefined;
let n = 0;

afterEach(async () => {
  killLive();
  await sim?.close();
  sim = undefined;
});
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

interface Report {
  path: string;
  ok: boolean;
  checks: { name: string; status: string; found: string; fix?: string; code?: string }[];
}

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startSimulator({ loginFailureDelayMs: 0, users: { Administrator: PASSWORD }, chifSocket: join(TMP, `c${n++}.sock`), ...options });
  return sim;
}
function file(content: string): string {
  const f = join(TMP, `f${n++}`);
  writeFileSync(f, content);
  return f;
}
async function doctor(args: string[], env: NodeJS.ProcessEnv = ADMIN) {
  const r = await runToEnd([...args, 'doctor', '--output', 'json'], { env });
  expect(r.stderr).not.toMatch(NO_STACK);
  const report = JSON.parse(r.stdout) as Report;
  const status = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
  const check = (name: string) => report.checks.find((c) => c.name === name);
  return { ...r, report, status, check };
}
const pinOf = (pem: string) => `sha256:${new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase()}`;

describe('doctor over HTTPS', () => {
  it('healthy: every check in order, exit 0, the session it made deleted', async () => {
    const s = await start();
    const r = await doctor(['--url', s.url, '--ca-cert', file(s.ca)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report).toMatchObject({ path: 'https', ok: true });
    expect(r.report.checks.map((c) => c.name)).toEqual(['dns', 'tcp', 'tls', 'service', 'clock', 'login', 'sessions', 'logout']);
    expect(r.report.checks.every((c) => c.status === 'ok' || c.status === 'skip')).toBe(true);
    expect(r.check('service')?.found).toContain('iLO 6');
    expect(r.check('tls')?.found).toContain(pinOf(s.ca));
    expect(s.state().counters.logins).toBe(1);
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('a certificate no trusted CA signed: exit 5, its issuer and fingerprint shown, the fix names --ca-cert; nothing sent to the service', async () => {
    const s = await start();
    const r = await doctor(['--url', s.url]);
    expect(r.code).toBe(5);
    expect(r.report.ok).toBe(false);
    expect(r.status.tls).toBe('fail');
    expect(r.check('tls')?.found).toContain(pinOf(s.ca));
    expect(r.check('tls')?.fix).toContain('--ca-cert');
    expect(r.check('service')).toBeUndefined();
    expect(s.state().counters.requests).toBe(0);
  }, 30_000);

  it('a certificate for other names (the right CA): the names it carries, exit 5', async () => {
    const s = await start({ profile: 'ilo7' });
    const vnic = new URL(s.vnicUrl as string);
    const r = await doctor(['--url', `https://127.0.0.1:${vnic.port}`, '--ca-cert', file(s.vnicCa as string)]);
    expect(r.code).toBe(5);
    expect(r.check('tls')?.found).toContain('not for "127.0.0.1"');
    expect(r.check('tls')?.fix).toContain('ilo-simulator.local');
  }, 30_000);

  it('--insecure: the certificate is a warning, the rest runs, exit 0', async () => {
    const s = await start();
    const r = await doctor(['--url', s.url, '--insecure']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.status.tls).toBe('warn');
    expect(r.status.login).toBe('ok');
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('a wrong password: the login fails with exit 3, the password never shown', async () => {
    const s = await start();
    const r = await doctor(['--url', s.url, '--ca-cert', file(s.ca)], { ...ADMIN, ILO_PASSWORD: 'not-the-Password-9' });
    expect(r.code).toBe(3);
    expect(r.status.login).toBe('fail');
    expect(r.stdout + r.stderr).not.toContain('not-the-Password-9');
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('a full table: exit 4; who fills it is read with Basic credentials, and the fix is the exact prune command', async () => {
    const s = await start({ maxSessions: 2 });
    const http = client(s);
    try {
      for (let i = 0; i < 2; i++) expect((await http.login('Administrator', PASSWORD)).res.status).toBe(201);
      const r = await doctor(['--url', s.url, '--ca-cert', file(s.ca)]);
      expect(r.code).toBe(4);
      expect(r.status.login).toBe('fail');
      expect(r.check('login')?.fix).toContain(`ilo-agent --url ${s.url} -u Administrator --auth basic sessions prune --all`);
      expect(r.status.sessions).toBe('warn');
      expect(r.check('sessions')?.found).toContain('the table is full: 2 other sessions (2 × Administrator/REST)');
      expect(s.sessions().filter((x) => !x.transient)).toHaveLength(2);
    } finally {
      http.close();
    }
  }, 30_000);

  it('a table filling up: a warning with the prune command, exit 0', async () => {
    const s = await start({ maxSessions: 12 });
    const http = client(s);
    try {
      for (let i = 0; i < 8; i++) expect((await http.login('Administrator', PASSWORD)).res.status).toBe(201);
      const r = await doctor(['--url', s.url, '--ca-cert', file(s.ca)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.status.sessions).toBe('warn');
      expect(r.check('sessions')?.fix).toContain('sessions prune --user Administrator --older-than 30m --yes');
      expect(s.sessions()).toHaveLength(8);
    } finally {
      http.close();
    }
  }, 30_000);

  it('nothing listening: tcp fails, exit 5', async () => {
    const r = await doctor(['--url', 'https://127.0.0.1:9']);
    expect(r.code).toBe(5);
    expect(r.status.tcp).toBe('fail');
    expect(r.check('tcp')?.found).toContain('ECONNREFUSED');
  }, 30_000);

  it('a name that does not resolve: dns fails, exit 5', async () => {
    const r = await doctor(['--url', 'https://no-such-ilo.invalid']);
    expect(r.code).toBe(5);
    expect(r.status.dns).toBe('fail');
    expect(r.report.checks).toHaveLength(1);
  }, 30_000);

  it('a terminal-style report: one line per check with the fix under a failure', async () => {
    const s = await start();
    const r = await runToEnd(['--url', s.url, 'doctor', '--output', 'pretty'], { env: ADMIN });
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/^ok {4}tcp /m);
    expect(r.stdout).toMatch(/^FAIL {2}tls /m);
    expect(r.stdout).toMatch(/^ {20}fix: give the CA/m);
    expect(r.stderr).toContain('doctor: the tls check failed');
  }, 30_000);
});

describe('doctor in-band', () => {
  const inband = (s: Simulator, extra: NodeJS.ProcessEnv = {}) => ({ ...CLEAN_ENV, ILO_URL: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: s.chifSocket as string, ILO_VNIC_URL: s.vnicUrl ?? '', ...extra });

  it('CHIF (iLO 6): library, privileges, path, login, sessions, logout; exit 0, no session left', async () => {
    const s = await start();
    const r = await doctor([], inband(s));
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.path).toBe('in-band');
    expect(r.report.checks.map((c) => c.name)).toEqual(['library', 'privileges', 'path', 'login', 'sessions', 'logout']);
    expect(r.check('library')?.found).toContain(EMULATOR);
    expect(r.check('path')?.found).toContain('CHIF');
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('no library: exit 7, where it looked and the fix', async () => {
    const s = await start();
    const r = await doctor([], inband(s, { ILO_CHIF_LIB: join(TMP, 'no-such-library.so') }));
    expect(r.code).toBe(7);
    expect(r.status.library).toBe('fail');
    expect(r.check('library')?.fix).toContain('--url');
    expect(r.report.checks).toHaveLength(1);
  }, 30_000);

  it('a security state that asks for credentials, and none given: the login fails with exit 8', async () => {
    const s = await start({ securityState: 'highsecurity' });
    const r = await doctor([], inband(s));
    expect(r.code).toBe(8);
    expect(r.status.login).toBe('fail');
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('iLO 7 with the application account: path vNIC, vnic and app account checked, login by app token; exit 0', async () => {
    const s = await start({ profile: 'ilo7' });
    const r = await doctor(['--pin', pinOf(s.vnicCa as string)], inband(s));
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.checks.map((c) => c.name)).toEqual(['library', 'privileges', 'path', 'vnic', 'app account', 'login', 'sessions', 'logout']);
    expect(r.check('library')?.found).toContain('iLO 7 capable');
    expect(r.check('path')?.found).toContain('vNIC');
    expect(r.check('login')?.found).toContain('app token');
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('iLO 7 without an application account: exit 8, the fix names appaccount create and -u', async () => {
    const s = await start({ profile: 'ilo7', appAccount: 'absent' });
    const r = await doctor(['--pin', pinOf(s.vnicCa as string)], inband(s));
    expect(r.code).toBe(8);
    expect(r.status['app account']).toBe('fail');
    expect(r.check('app account')?.fix).toContain('ilo-agent appaccount create --confirm-ilorest-account');
    expect(s.state().counters.logins).toBe(0);
  }, 30_000);

  it('iLO 7 with the vNIC disabled: the path fails with exit 7', async () => {
    const s = await start({ profile: 'ilo7', vnic: 'off' });
    const r = await doctor([], inband(s));
    expect(r.code).toBe(7);
    expect(r.status.path).toBe('fail');
  }, 30_000);

  const root = process.getuid?.() === 0;
  const why = 'SKIPPED: running the CLI as another user needs root';
  if (!root && process.env.CI === 'true') {
    it('needs root under CI', () => {
      throw new Error(`${why}; CI runs as root`);
    });
  }
  it.skipIf(!root)(root ? 'not root: a warning naming sudo, whatever comes after' : why, async () => {
    const s = await start();
    const r = await runToEnd(['doctor', '--output', 'json'], { env: inband(s), uid: 65534, gid: 65534 });
    const report = JSON.parse(r.stdout) as Report;
    const privileges = report.checks.find((c) => c.name === 'privileges');
    expect(privileges?.status).toBe('warn');
    expect(privileges?.found).toContain('uid 65534, not root');
    expect(privileges?.fix).toContain('sudo');
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('iLO 7 with no host address on the vNIC link and no --pin: the vnic check fails with exit 7', async () => {
    const s = await start({ profile: 'ilo7' });
    const r = await doctor([], inband(s));
    expect(r.code).toBe(7);
    expect(r.status.vnic).toBe('fail');
  }, 30_000);
});
