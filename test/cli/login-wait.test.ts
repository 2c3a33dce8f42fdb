// A login held by the iLO's authentication failure delay says so on stderr (it looked like a hang).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runToEnd } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const WAITING = /the login has had no answer for 2 s: the iLO delays logins after failed attempts; waiting/;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-login-wait-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['https', 'chif'] as const)('a login held by the failure delay, over %s', (transport) => {
  let sim: Simulator;
  let caFile: string;
  beforeAll(async () => {
    // Every refused login is held 4 s (a real iLO: 10 s after one failure, by default).
    sim = await startSimulator({ loginFailureDelayMs: 4_000, loginFailuresBeforeDelay: 0, chifSocket: join(dir, `${transport}.sock`) });
    caFile = join(dir, `${transport}-ca.pem`);
    writeFileSync(caFile, sim.ca);
  });
  afterAll(() => sim.close());

  const run = (password: string) => {
    const env =
      transport === 'https'
        ? { ILO_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: password, ILO_AGENT_SOCKET: '' }
        : // in-band with credentials, as the high security state asks (the emulator accepts them)
          { ILO_URL: '', ILO_USERNAME: 'Administrator', ILO_PASSWORD: password, ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket ?? '', ILO_AGENT_SOCKET: '' };
    return runToEnd(['--ca-cert', caFile, '--no-guardian', 'get', '/redfish/v1/Systems/1'], { env });
  };

  it('a waiting line on stderr at the default level, then the refusal (exit 3)', async () => {
    const r = await run('wrong-Zq9');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(WAITING);
    expect(r.stderr.indexOf('delays logins')).toBeLessThan(r.stderr.indexOf('refused the login'));
    expect(r.stderr).not.toContain('wrong-Zq9');
  }, 60_000);

  it('a login answered at once says nothing', async () => {
    const r = await run('password');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  }, 60_000);
});
