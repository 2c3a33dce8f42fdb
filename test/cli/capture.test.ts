// `capture` then `apply`, as the issue puts it: capture from one server, `apply --check` on another
// shows the drift, `apply` removes it, `apply --check` then exits 0. Writability comes from the
// iLO's own schemas (the mockups carry HPE's SchemaStore), so read-only and volatile properties
// stay out and a captured file applies cleanly; without schemas, the documented list decides.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { killLive, runToEnd } from '../helpers/cli.js';
import { PROJECT_ROOT, sharedPath, skipReason } from '../helpers/shared.js';
import { CLEAN_ENV } from '../helpers/env.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const MOCKUP = 'mockups/ilo6-dl380a';
const mockup = sharedPath(MOCKUP);
const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-capture-'));
let n = 0;
const sims: Simulator[] = [];
afterEach(async () => {
  killLive();
  await Promise.all(sims.splice(0).map((s) => s.close()));
});
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

async function start(options: SimulatorOptions = {}): Promise<{ sim: Simulator; over: (transport: 'https' | 'chif', args: string[]) => ReturnType<typeof runToEnd> }> {
  const sim = await startSimulator({ loginFailureDelayMs: 0, chifSocket: join(TMP, `c${n++}.sock`), ...options });
  sims.push(sim);
  const ca = join(TMP, `ca${n++}.pem`);
  writeFileSync(ca, sim.ca);
  const over = (transport: 'https' | 'chif', args: string[]) =>
    transport === 'https'
      ? runToEnd(['--url', sim.url, '--ca-cert', ca, ...args], { env: { ...CLEAN_ENV, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' } })
      : runToEnd(args, { env: { ...CLEAN_ENV, ILO_URL: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket as string } });
  return { sim, over };
}

interface Plan {
  comment: string;
  resources: { path: string; properties: Record<string, unknown> }[];
}

const PATHS = ['/redfish/v1/Systems/1', '/redfish/v1/Systems/1/bios', '/redfish/v1/Managers/1/DateTime', '/redfish/v1/Managers/1/NetworkProtocol'];

describe.skipIf(!mockup)(mockup ? 'capture and apply between two iLO 6 simulators (HPE schemas from the mockup)' : skipReason(MOCKUP), () => {
  it.each(['https', 'chif'] as const)('over %s: capture → apply --check (10) → apply → apply --check (0); no session left', async (transport) => {
    const a = await start({ mockupDir: mockup });
    const b = await start({ mockupDir: mockup });
    // Server A is the reference: its AssetTag, a BIOS setting and its NTP servers differ from B's.
    expect((await a.over(transport, ['set', '/redfish/v1/Systems/1', 'AssetTag=reference'])).code).toBe(0);
    expect((await a.over(transport, ['set', '/redfish/v1/Managers/1/DateTime', 'StaticNTPServers=["ntp1.example","ntp2.example"]'])).code).toBe(0);
    const out = join(TMP, `plan-${transport}.json`);
    const captured = await a.over(transport, ['capture', ...PATHS, '--out', out]);
    expect(captured.code, captured.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const plan = JSON.parse(readFileSync(out, 'utf8')) as Plan;
    expect(plan.resources.map((r) => r.path)).toEqual(PATHS);
    const system = plan.resources[0]?.properties as Record<string, unknown> & { Oem: { Hpe: Record<string, unknown> } };
    expect(system.AssetTag).toBe('reference');
    // Read-only and volatile by HPE's schema: never in a captured file.
    for (const key of ['PowerState', 'Status', 'SerialNumber', 'Id', '@odata.id', 'Links', 'Actions']) expect(system, key).not.toHaveProperty([key]);
    expect(system.Oem.Hpe).not.toHaveProperty(['CurrentPowerOnTimeSeconds']);
    expect(system.Oem.Hpe).not.toHaveProperty(['PostState']);

    const drift = await b.over(transport, ['apply', '--check', out]);
    expect(drift.code, drift.stderr).toBe(10);
    const applied = await b.over(transport, ['apply', out]);
    expect(applied.code, applied.stderr).toBe(0);
    const again = await b.over(transport, ['apply', '--check', out]);
    expect(again.code, again.stdout).toBe(0);
    expect(b.sim.sessions()).toEqual([]);
    expect(a.sim.sessions()).toEqual([]);
  }, 90_000);
});

describe('capture without schemas (the built-in tree): the documented list', () => {
  it('keeps writable properties, leaves out read-only ones and annotations; stdout when no --out', async () => {
    const a = await start();
    const r = await a.over('https', ['capture', '/redfish/v1/Systems/1', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    expect(plan.comment).toContain('captured by ilo-agent from https://');
    const props = plan.resources[0]?.properties ?? {};
    expect(props).toHaveProperty('AssetTag');
    for (const key of ['PowerState', 'Status', 'Id', 'Name', '@odata.id', 'Links', 'Actions']) expect(props, key).not.toHaveProperty([key]);
    expect(JSON.stringify(props)).not.toContain('@Redfish.AllowableValues');
    expect(a.sim.sessions()).toEqual([]);
  }, 30_000);

  it('a path that is not a Redfish path: exit 2 before anything is sent', async () => {
    const a = await start();
    const r = await a.over('https', ['capture', '/redfish/v1/Systems/1', 'Systems/1']);
    expect(r.code).toBe(2);
    expect(a.sim.state().counters.requests).toBe(0);
  }, 30_000);
});
