// An agent never answers for another iLO or user than the command names: `--agent` with `--url`
// or `-u` is refused, and an exported ILO_AGENT_SOCKET must serve the iLO (and user) named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killIfRunning, runCli, runToEnd, type Running } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const RESET = ['raw', 'post', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', '--data', '{"ResetType":"ForceRestart"}'];

let dir: string;
let served: Simulator; // the iLO the HTTPS agent serves
let other: Simulator; // another iLO
let inband: Simulator; // the iLO an in-band agent serves
let caFile: string;
let httpsAgent: Running;
let inbandAgent: Running;
let httpsSocket: string;
let inbandSocket: string;
/** Environment for clients: nothing of the agent's own login, only what each test adds. */
let base: NodeJS.ProcessEnv;

const requests = () => ({ served: served.state().counters.requests, other: other.state().counters.requests, inband: inband.state().counters.requests });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-target-'));
  served = await startSimulator({ loginFailureDelayMs: 0 });
  other = await startSimulator({ loginFailureDelayMs: 0 });
  inband = await startSimulator({ loginFailureDelayMs: 0, chifSocket: join(dir, 'chif.sock') });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, `${served.ca}\n${other.ca}`);
  base = { ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_AGENT_SOCKET: '', ILO_CHIF_LIB: '', ILO_CHIF_EMULATOR_SOCKET: '' };
  httpsSocket = join(dir, 'https.sock');
  httpsAgent = runCli(['--ca-cert', caFile, '--no-guardian', 'serve', '--socket', httpsSocket], { env: { ...base, ILO_URL: served.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' } });
  inbandSocket = join(dir, 'inband.sock');
  inbandAgent = runCli(['--no-guardian', 'serve', '--socket', inbandSocket], { env: { ...base, ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: inband.chifSocket ?? '' } });
  // No guardian: its scan after the login would count as requests the tests must not see.
  await Promise.all([httpsAgent.firstLine, inbandAgent.firstLine]);
}, 60_000);

afterAll(async () => {
  await killIfRunning(httpsAgent);
  await killIfRunning(inbandAgent);
  await Promise.all([served.close(), other.close(), inband.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a client; expects exit 2 with `message`, and that no iLO saw a request meanwhile. */
async function refused(args: string[], env: NodeJS.ProcessEnv, message: RegExp) {
  const before = requests();
  const r = await runToEnd(['--ca-cert', caFile, ...args], { env: { ...base, ...env } });
  expect(r.stderr).toMatch(message);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(requests()).toEqual(before);
  return r;
}

describe('--agent with --url or -u on the command line', () => {
  it('is refused (exit 2) naming both, even when they name the agent\'s own iLO and user, and nothing is sent', async () => {
    await refused(['--agent', httpsSocket, '--url', other.url, 'get', '/redfish/v1/Systems/1'], {}, /--agent and --url do not go together/);
    await refused(['--agent', httpsSocket, '--url', served.url, 'get', '/redfish/v1/Systems/1'], {}, /--agent and --url do not go together/);
    await refused(['--agent', httpsSocket, '-u', 'Administrator', 'get', '/redfish/v1/Systems/1'], {}, /--agent and --username \(-u\) do not go together/);
    // after the command, as options may be given
    await refused(['--agent', inbandSocket, 'get', '/redfish/v1/Systems/1', '--url', other.url, '-u', 'admin'], {}, /--agent and --url and --username \(-u\) do not go together/);
  });
});

describe('an exported ILO_AGENT_SOCKET', () => {
  it('the report\'s case: --url of another iLO resets nothing, anywhere (exit 2)', async () => {
    const power = served.state();
    const r = await refused(['--url', other.url, '-u', 'Administrator', ...RESET], { ILO_AGENT_SOCKET: httpsSocket, ILO_PASSWORD: 'password' }, /ILO_AGENT_SOCKET names an agent that serves the iLO at https:\/\/127\.0\.0\.1:\d+, but --url is https:\/\/127\.0\.0\.1:\d+: refused, nothing was sent/);
    expect(r.stderr).toMatch(/unset ILO_AGENT_SOCKET/);
    expect(r.stderr).not.toContain('password');
    expect(other.state().counters.logins).toBe(0);
    expect(served.state()).toEqual(power);
  });

  it('an in-band agent and --url (exit 2): the agent does not serve that iLO', async () => {
    await refused(['--url', served.url, '-u', 'Administrator', ...RESET], { ILO_AGENT_SOCKET: inbandSocket, ILO_PASSWORD: 'password' }, /serves the local iLO in-band, but --url is https:/);
  });

  it('an exported ILO_URL of another iLO is refused too (with --agent as well)', async () => {
    await refused(['get', '/redfish/v1/Systems/1'], { ILO_AGENT_SOCKET: httpsSocket, ILO_URL: other.url }, /but ILO_URL is https:/);
    await refused(['--agent', httpsSocket, 'get', '/redfish/v1/Systems/1'], { ILO_URL: other.url }, /--agent names an agent that serves the iLO at .*, but ILO_URL is .*drop --agent/);
  });

  it('--url of the agent\'s own iLO, written differently, goes through the agent (no login of its own)', async () => {
    const logins = served.state().counters.logins;
    const sameIlo = served.url.replace(/^https:\/\//, '').toUpperCase(); // a bare host:port, as --url accepts
    const r = await runToEnd(['--url', sameIlo, 'get', '/redfish/v1/Systems/1'], { env: { ...base, ILO_AGENT_SOCKET: httpsSocket } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ Id: '1' });
    expect(served.state().counters.logins).toBe(logins);
  });

  it('-u must be the user the agent logged in as', async () => {
    await refused(['-u', 'operator', 'get', '/redfish/v1/Systems/1'], { ILO_AGENT_SOCKET: httpsSocket }, /ILO_AGENT_SOCKET names an agent logged in as Administrator, but --username is operator/);
    await refused(['-u', 'Administrator', 'get', '/redfish/v1/Systems/1'], { ILO_AGENT_SOCKET: inbandSocket }, /logged in without a user name \(in-band or an app token\), but --username is Administrator/);
    const r = await runToEnd(['-u', 'Administrator', 'get', '/redfish/v1/Systems/1'], { env: { ...base, ILO_AGENT_SOCKET: httpsSocket } });
    expect(r.code, r.stderr).toBe(0);
  });

  it('an exported ILO_USERNAME is a login default, not checked: the agent answers', async () => {
    const r = await runToEnd(['get', '/redfish/v1/Systems/1'], { env: { ...base, ILO_AGENT_SOCKET: inbandSocket, ILO_USERNAME: 'Administrator' } });
    expect(r.code, r.stderr).toBe(0);
  });
});
