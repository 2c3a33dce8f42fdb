// The Linux single executable (dist/sea/ilo-agent, built by `npm run build:sea`, which `npm test`
// runs first) as it runs in a LinuxPE image: from a read-only folder, with a read-only working
// directory, no HOME, no Node anywhere, and every mount read-only, so that it cannot write
// anything. Against the simulator, out-of-band and in-band (the CHIF emulator beside it, found by
// HPE's search order), and through a stop and a kill, since its guardian is itself.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killLive, runProgram, type Running } from '../helpers/cli.js';
import { alive, childrenOf, listeningPorts, readProc, threadNames } from '../helpers/proc.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const SEA = resolve(PROJECT_ROOT, 'dist/sea');
const EXE = join(SEA, 'ilo-agent');
const KOFFI = join(SEA, 'koffi-linux-x64.node');
const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SANDBOX = resolve(PROJECT_ROOT, 'test/deploy/read-only.sh');
const VERSION = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const CREDENTIALS = ['ILO_USERNAME=Administrator', 'ILO_PASSWORD=password'];

/** Why this machine cannot run these tests, or undefined when it can. */
function unavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the Linux x64 executable cannot run on ${process.platform}-${process.arch}`;
  if (!existsSync(EXE) || !existsSync(KOFFI)) return `${EXE} is missing: run "npm run build:sea" (npm test does)`;
  if (process.getuid?.() !== 0) return 'read-only bind mounts need root (unshare -m)';
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true']);
  if (probe.status !== 0) return `unshare -m does not work here: ${probe.stderr?.toString().trim() || probe.error?.message}`;
  return undefined;
}

const reason = unavailable();
if (reason && process.env.CI === 'true') {
  it('runs the single executable read-only (required when CI=true)', () => {
    throw new Error(reason);
  });
}

describe.skipIf(reason !== undefined)(`the Linux single executable, read-only and without Node${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
  let dir: string;
  let app: string;
  let cwd: string;
  let sim: Simulator | undefined;
  let chifSocket: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ilo-agent-sea-'));
    // What a LinuxPE image holds: the executable, koffi's module and HPE's library, side by side.
    app = join(dir, 'media');
    cwd = join(dir, 'cwd');
    mkdirSync(app);
    mkdirSync(cwd);
    copyFileSync(EXE, join(app, 'ilo-agent'));
    copyFileSync(KOFFI, join(app, 'koffi-linux-x64.node'));
    copyFileSync(EMULATOR, join(app, 'ilorest_chif.so'));
    chmodSync(join(app, 'ilo-agent'), 0o755);
    chifSocket = join(dir, 'chif.sock');
  });
  afterEach(async () => {
    killLive();
    sim?.faults.release();
    await sim?.close();
    sim = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
    sim = await startSimulator({ loginFailureDelayMs: 0, chifSocket, ...options });
    writeFileSync(join(app, 'ca.pem'), sim.ca);
    return sim;
  }

  /** `env` and then the command, run in the read-only sandbox. */
  function sandboxed(env: string[], command: string[]): Running {
    return runProgram('unshare', ['-m', '--propagation', 'private', 'sh', SANDBOX, cwd, ...env, ...command], {
      env: { HIDE_NODE: process.execPath },
    });
  }
  const agent = (args: string[], env: string[] = CREDENTIALS) => sandboxed([...env, `ILO_CHIF_EMULATOR_SOCKET=${chifSocket}`], [join(app, 'ilo-agent'), ...args]);
  const outOfBand = (s: Simulator, args: string[]) => agent(['--url', s.url, '--ca-cert', join(app, 'ca.pem'), ...args]);

  async function finished(r: Running) {
    const { code, signal } = await r.exited;
    return { code, signal, stdout: r.stdout(), stderr: r.stderr() };
  }

  it('the sandbox is what it claims: no node on PATH or at its usual places, no HOME, nothing writable', async () => {
    const r = await finished(
      sandboxed([], ['sh', '-c', `command -v node || echo "no node"; [ -x ${process.execPath} ] || echo "node hidden"; echo "HOME=\${HOME-unset}"; touch here; touch /tmp/x; touch ${app}/x; echo done`]),
    );
    expect(r.stdout).toBe(`no node\nnode hidden\nHOME=unset\ndone\n`);
    expect(r.stderr.match(/Read-only file system/g)).toHaveLength(3);
  });

  it('--version and --help', async () => {
    const version = await finished(agent(['--version']));
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    const help = await finished(agent(['--help']));
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ilo-agent');
  });

  it('out-of-band: a GET over HTTPS, and the session is deleted', async () => {
    const s = await start();
    const r = await finished(outOfBand(s, ['get', '/redfish/v1/Systems/1']));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toMatchObject({ '@odata.id': '/redfish/v1/Systems/1', Id: '1' });
    expect(s.sessions()).toEqual([]);
    expect(s.state().counters.logins).toBe(1);
  });

  it('in-band: koffi beside the executable, HPE\'s library found beside it too, the session deleted', async () => {
    const s = await start();
    const r = await finished(agent(['get', '/redfish/v1/Systems/1', '--log-level', 'info'], []));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ Id: '1' });
    expect(r.stderr).toContain('session deleted');
    expect(s.sessions()).toEqual([]);
    expect(s.chif.blobCount).toBe(0);
    const info = await finished(agent(['info', '--output', 'json'], []));
    expect(JSON.parse(info.stdout)).toMatchObject({ transport: `chif via ${join(app, 'ilorest_chif.so')}` });
  });

  it('in-band without koffi\'s module beside it: exit 7 naming the missing file; HTTPS does not need it', async () => {
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    copyFileSync(EXE, join(bare, 'ilo-agent'));
    chmodSync(join(bare, 'ilo-agent'), 0o755);
    const s = await start();
    const r = await finished(sandboxed([`ILO_CHIF_EMULATOR_SOCKET=${chifSocket}`], [join(bare, 'ilo-agent'), 'get', '/redfish/v1']));
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(join(bare, 'koffi-linux-x64.node'));
    const https = await finished(sandboxed(CREDENTIALS, [join(bare, 'ilo-agent'), '--url', s.url, '--ca-cert', join(app, 'ca.pem'), 'get', '/redfish/v1']));
    expect(https.code, https.stderr).toBe(0);
    expect(s.sessions()).toEqual([]);
  });

  it('SIGTERM while a request hangs (in-band): exit 143 and the session deleted', async () => {
    const s = await start({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }] });
    const r = agent(['get', '/redfish/v1/Systems/1'], []);
    await until(() => s.faults.held === 1, 'the GET is held', 15_000);
    r.signal('SIGTERM');
    const end = await finished(r);
    expect(end.code).toBe(143);
    expect(s.sessions()).toEqual([]);
  });

  it('SIGKILL while a request hangs (out-of-band): its guardian, the executable itself, deletes the session', async () => {
    const s = await start({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }] });
    const r = outOfBand(s, ['get', '/redfish/v1/Systems/1']);
    await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the GET is held', 15_000);
    process.kill(r.child.pid as number, 'SIGKILL');
    expect((await r.exited).signal).toBe('SIGKILL');
    s.faults.release();
    await until(() => s.sessions().length === 0, 'the guardian deleted the session', 10_000);
  });

  it('SIGUSR1 to the agent and to its guardian (the executable itself) opens no debugger: --disable-sigusr1 from the first instruction, the run ends cleanly', async () => {
    const s = await start({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }] });
    const r = outOfBand(s, ['--log-level', 'debug', 'get', '/redfish/v1/Systems/1']);
    // unshare, read-only.sh and env each exec the next: the spawned pid becomes the executable's.
    const agentPid = r.child.pid as number;
    const exe = join(app, 'ilo-agent');
    const guardians = () => childrenOf(agentPid).filter((pid) => readProc(pid, 'cmdline')?.split('\0').includes('__guardian'));
    await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the GET is held', 15_000);
    await until(() => r.stderr().includes('guardian watching') && guardians().length === 1, 'the guardian watches', 15_000);
    const guardianPid = guardians()[0] as number;
    for (const pid of [agentPid, guardianPid]) {
      expect(readlinkSync(`/proc/${pid}/exe`)).toBe(exe);
      // Node's SIGUSR1 handler runs on this thread; --disable-sigusr1 (the SEA's execArgv) never starts it.
      expect(threadNames(pid), `threads of ${pid}`).toContain('MainThread');
      expect(threadNames(pid), `threads of ${pid}`).not.toContain('SignalInspector');
    }
    // Each either says it ignored the signal (its own listener) or keeps it blocked and pending (bit 9 of ShdPnd).
    const said = () => r.stderr().split('SIGUSR1 ignored').length - 1;
    const pending = (pid: number) => (parseInt(/^ShdPnd:\s+([0-9a-f]+)$/m.exec(readProc(pid, 'status') ?? '')?.[1] ?? '0', 16) & 0x200) !== 0;
    process.kill(agentPid, 'SIGUSR1');
    await until(() => said() === 1 || pending(agentPid), 'the agent got SIGUSR1', 10_000);
    const before = said();
    process.kill(guardianPid, 'SIGUSR1');
    await until(() => said() === before + 1 || pending(guardianPid), 'the guardian got SIGUSR1', 10_000);
    // Node starts its inspector within milliseconds of the signal: give it ample time to show.
    await new Promise((res) => setTimeout(res, 500));
    expect(r.stderr()).not.toMatch(/Debugger listening|inspector/i);
    for (const pid of [agentPid, guardianPid]) {
      expect(listeningPorts(pid), `ports of ${pid}`).toEqual([]);
      expect(threadNames(pid), `threads of ${pid}`).not.toContain('SignalInspector');
    }
    s.faults.release();
    const end = await finished(r);
    expect(end.code, end.stderr).toBe(0);
    expect(JSON.parse(end.stdout)).toMatchObject({ Id: '1' });
    expect(s.sessions()).toEqual([]);
    await until(() => !alive(guardianPid), 'the guardian exited', 10_000);
  }, 60_000);
});
