// `ilo-agent crawl`: the whole tree through one session, over both transports.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { crawl, DEFAULT_MAX_RESOURCES, linksOf } from '../../src/client/index.js';
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

describe('crawl (the walk itself, against a made-up client)', () => {
  const ODD = ['/redfish/v1/a b', '/redfish/v1/../x', '/redfish/v1/x%zz', '/redfish/v1/{id}', '/redfish/v1/Σ', '/redfish/v1/Syst\u00e9ms'];

  it('records each link no request may carry as an error entry, sends nothing for it, and goes on', async () => {
    const asked: string[] = [];
    const client = {
      get: async (path: string) => {
        asked.push(path);
        if (path === '/redfish/v1') return { '@odata.id': path, Links: [...ODD, '/redfish/v1/Fine'].map((id) => ({ '@odata.id': id })) };
        return { '@odata.id': path };
      },
    } as Parameters<typeof crawl>[0];
    const told: string[] = [];
    const result = await crawl(client, '/redfish/v1', { onFailure: (path, failure) => told.push(`${path} ${failure.code}`) });
    expect(told.sort()).toEqual(ODD.map((link) => `${link} E_INPUT`).sort());
    expect(asked.sort()).toEqual(['/redfish/v1', '/redfish/v1/Fine']);
    expect(Object.keys(result).sort()).toEqual(['/redfish/v1', '/redfish/v1/Fine', ...ODD].sort());
    for (const link of ODD) expect(result[link], link).toEqual({ error: { code: 'E_INPUT', message: expect.stringMatching(/^not followed: /) } });
  });

  // Trees far larger than the cap (bounded only so that a walk without a cap ends and fails).
  it('a tree larger than maxResources stops there: that many entries, onLimit told once, no more requests', async () => {
    let gets = 0;
    const client = {
      get: async (path: string) => {
        gets++;
        return { '@odata.id': path, Links: gets > 5000 ? [] : [1, 2, 3, 4].map((n) => ({ '@odata.id': `${path}/${n}` })) };
      },
    } as Parameters<typeof crawl>[0];
    const limits: number[] = [];
    const result = await crawl(client, '/redfish/v1', { maxResources: 500, onLimit: (max) => limits.push(max) });
    expect(Object.keys(result)).toHaveLength(500);
    expect(gets).toBe(500);
    expect(limits).toEqual([500]);
  });

  it('has a default cap: 100,000 entries', async () => {
    let gets = 0;
    const client = {
      get: async (path: string) => {
        gets++;
        return { Links: gets > 110_000 ? [] : [1, 2].map((n) => ({ '@odata.id': `/redfish/v1/R${gets}-${n}` })) };
      },
    } as Parameters<typeof crawl>[0];
    let limited = false;
    const result = await crawl(client, '/redfish/v1', { concurrency: 16, onLimit: () => (limited = true) });
    expect(DEFAULT_MAX_RESOURCES).toBe(100_000);
    expect(Object.keys(result)).toHaveLength(DEFAULT_MAX_RESOURCES);
    expect(limited).toBe(true);
  }, 60_000);
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

  it('a resource that fails: recorded in the output (--out FILE), named on stderr, exit 6; --allow-partial exits 0', async () => {
    const run = await start();
    sim.faults.inject({ type: 'status503', method: 'GET', path: '/redfish/v1/Chassis/1', times: 0 });
    sim.faults.inject({ type: 'status404', method: 'GET', path: '/redfish/v1/Managers/1', times: 0 });
    for (const allowPartial of [false, true]) {
      const out = join(dir, `out${n}-${allowPartial}.json`);
      const r = await run(['--out', out, '--concurrency', '2', ...(allowPartial ? ['--allow-partial'] : [])]);
      expect(r.code, r.stderr).toBe(allowPartial ? 0 : 6);
      expect(r.stdout).toBe('');
      const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, { error?: { status: number; messageIds: string[] } }>;
      expect(result['/redfish/v1/Chassis/1']?.error).toMatchObject({ status: 503, messageIds: ['Base.1.18.ServiceTemporarilyUnavailable'] });
      expect(result['/redfish/v1/Systems/1']?.error).toBeUndefined();
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines.filter((l) => /^ilo-agent: crawl: \/redfish/.test(l)).sort()).toEqual([
        expect.stringMatching(/^ilo-agent: crawl: \/redfish\/v1\/Chassis\/1: GET \/redfish\/v1\/Chassis\/1 answered 503 .*ServiceTemporarilyUnavailable/),
        expect.stringMatching(/^ilo-agent: crawl: \/redfish\/v1\/Managers\/1: GET \/redfish\/v1\/Managers\/1 answered 404/),
      ]);
      const count = Object.keys(result).length;
      expect(lines.at(-1)).toBe(`ilo-agent: crawl: 2 of ${count} resources failed (each recorded in the output as {"error": …})${allowPartial ? '' : '; --allow-partial exits 0 for such a result'}`);
    }
    expect(sim.sessions()).toEqual([]);
  });

  it('refuses a root that is not a Redfish path, before logging in', async () => {
    const run = await start();
    const r = await run(['/etc']);
    expect(r.code).toBe(2);
    expect(sim.state().counters.requests).toBe(0);
  });

  it('a tree with odd links: each is an error entry in the output and a line on stderr, the rest is walked, exit 6', async () => {
    const tree = join(dir, `odd${n}`);
    const put = (uri: string, body: object) => {
      const folder = join(tree, ...uri.split('/').filter(Boolean));
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'index.json'), JSON.stringify({ '@odata.id': uri, ...body }));
    };
    const odd = ['/redfish/v1/a b', '/redfish/v1/../x', '/redfish/v1/x%zz', '/redfish/v1/{id}', '/redfish/v1/Σ'];
    put('/redfish/v1', {
      '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
      Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
      Odd: odd.map((id) => ({ '@odata.id': id })),
      Things: { '@odata.id': '/redfish/v1/Things' },
    });
    put('/redfish/v1/Things', { Members: [{ '@odata.id': '/redfish/v1/Things/1' }], 'Members@odata.count': 1 });
    put('/redfish/v1/Things/1', { Id: '1' });
    const run = await start({ mockupDir: tree });
    const r = await run([]);
    expect(r.code, r.stderr).toBe(6);
    const result = JSON.parse(r.stdout) as Record<string, { error?: { code: string } }>;
    for (const link of odd) {
      expect(result[link]?.error?.code, link).toBe('E_INPUT');
      expect(r.stderr).toContain(`ilo-agent: crawl: ${link}: not followed: `);
    }
    expect(r.stderr).toMatch(/crawl: 5 of \d+ resources failed/);
    expect(result['/redfish/v1/Things/1']).toMatchObject({ Id: '1' });
    expect(sim.sessions()).toEqual([]);
  });

  it('--max-resources: stops there, prints what it read (valid JSON), says so on stderr, exit 11', async () => {
    const run = await start();
    const r = await run(['--max-resources', '5', '--concurrency', '1']);
    expect(r.code, r.stderr).toBe(11);
    expect(Object.keys(JSON.parse(r.stdout) as object)).toHaveLength(5);
    expect(r.stderr).toMatch(/stopped following links at 5 resources \(--max-resources\); the output is partial/);
    expect(sim.sessions()).toEqual([]);
  });

  it.skipIf(!mockupDir)(mockupDir ? `walks the iLO 6 DL380a mockup (${MOCKUP})` : skipReason(MOCKUP), async () => {
    const run = await start({ mockupDir });
    // The mockup holds links the iLO answers 404 for (sessions, certificates): named, but allowed here.
    const r = await run(['--concurrency', '8', '--allow-partial']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(result).length).toBeGreaterThan(1500);
    expect(sim.sessions()).toEqual([]);
  }, 60_000);
});

