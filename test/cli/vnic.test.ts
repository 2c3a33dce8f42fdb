// The CLI on the vNIC path (iLO 7 in-band) and its selection, as a user runs it: the built bin
// against the simulator's HTTPS front playing the vNIC over loopback (a password login: the
// app-token login needs HPE's library, covered with a double in test/inband/vnic.test.ts), and
// against the CHIF emulator, whose DetectILO reports an iLO 6.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runCli, runToEnd, type Running } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { guardiansTagged } from '../helpers/proc.js';
import { until } from '../helpers/wait.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const PASSWORD = 'vnic-test-S3cret!';
const NO_STACK = /\n\s+at /;

let dir: string;
let sim: Simulator | undefined;
const running: Running[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-vnic-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const r of running.splice(0)) {
    try {
      process.kill(-(r.child.pid as number), 'SIGKILL');
    } catch {
      // ended
    }
  }
  sim?.faults.release();
  await sim?.close();
  sim = undefined;
});

async function start(chif = false): Promise<Simulator> {
  sim = await startSimulator({ loginFailureDelayMs: 0, users: { Administrator: PASSWORD }, chifSocket: chif ? join(dir, `c${Date.now()}.sock`) : undefined });
  return sim;
}

const pinOf = (s: Simulator) => `sha256:${new X509Certificate(s.ca).fingerprint256.replace(/:/g, '')}`;
const user = { ILO_URL: '', ILO_USERNAME: 'Administrator', ILO_PASSWORD: PASSWORD, ILO_CHIF_LIB: '' };

describe('the vNIC from the CLI', () => {
  it('--inband vnic --vnic-url --pin with a password: info shows path, login and TLS; 0 sessions left', async () => {
    const s = await start();
    const r = await runToEnd(['--inband', 'vnic', '--vnic-url', s.url, '--pin', pinOf(s), '--log-level', 'debug', 'info'], { env: user });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { connection: Record<string, unknown>; transport: string };
    expect(info.connection).toEqual({
      path: 'vnic',
      generation: null,
      selection: '--inband vnic',
      login: 'password (Administrator)',
      tls: `pinned: the leaf certificate ${pinOf(s).toLowerCase()}`,
      libraryAddress: null, // no HPE library loaded: nobody to ask GetIPAddress
    });
    expect(info.transport).toBe(`https ${s.url}`);
    // Decided and said before the login, at info and debug level.
    expect(r.stderr).toMatch(/in-band path: vNIC \(--inband vnic\)/);
    expect(r.stderr).toMatch(/vNIC TLS: pinned/);
    expect(r.stderr).not.toContain(PASSWORD);
    expect(s.sessions()).toEqual([]);
  });

  it('ILO_PIN stands for --pin on the vNIC', async () => {
    const s = await start();
    const r = await runToEnd(['--inband', 'vnic', '--vnic-url', s.url, 'info'], { env: { ...user, ILO_PIN: pinOf(s) } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { connection: { tls: string } }).connection.tls).toBe(`pinned: the leaf certificate ${pinOf(s).toLowerCase()}`);
    expect(s.sessions()).toEqual([]);
  });

  it('ILO_VNIC_URL is the vNIC address when --vnic-url is not given', async () => {
    const s = await start();
    const r = await runToEnd(['--inband', 'vnic', '--pin', pinOf(s), 'get', '/redfish/v1/Systems/1'], { env: { ...user, ILO_VNIC_URL: s.url } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Id).toBe('1');
    expect(s.sessions()).toEqual([]);
  });

  it('SIGKILL mid-request over the vNIC: the guardian (same TLS trust) deletes the session', async () => {
    const s = await start();
    s.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' });
    const tag = `vnic-${process.pid}-${Date.now()}`;
    const r = runCli(['--inband', 'vnic', '--vnic-url', s.url, '--pin', pinOf(s), 'get', '/redfish/v1/Systems/1'], { env: { ...user, GUARDIAN_TEST_TAG: tag } });
    running.push(r);
    await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the GET is held', 15_000);
    await until(() => guardiansTagged(tag).length === 1, 'the guardian runs', 10_000);
    process.kill(-(r.child.pid as number), 'SIGKILL');
    // A budget for a loaded machine (a guardian still in Node's start-up), not a speed promise.
    await until(() => s.sessions().length === 0, 'the guardian deleted the session', 20_000);
    await until(() => guardiansTagged(tag).length === 0, 'the guardian exited', 10_000);
  }, 60_000);

  it('no host address on the vNIC\'s /30 (link-bound, the default): exit 7, "host side not configured", nothing sent', async () => {
    const s = await start();
    // 127.0.0.9 is reachable (loopback) but no interface of this host holds a /30 around it.
    const url = s.url.replace('127.0.0.1', '127.0.0.9');
    const r = await runToEnd(['--inband', 'vnic', '--vnic-url', url, 'get', '/redfish/v1/Systems/1'], { env: user });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/host side of the vNIC is not configured/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.stdout).toBe('');
    expect(s.state().counters.requests).toBe(0);
  });

  it.each([
    [['--url', 'https://127.0.0.1:1', '--inband', 'vnic'], /--inband vnic chooses an in-band path/],
    [['--url', 'https://127.0.0.1:1', '--pin', `sha256:${'a'.repeat(64)}`], /--pin, --tls-servername and --vnic-url are for the vNIC/],
    [['--inband', 'vnic', '--no-app-account'], /--no-app-account needs a password login/],
    [['--inband', 'sideways'], /sideways/],
  ])('%j: exit 2 with a clear message', async (args, message) => {
    const env = args.includes('--no-app-account') ? { ...user, ILO_USERNAME: '', ILO_PASSWORD: '' } : user;
    const r = await runToEnd([...args, 'get', '/redfish/v1/Systems/1'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(NO_STACK);
  });
});

describe('the selection from the CLI, with HPE\'s ABI through koffi (the CHIF emulator)', () => {
  it('auto: DetectILO("self_register") reports an iLO 6, so CHIF; info says so', async () => {
    const s = await start(true);
    const env = { ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: s.chifSocket as string };
    const r = await runToEnd(['--log-level', 'info', 'info'], { env });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { connection: Record<string, unknown> };
    expect(info.connection).toEqual({
      path: 'chif',
      generation: 6,
      selection: 'iLO 6: DetectILO answered 0, type 6',
      login: 'null credentials (CHIF, production security state)',
      tls: null,
    });
    expect(r.stderr).toMatch(/in-band path: CHIF \(iLO 6: DetectILO answered 0, type 6\)/);
    expect(s.sessions()).toEqual([]);
  });

  it('vNIC options on the CHIF path are said to be unused, not silently dropped', async () => {
    const s = await start(true);
    const env = { ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: s.chifSocket as string };
    const r = await runToEnd(['--pin', `sha256:${'a'.repeat(64)}`, 'get', '/redfish/v1/Systems/1'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/--pin not used: the CHIF path was chosen \(iLO 6: DetectILO answered 0, type 6\)/);
  });

  it('--inband chif does not ask DetectILO', async () => {
    const s = await start(true);
    const env = { ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: s.chifSocket as string };
    const r = await runToEnd(['--inband', 'chif', 'info'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).connection).toMatchObject({ path: 'chif', generation: null, selection: '--inband chif' });
  });
});
