// `--auth basic`: no session at all, every request carries the credentials. The way in when the
// iLO's session table is full (HPE documents Basic for it), and nothing to leave behind even on
// SIGKILL. Run as a user runs it: the built bin against an in-process simulator.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { killLive, runCli, runToEnd } from '../helpers/cli.js';
import { client } from '../helpers/https-client.js';
import { guardiansTagged } from '../helpers/proc.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';
import { CLEAN_ENV } from '../helpers/env.js';

const SYSTEM = '/redfish/v1/Systems/1';
const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const NO_STACK = /\n\s+at /;
const ADMIN = { ...CLEAN_ENV, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' };
const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-basic-'));
let sim: Simulator | undefined;
let http: ReturnType<typeof client> | undefined;

afterEach(async () => {
  killLive();
  http?.close();
  sim?.faults.release();
  await sim?.close();
  sim = undefined;
  http = undefined;
});
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

async function start(options: SimulatorOptions = {}): Promise<{ s: Simulator; target: string[] }> {
  sim = await startSimulator({ loginFailureDelayMs: 0, ...options });
  http = client(sim);
  const ca = join(TMP, `ca-${Date.now()}-${Math.random()}.pem`);
  writeFileSync(ca, sim.ca);
  return { s: sim, target: ['--url', sim.url, '--ca-cert', ca] };
}
const lasting = (s: Simulator) => s.sessions().filter((x) => !x.transient);

describe('--auth basic', () => {
  it('makes no session: no login, no guardian, every request with Basic credentials; exit 0, the table empty', async () => {
    const { s, target } = await start();
    const tag = `basic-${process.pid}-${Date.now()}`;
    const r = await runToEnd([...target, '--auth', 'basic', '--log-level', 'debug', 'get', SYSTEM], { env: { ...ADMIN, GUARDIAN_TEST_TAG: tag } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).Id).toBe('1');
    expect(s.state().counters.logins).toBe(0);
    expect(r.stderr).not.toContain('guardian watching');
    expect(guardiansTagged(tag)).toEqual([]);
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('the way out of a full table: get exits 4 naming --auth basic; with it, sessions list and prune work, then a normal run does', async () => {
    const { s, target } = await start({ maxSessions: 2 });
    for (let i = 0; i < 2; i++) expect((await http!.login()).res.status).toBe(201);
    const full = await runToEnd([...target, 'get', SYSTEM], { env: ADMIN });
    expect(full.code).toBe(4);
    expect(full.stderr).toContain('ilo-agent --auth basic sessions prune --all');

    const list = await runToEnd([...target, '--auth', 'basic', 'sessions', 'list', '--output', 'json'], { env: ADMIN });
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { user: string; ours: boolean }[];
    expect(rows.filter((r) => !r.ours)).toHaveLength(2);

    const prune = await runToEnd([...target, '--auth', 'basic', 'sessions', 'prune', '--all', '--yes'], { env: ADMIN });
    expect(prune.code, prune.stderr).toBe(0);
    expect(lasting(s)).toEqual([]);

    const after = await runToEnd([...target, 'get', SYSTEM], { env: ADMIN });
    expect(after.code, after.stderr).toBe(0);
    expect(s.sessions()).toEqual([]);
  }, 60_000);

  it('SIGKILL in the middle of a request leaves nothing: no session was made, a transient one ends with the request', async () => {
    const { s, target } = await start({ faults: [{ type: 'hang', on: 'request', method: 'GET', path: SYSTEM }] });
    const run = runCli([...target, '--auth', 'basic', 'get', SYSTEM], { env: ADMIN });
    await until(() => s.faults.held === 1, 'the GET is held', 20_000);
    // Nothing lasting while the request is in the iLO's hands (a transient session at most).
    expect(lasting(s)).toEqual([]);
    process.kill(-(run.child.pid as number), 'SIGKILL');
    const { signal } = await run.exited;
    expect(signal).toBe('SIGKILL');
    s.faults.release();
    await until(() => s.sessions().length === 0, 'the transient session has ended', 20_000);
    expect(s.state().counters.logins).toBe(0);
  }, 40_000);

  it('a wrong password: exit 3, the password never shown', async () => {
    const { s, target } = await start();
    const r = await runToEnd([...target, '--auth', 'basic', 'get', SYSTEM], { env: { ...ADMIN, ILO_PASSWORD: 'wrong-Secret-1' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('refused the Basic credentials of Administrator');
    expect(r.stderr).not.toContain('wrong-Secret-1');
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('ILO_AUTH=basic does the same', async () => {
    const { s, target } = await start();
    const r = await runToEnd([...target, 'get', SYSTEM, '--value', 'Id'], { env: { ...ADMIN, ILO_AUTH: 'basic' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1\n');
    expect(s.state().counters.logins).toBe(0);
  }, 30_000);

  it.each([
    ['serve', (target: string[]) => [...target, '--auth', 'basic', 'serve', '--socket', join(TMP, `s-${Date.now()}.sock`)], {}, 'serve holds one session'],
    ['--agent', (target: string[]) => [...target, '--auth', 'basic', '--agent', join(TMP, 'none.sock'), 'get', SYSTEM], {}, 'does not go with --agent'],
    ['in-band over CHIF', () => ['--auth', 'basic', '-u', 'Administrator', 'get', SYSTEM], { ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: 'chif' }, 'is for HTTPS and the vNIC'],
    ['no user', (target: string[]) => [...target.slice(0, 2), '--insecure', '--auth', 'basic', 'get', SYSTEM], { ILO_USERNAME: '' }, 'user name'],
    ['an unknown kind', (target: string[]) => [...target, '--auth', 'token', 'get', SYSTEM], {}, 'Allowed choices'],
  ] as const)('refused with %s: exit 2, nothing sent', async (_what, argv, extraEnv, message) => {
    const chifSocket = join(TMP, `chif-${Date.now()}.sock`);
    const { s, target } = await start({ chifSocket });
    const env = { ...ADMIN, ...extraEnv, ...('ILO_CHIF_EMULATOR_SOCKET' in extraEnv ? { ILO_CHIF_EMULATOR_SOCKET: chifSocket, ILO_URL: '' } : {}) };
    const r = await runToEnd([...argv(target)], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    expect(s.state().counters.requests).toBe(0);
    expect(s.sessions()).toEqual([]);
  }, 30_000);
});
