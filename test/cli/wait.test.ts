// `wait PATH key=value...` as a user runs it, over HTTPS and in-band (CHIF through the emulator):
// polls over one session until the resource matches, waits through a busy or resetting iLO
// (503s, every session dropped), exits 12 when --for runs out, and leaves no session.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killLive, runCli, runToEnd } from '../helpers/cli.js';
import { client } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';
import { CLEAN_ENV } from '../helpers/env.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SYSTEM = '/redfish/v1/Systems/1';
const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-wait-'));
afterAll(() => {
  killLive();
  rmSync(TMP, { recursive: true, force: true });
});

interface Waited {
  matched: boolean;
  polls: number;
  seconds: number;
  current: Record<string, unknown> | null;
}

describe.each(['https', 'chif'] as const)('over %s', (transport) => {
  let sim: Simulator;
  let caFile: string;
  let http: ReturnType<typeof client>;

  beforeAll(async () => {
    sim = await startSimulator({ chifSocket: join(TMP, `${transport}.sock`), loginFailureDelayMs: 0 });
    caFile = join(TMP, `${transport}-ca.pem`);
    writeFileSync(caFile, sim.ca);
    http = client(sim);
  });
  afterAll(async () => {
    http?.close();
    await sim?.close();
  });
  afterEach(async () => {
    sim.faults.clear();
    sim.faults.release();
    sim.expireSessions();
    await setAssetTag('');
  });

  const args = (rest: string[]) => (transport === 'https' ? ['--url', sim.url, '--ca-cert', caFile, ...rest] : rest);
  const env = () =>
    transport === 'https'
      ? { ...CLEAN_ENV, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' }
      : { ...CLEAN_ENV, ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket ?? '' };
  const start = (rest: string[]) => runCli(args(rest), { env: env() });
  const requests = () => sim.state().counters.requests;
  async function setAssetTag(value: string) {
    const res = await http.call('PATCH', SYSTEM, { basic: ['Administrator', 'password'], body: { AssetTag: value } });
    expect(res.status).toBe(200);
  }

  it('polls until the resource matches, then prints {matched: true, current} and exits 0 with no session left', async () => {
    const run = start(['wait', SYSTEM, 'AssetTag=ready', '--interval', '100ms', '--for', '60s']);
    const before = requests();
    // A few polls that do not match yet, then the change.
    await until(() => requests() >= before + 4, 'the wait has polled a few times', 20_000);
    await setAssetTag('ready');
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(0);
    const out = JSON.parse(run.stdout()) as Waited;
    expect(out.matched).toBe(true);
    expect(out.current).toEqual({ AssetTag: 'ready' });
    expect(out.polls).toBeGreaterThanOrEqual(2);
    expect(sim.state().counters.logins).toBeGreaterThan(0);
    expect(sim.sessions()).toEqual([]);
  }, 40_000);

  it('already matching: one poll, exit 0', async () => {
    await setAssetTag('there');
    const r = await runToEnd(args(['wait', SYSTEM, 'AssetTag=there']), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ matched: true, polls: 1 });
    expect(sim.sessions()).toEqual([]);
  }, 30_000);

  it('--for runs out: exit 12, {matched: false} with the last values read, no session left', async () => {
    const r = await runToEnd(args(['wait', SYSTEM, 'AssetTag=never', '--interval', '100ms', '--for', '1s']), { env: env() });
    expect(r.code, r.stderr).toBe(12);
    const out = JSON.parse(r.stdout) as Waited;
    expect(out.matched).toBe(false);
    expect(out.current).toEqual({ AssetTag: '' });
    expect(out.polls).toBeGreaterThanOrEqual(2);
    expect(sim.sessions()).toEqual([]);
  }, 30_000);

  it('waits through 503s (a busy iLO), says so once on stderr, then matches', async () => {
    await setAssetTag('up');
    sim.faults.inject({ type: 'status503', on: 'request', method: 'GET', path: SYSTEM, times: 3 });
    const r = await runToEnd(args(['wait', SYSTEM, 'AssetTag=up', '--interval', '100ms', '--for', '60s']), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ matched: true, polls: 4 });
    expect(r.stderr.match(/still waiting/g)).toHaveLength(1);
    expect(r.stderr).toContain('the iLO answers again');
    expect(sim.sessions()).toEqual([]);
  }, 30_000);

  it('every session dropped mid-wait (as an iLO reset does): logs in again, goes on, leaves no session', async () => {
    const run = start(['wait', SYSTEM, 'AssetTag=after-reset', '--interval', '100ms', '--for', '60s']);
    await until(() => sim.sessions().length === 1, 'the wait has its session', 20_000);
    const logins = sim.state().counters.logins;
    sim.expireSessions();
    await until(() => sim.state().counters.logins > logins && sim.sessions().length === 1, 'the wait logged in again', 20_000);
    await setAssetTag('after-reset');
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(0);
    expect(JSON.parse(run.stdout())).toMatchObject({ matched: true });
    expect(sim.sessions()).toEqual([]);
  }, 40_000);

  it('a resource that does not exist is not waited for: exit 6 at once', async () => {
    const r = await runToEnd(args(['wait', '/redfish/v1/Systems/9', 'PowerState=On', '--for', '10m']), { env: env() });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(sim.sessions()).toEqual([]);
  }, 30_000);

  it('SIGTERM while waiting: exit 143, the session deleted', async () => {
    const run = start(['wait', SYSTEM, 'AssetTag=never', '--interval', '100ms', '--for', '10m']);
    await until(() => sim.sessions().length === 1, 'the wait has its session', 20_000);
    run.signal('SIGTERM');
    const { code } = await run.exited;
    expect(run.stderr()).toContain('SIGTERM');
    expect(code).toBe(143);
    expect(sim.sessions()).toEqual([]);
  }, 40_000);
});

describe('bad input: exit 2, nothing sent', () => {
  it.each([
    [['wait', SYSTEM], 'nothing to wait for'],
    [['wait', SYSTEM, 'PowerState'], 'expected key=value'],
    [['wait', 'Systems/1', 'PowerState=On'], 'not a Redfish path'],
    [['wait', SYSTEM, 'PowerState=On', '--for', '0'], 'above 0'],
    [['wait', SYSTEM, '--data', '[1]'], 'must be a JSON object'],
  ])('%j', async (argv, message) => {
    // No iLO at all: a run that tried to connect would fail with 5, not 2.
    const r = await runToEnd(['--url', 'https://127.0.0.1:9', ...argv], { env: { ...CLEAN_ENV, ILO_USERNAME: 'a', ILO_PASSWORD: 'b' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
