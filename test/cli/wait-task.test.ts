// `raw ... --wait-task`: an answer 202 with a task monitor is followed over the same session to
// its end, over HTTPS and in-band; a failed task exits 6, a task that outlasts the limit exits 12.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { killLive, runToEnd } from '../helpers/cli.js';
import { client, messageIds } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { CLEAN_ENV } from '../helpers/env.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-wait-task-'));
let n = 0;
let sim: Simulator | undefined;
afterEach(async () => {
  killLive();
  await sim?.close();
  sim = undefined;
});
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe.each(['https', 'chif'] as const)('raw --wait-task over %s', (transport) => {
  async function run(options: SimulatorOptions, args: string[]) {
    sim = await startSimulator({ loginFailureDelayMs: 0, chifSocket: join(TMP, `c${n++}.sock`), ...options });
    const ca = join(TMP, `ca${n++}.pem`);
    writeFileSync(ca, sim.ca);
    return transport === 'https'
      ? runToEnd(['--url', sim.url, '--ca-cert', ca, ...args], { env: { ...CLEAN_ENV, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' } })
      : runToEnd(args, { env: { ...CLEAN_ENV, ILO_URL: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket as string } });
  }
  const powerState = async () => {
    const c = client(sim as Simulator);
    try {
      return ((await c.call('GET', '/redfish/v1/Systems/1', { basic: ['Administrator', 'password'] })).json as { PowerState: string }).PowerState;
    } finally {
      c.close();
    }
  };
  const TASK = { type: 'task', on: 'request', method: 'POST', path: RESET } as const;

  it('follows the monitor to the operation\'s final answer: exit 0, the Success envelope, one session, none left', async () => {
    const r = await run({ taskMs: 1_200, faults: [TASK] }, ['raw', 'post', RESET, '--data', '{"ResetType":"ForceOff"}', '--wait-task']);
    expect(r.code, r.stderr).toBe(0);
    expect(messageIds(JSON.parse(r.stdout))).toEqual(['Base.1.18.Success']);
    expect(await powerState()).toBe('Off');
    const s = sim as Simulator;
    expect(s.state().counters.logins).toBe(1);
    // The POST, at least one monitor GET while it ran, and the final one.
    expect(s.state().counters.requests).toBeGreaterThanOrEqual(4);
    expect(s.sessions()).toEqual([]);
  }, 30_000);

  it('without --wait-task: the 202 and its Task are printed, exit 0', async () => {
    const r = await run({ taskMs: 60_000, faults: [TASK] }, ['raw', 'post', RESET, '--data', '{"ResetType":"ForceOff"}']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ TaskState: 'Running', TaskMonitor: '/redfish/v1/TaskService/TaskMonitors/1' });
  }, 30_000);

  it('a task that fails: exit 6 naming the error, the session deleted', async () => {
    const r = await run({ taskMs: 500, faults: [{ ...TASK, type: 'task-fail' }] }, ['raw', 'post', RESET, '--data', '{"ResetType":"ForceOff"}', '--wait-task']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('InternalError');
    expect((sim as Simulator).sessions()).toEqual([]);
  }, 30_000);

  it('a task that outlasts the limit: exit 12, the last Task state on stdout', async () => {
    const r = await run({ taskMs: 600_000, faults: [TASK] }, ['raw', 'post', RESET, '--data', '{"ResetType":"ForceOff"}', '--wait-task', '1s']);
    expect(r.code, r.stderr).toBe(12);
    expect(JSON.parse(r.stdout)).toMatchObject({ TaskState: 'Running' });
    expect((sim as Simulator).sessions()).toEqual([]);
  }, 30_000);
});
