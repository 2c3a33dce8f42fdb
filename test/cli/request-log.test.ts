// One debug line per request, over both transports: method, path, status, duration; never the
// token, the password, headers or bodies.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runToEnd } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SECRET = 'Zq9-request-log-canary';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-request-log-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  level: number;
  msg: string;
  method?: string;
  path?: string;
  status?: number;
  ms?: number;
}

describe.each(['https', 'chif'] as const)('request lines over %s', (transport) => {
  let sim: Simulator;
  let caFile: string;
  beforeAll(async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0, users: { canary: SECRET }, chifSocket: join(dir, `${transport}.sock`) });
    caFile = join(dir, `${transport}-ca.pem`);
    writeFileSync(caFile, sim.ca);
  });
  afterAll(() => sim.close());

  const run = (level: string) => {
    const env =
      transport === 'https'
        ? { ILO_URL: sim.url, ILO_USERNAME: 'canary', ILO_PASSWORD: SECRET, ILO_AGENT_SOCKET: '' }
        : { ILO_URL: '', ILO_USERNAME: 'canary', ILO_PASSWORD: SECRET, ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket ?? '', ILO_AGENT_SOCKET: '' };
    // Every stderr line must be ours: no Node warning about a CA bundle from the shell (trust is --ca-cert).
    return runToEnd(['--ca-cert', caFile, '--log-level', level, 'get', '/redfish/v1/Systems/1'], { env: { ...env, NODE_EXTRA_CA_CERTS: undefined } });
  };

  it('at trace: the login, the GET and the logout, each with its status and time; no token, no password', async () => {
    const r = await run('trace');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
    const requests = lines.filter((l) => l.method !== undefined && l.level === 20);
    const seen = requests.map((l) => `${l.method} ${l.path} ${l.status}`);
    expect(seen).toContain('POST /redfish/v1/SessionService/Sessions 201');
    expect(seen).toContain('GET /redfish/v1/Systems/1 200');
    expect(seen.some((s) => /^DELETE \/redfish\/v1\/SessionService\/Sessions\/\S+ 20[04]$/.test(s)), seen.join('\n')).toBe(true);
    for (const l of requests) {
      expect(l.msg).toBe(`${l.method} ${l.path} ${l.status} in ${l.ms} ms`);
      expect(Object.keys(l).sort()).toEqual(['level', 'method', 'ms', 'msg', 'name', 'path', 'pid', 'status', 'time']);
    }
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    // Tokens are 32 hex digits; session Ids (e.g. canary00000000abcd…) are the only such runs allowed.
    expect(r.stderr.replace(/[a-z]+0{8}[0-9a-f]+/gi, '<session-id>')).not.toMatch(/[0-9a-f]{32}/i);
  });

  it('at the default level: no request lines', async () => {
    const r = await run('warn');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });
});
