// `ilo-agent crawl`: the whole tree through one session, over both transports.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { linksOf } from '../../src/client/index.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { runToEnd } from '../helpers/cli.js';
import { PROJECT_ROOT, sharedPath, skipReason } from '../helpers/shared.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const MOCKUP = 'mockups/ilo6-dl380a';
const mockupDir = sharedPath(MOCKUP);
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-crawl-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('linksOf', () => {
  it('finds every @odata.id under /redfish, without fragments, skipping other values', () => {
    const body = { '@odata.id': '/redfish/v1/A', Links: { B: { '@odata.id': '/redfish/v1/B#/x' } }, List: [{ '@odata.id': '/redfish/v1/C' }, { '@odata.id': 'http://elsewhere' }], Name: '/redfish/v1/D' };
    expect(linksOf(body)).toEqual(['/redfish/v1/A', '/redfish/v1/B', '/redfish/v1/C']);
  });
});

describe.each(['https', 'chif'] as const)('crawl over %s', (transport) => {
  let sim: Simulator;
  const start = async (options: SimulatorOptions = {}) => {
    n++;
    sim = await startSimulator({ loginFailureDelayMs: 0, chifSocket: join(dir, `c${n}.sock`), ...options });
    const caFile = join(dir, `ca${n}.pem`);
    writeFileSync(caFile, sim.ca);
    const env =
      transport === 'https'
        ? { ILO_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' }
        : { ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket ?? '' };
    return (args: string[]) => runToEnd(['--ca-cert', caFile, 'crawl', ...args], { env });
  };
  afterEach(async () => {
    await sim.close();
  });

  it('walks the built-in tree: every resource once, every link resolved, one session, none left', async () => {
    const run = await start();
    const r = await run([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    const keys = Object.keys(result).map((k) => k.toLowerCase().replace(/\/$/, ''));
    expect(new Set(keys).size).toBe(keys.length); // each once
    for (const path of ['/redfish/v1', '/redfish/v1/systems/1', '/redfish/v1/systems/1/storage/de00a000/drives/1', '/redfish/v1/managers/1', '/redfish/v1/sessionservice/sessions']) {
      expect(keys).toContain(path);
    }
    for (const body of Object.values(result)) {
      for (const link of linksOf(body)) expect(keys, link).toContain(link.toLowerCase().replace(/\/$/, ''));
    }
    expect(sim.state().counters.logins).toBe(1);
    expect(sim.sessions()).toEqual([]);
  });

  it('collects errors on single resources instead of failing, and writes --out FILE', async () => {
    const run = await start();
    sim.faults.inject({ type: 'status503', method: 'GET', path: '/redfish/v1/Chassis/1', times: 0 });
    const out = join(dir, `out${n}.json`);
    const r = await run(['--out', out, '--concurrency', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, { error?: { status: number; messageIds: string[] } }>;
    expect(result['/redfish/v1/Chassis/1']?.error).toMatchObject({ status: 503, messageIds: ['Base.1.18.ServiceTemporarilyUnavailable'] });
    expect(result['/redfish/v1/Systems/1']?.error).toBeUndefined();
    expect(sim.sessions()).toEqual([]);
  });

  it('refuses a root that is not a Redfish path, before logging in', async () => {
    const run = await start();
    const r = await run(['/etc']);
    expect(r.code).toBe(2);
    expect(sim.state().counters.requests).toBe(0);
  });

  it.skipIf(!mockupDir)(mockupDir ? `walks the iLO 6 DL380a mockup (${MOCKUP})` : skipReason(MOCKUP), async () => {
    const run = await start({ mockupDir });
    const r = await run(['--concurrency', '8']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(result).length).toBeGreaterThan(1500);
    expect(sim.sessions()).toEqual([]);
  }, 60_000);
});

