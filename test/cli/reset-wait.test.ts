// The reset-and-wait recipe against the simulator, over HTTPS and in-band: `apply` stages a BIOS
// change, `raw post …ComputerSystem.Reset` restarts the host, `wait … PowerState=On
// Oem.Hpe.PostState=FinishedPost` polls through POST (the simulator's clock held still until wait
// has seen the host in POST), and afterwards the staged value is the BIOS's current one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killLive, runToEnd } from '../helpers/cli.js';
import { client } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SYSTEM = '/redfish/v1/Systems/1';
const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
const BIOS = '/redfish/v1/systems/1/bios';
const NO_STACK = /\n\s+at /;
const CLEAN_ENV: NodeJS.ProcessEnv = { ILO_URL: undefined, ILO_USERNAME: undefined, ILO_PASSWORD: undefined, ILO_AGENT_SOCKET: undefined, ILO_CHIF_LIB: undefined, ILO_CHIF_EMULATOR_SOCKET: undefined, ILO_AUTH: undefined };
const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-reset-wait-'));
let n = 0;
let sim: Simulator | undefined;
afterEach(async () => {
  killLive();
  await sim?.close();
  sim = undefined;
});
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe.each(['https', 'chif'] as const)('apply, reset and wait over %s', (transport) => {
  it('wait sees the host in POST, then FinishedPost once POST is over; the staged BIOS value is then current', async () => {
    let now = Date.parse('2026-03-04T05:06:07Z');
    const s = await startSimulator({ loginFailureDelayMs: 0, chifSocket: join(TMP, `c${n++}.sock`), clock: () => now, postSeconds: 20 });
    sim = s;
    const ca = join(TMP, `ca${n++}.pem`);
    writeFileSync(ca, s.ca);
    const cli = (args: string[]) =>
      transport === 'https'
        ? runToEnd(['--url', s.url, '--ca-cert', ca, ...args], { env: { ...CLEAN_ENV, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' } })
        : runToEnd(args, { env: { ...CLEAN_ENV, ILO_URL: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: s.chifSocket as string } });
    const http = client(s);
    const direct = async (path: string) => (await http.call('GET', path, { basic: ['Administrator', 'password'] })).json;
    try {
      const plan = join(TMP, `plan${n++}.json`);
      writeFileSync(plan, JSON.stringify({ resources: [{ path: BIOS, properties: { Attributes: { WorkloadProfile: 'Virtualization-MaxPerformance' } } }] }));
      const applied = await cli(['apply', plan]);
      expect(applied.code, applied.stderr).toBe(0);
      expect((await direct(BIOS)).Attributes.WorkloadProfile).toBe('GeneralPowerEfficientCompute');

      const reset = await cli(['raw', 'post', RESET, '--data', '{"ResetType":"ForceRestart"}']);
      expect(reset.code, reset.stderr).toBe(0);
      expect((await direct(SYSTEM)).Oem.Hpe.PostState).toBe('InPost');

      const requests = s.state().counters.requests;
      const waiting = cli(['wait', SYSTEM, 'PowerState=On', 'Oem.Hpe.PostState=FinishedPost', '--interval', '100ms', '--for', '2m']);
      // Its login (and service root read) and polls, all answered "InPost" while the clock stands still.
      await until(() => s.state().counters.requests >= requests + 4, 'wait has polled in POST', 60_000);
      now += 20_000;
      const waited = await waiting;
      expect(waited.code, waited.stderr).toBe(0);
      expect(waited.stderr).not.toMatch(NO_STACK);
      const result = JSON.parse(waited.stdout) as { matched: boolean; polls: number; current: { Oem: { Hpe: { PostState: string } } } };
      expect(result.matched).toBe(true);
      expect(result.polls).toBeGreaterThanOrEqual(2);
      expect(result.current.Oem.Hpe.PostState).toBe('FinishedPost');

      expect((await direct(BIOS)).Attributes.WorkloadProfile).toBe('Virtualization-MaxPerformance');
      expect(s.sessions()).toEqual([]);
    } finally {
      http.close();
    }
  }, 120_000);
});
