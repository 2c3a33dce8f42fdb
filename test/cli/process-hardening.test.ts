// The process around the session, in a hostile environment: a guardian that cannot start, signals
// that are not a stop (SIGUSR1) or one more kind of stop (SIGQUIT), a reader that never reads,
// secrets in /proc and in core dumps, inherited descriptors, a PID namespace torn down. The real
// CLI runs in its own process group against an in-process simulator, as in cleanup.test.ts.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type FaultRule, type Simulator } from '../../src/simulator/index.js';
import { BIN, killLive, runProgram, type Running } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { alive, descriptors, guardiansTagged, listeningPorts, procOwner, readProc } from '../helpers/proc.js';
import { until } from '../helpers/wait.js';

const linux = process.platform === 'linux';
const PASSWORD = 'hardening-S3cret-pw';
const GET = ['get', '/redfish/v1/Systems/1'];

let dir: string;
let caFile: string;
let sim: Simulator | undefined;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-hardening-'));
  chmodSync(dir, 0o755); // the CA is read by an agent run as nobody
  caFile = join(dir, 'ca.pem');
});
afterAll(() => {
  killLive();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  killLive();
  sim?.faults.release();
  await sim?.close();
  sim = undefined;
});

async function startSim(faults: FaultRule[] = []): Promise<Simulator> {
  sim = await startSimulator({ loginFailureDelayMs: 0, faults, users: { Administrator: PASSWORD } });
  writeFileSync(caFile, sim.ca);
  env = { ILO_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: PASSWORD, ILO_CHIF_LIB: '' };
  return sim;
}

/** `script` run by bash in its own process group (the CLI is `exec`ed into it: the group's leader). */
function shell(script: string, extraEnv: NodeJS.ProcessEnv = {}): Running {
  return runProgram('bash', ['-c', script], { env: { ...env, NODE: process.execPath, BIN, CA: caFile, ...extraEnv } });
}

describe.skipIf(!linux)('a guardian that cannot be started', () => {
  it('EMFILE: a warning, the run goes on (exit 0), nothing else in its process group is signalled, no session is left', async () => {
    const s = await startSim();
    // The fd limit at which the spawn fails depends on node's own start-up: walk down until it does.
    let seen: { limit: number; code: number | null; stdout: string; stderr: string } | undefined;
    const outcomes: string[] = [];
    for (let limit = 48; limit >= 12 && !seen; limit--) {
      // A sibling in the CLI's process group: kill(0, SIGTERM) would reach it.
      const r = shell(`sleep 60 </dev/null >/dev/null 2>&1 & echo "sibling=$!" >&2; ulimit -n ${limit}; exec "$NODE" "$BIN" --ca-cert "$CA" ${GET.join(' ')}`);
      const { code, signal } = await r.exited;
      const sibling = Number(/sibling=(\d+)/.exec(r.stderr())?.[1]);
      expect(sibling).toBeGreaterThan(0);
      expect(alive(sibling), `the sibling of a run at ulimit -n ${limit} was killed; stderr: ${r.stderr()}`).toBe(true);
      process.kill(sibling, 'SIGKILL');
      outcomes.push(`${limit}: code ${code} signal ${signal}`);
      if (r.stderr().includes('the guardian could not be started')) seen = { limit, code, stdout: r.stdout(), stderr: r.stderr() };
    }
    expect(seen, `no fd limit made the guardian's spawn fail: ${outcomes.join('; ')}`).toBeDefined();
    const run = seen as NonNullable<typeof seen>;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).Id).toBe('1');
    expect(run.stderr).toMatch(/EMFILE|ENFILE/);
    expect(run.stderr).not.toContain('internal error');
    expect(run.stderr).not.toContain(PASSWORD);
    expect(s.sessions()).toEqual([]);
  }, 120_000);
});

const HUNG_GET: FaultRule[] = [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }];
let tags = 0;
const newTag = () => `hardening-${process.pid}-${++tags}`;

/** The CLI (as the group's leader) with a GET the simulator holds, and its guardian once it watches. */
async function hungAgent(s: Simulator, options: { prefix?: string; logLevel?: string } = {}) {
  const tag = newTag();
  const r = shell(`ulimit -c unlimited; exec ${options.prefix ?? ''} "$NODE" "$BIN" --ca-cert "$CA" --log-level ${options.logLevel ?? 'debug'} ${GET.join(' ')}`, { GUARDIAN_TEST_TAG: tag });
  await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the GET is held', 15_000);
  // 'guardian watching': its script runs (and has its handlers), and it has read the hello.
  await until(() => r.stderr().includes('guardian watching') && guardiansTagged(tag).length === 1, 'the guardian watches', 15_000);
  return { r, agentPid: r.child.pid as number, guardianPid: guardiansTagged(tag)[0] as number };
}

describe.skipIf(!linux)('SIGUSR1 opens no debugger', () => {
  it('sent to the agent and to its guardian: ignored (said on stderr), nothing listens, both go on and end cleanly', async () => {
    const s = await startSim(HUNG_GET);
    const { r, agentPid, guardianPid } = await hungAgent(s);
    const said = () => r.stderr().split('SIGUSR1 ignored').length - 1;
    process.kill(agentPid, 'SIGUSR1');
    await until(() => said() === 1, 'the agent said it ignored SIGUSR1', 10_000);
    process.kill(guardianPid, 'SIGUSR1');
    // The guardian got it too: it says so on the agent's stderr (at this log level), or, where node
    // has --disable-sigusr1 (22.14+), the signal stays blocked and pending (SIGUSR1 is bit 9).
    const pending = () => (parseInt(/^ShdPnd:\s+([0-9a-f]+)$/m.exec(readProc(guardianPid, 'status') ?? '')?.[1] ?? '0', 16) & 0x200) !== 0;
    await until(() => said() === 2 || pending(), 'the guardian got SIGUSR1', 10_000);
    // Node starts its inspector within milliseconds of the signal: give it ample time to show.
    await new Promise((res) => setTimeout(res, 500));
    expect(r.stderr()).not.toMatch(/Debugger listening|inspector/i);
    expect(listeningPorts(agentPid)).toEqual([]);
    expect(listeningPorts(guardianPid)).toEqual([]);
    s.faults.release();
    const { code } = await r.exited;
    expect(code, r.stderr()).toBe(0);
    expect(JSON.parse(r.stdout()).Id).toBe('1');
    expect(s.sessions()).toEqual([]);
    await until(() => !alive(guardianPid), 'the guardian exited', 10_000);
  }, 60_000);
});

describe.skipIf(!linux)('secrets in memory', () => {
  it('no core file (RLIMIT_CORE 0 0), not dumpable, ILO_PASSWORD gone from /proc/<pid>/environ: in the agent and in its guardian', async () => {
    const s = await startSim(HUNG_GET);
    // As nobody: a non-dumpable process's /proc files are root's, which only shows for another uid.
    // `ulimit -c unlimited` first: the agent must lower the limit itself.
    const { r, agentPid, guardianPid } = await hungAgent(s, { prefix: 'setpriv --reuid=65534 --regid=65534 --clear-groups' });
    for (const [who, pid] of [['agent', agentPid], ['guardian', guardianPid]] as const) {
      expect(readProc(pid, 'status'), who).toMatch(/^Uid:\s+65534\s/m);
      expect(readProc(pid, 'limits'), who).toMatch(/^Max core file size\s+0\s+0\s/m);
      expect(procOwner(pid), `${who}: /proc/<pid>/environ belongs to root (not dumpable)`).toBe(0);
      const environ = readProc(pid, 'environ') ?? '';
      expect(environ, who).toContain('GUARDIAN_TEST_TAG='); // the reading works
      expect(environ, who).not.toContain(PASSWORD);
      expect(environ, who).not.toContain('ILO_PASSWORD');
    }
    // the guardian's fewer threads (RLIMIT_NPROC): V8's pool of one
    expect(readProc(guardianPid, 'environ')?.split('\0').find((v) => v.startsWith('NODE_OPTIONS='))).toContain('--v8-pool-size=1');
    s.faults.release();
    const { code } = await r.exited;
    expect(code, r.stderr()).toBe(0);
    expect(s.sessions()).toEqual([]);
  }, 60_000);
});

describe.skipIf(!linux)('a reader that never reads', () => {
  /** The CLI running a long batch into a stdout pipe nobody reads, once that pipe is full. */
  async function blockedBatch(s: Simulator, shutdownTimeout: string) {
    const batch = join(dir, 'batch.jsonl');
    writeFileSync(batch, `${JSON.stringify({ method: 'get', path: '/redfish/v1/Systems/1' })}\n`.repeat(3000));
    // stdout is a pipe this test never reads: it fills, and every write after it waits.
    const child = spawn(process.execPath, [BIN, '--ca-cert', caFile, '--shutdown-timeout', shutdownTimeout, 'batch', batch], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stdout.pause();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'exit', not 'close': the unread stdout never closes on this side.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    // Blocked: the session is open and the iLO has seen no new request for half a second.
    const end = Date.now() + 30_000;
    for (let last = -1; ; ) {
      await new Promise((res) => setTimeout(res, 500));
      const now = s.state().counters.requests;
      if (now === last && now > 10 && s.sessions().length === 1) break;
      if (Date.now() > end || child.exitCode !== null) throw new Error(`the batch never blocked on its stdout (${now} requests); stderr: ${stderr}`);
      last = now;
    }
    return { child, exited, stderr: () => stderr };
  }

  it('after SIGTERM the session is deleted and the process ends within --shutdown-timeout, although stdout is never read', async () => {
    const s = await startSim();
    const { child, exited, stderr } = await blockedBatch(s, '1s');
    process.kill(-(child.pid as number), 'SIGTERM');
    await until(() => stderr().includes('received SIGTERM'), 'the signal arrived', 10_000);
    const { code } = await exited;
    expect(code).toBe(143);
    expect(s.sessions()).toEqual([]);
    expect(stderr()).not.toMatch(/\n\s+at |internal error/);
  }, 60_000);

  it('a second signal, once the session is deleted, ends it at once (not after a 60 s --shutdown-timeout)', async () => {
    const s = await startSim();
    const { child, exited, stderr } = await blockedBatch(s, '60s');
    process.kill(-(child.pid as number), 'SIGTERM');
    await until(() => stderr().includes('received SIGTERM') && s.sessions().length === 0, 'the session is deleted', 10_000);
    process.kill(-(child.pid as number), 'SIGINT');
    // Well before the 60 s shutdown timeout: the test's own timeout is 40 s.
    const { code } = await exited;
    expect(code).toBe(143); // the first stop decides the code
  }, 40_000);
});

describe.skipIf(!linux)('SIGQUIT (Ctrl-\\)', () => {
  it('stops like SIGTERM: the agent itself deletes the session (no guardian here), exit 131', async () => {
    const s = await startSim(HUNG_GET);
    const r = runProgram(process.execPath, [BIN, '--ca-cert', caFile, '--no-guardian', ...GET], { env });
    await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the GET is held', 15_000);
    r.signal('SIGQUIT');
    const { code } = await r.exited;
    expect(r.stderr()).toContain('received SIGQUIT');
    expect(code).toBe(131);
    expect(s.sessions()).toEqual([]);
  }, 40_000);
});

describe.skipIf(!linux)('descriptors the agent inherited', () => {
  it('a pipe the caller handed down without close-on-exec (fd 251) is not held by the guardian: its reader sees EOF when the agent dies', async () => {
    // The agent's GET is held, and so is the guardian's DELETE afterwards: the guardian outlives the agent by seconds.
    const s = await startSim([...HUNG_GET, { type: 'hang', on: 'logout' }]);
    const tag = newTag();
    const FD = 251; // Node marks low inherited descriptors close-on-exec itself; a shell's high one passes
    const stdio = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(FD - 3).fill('ignore'), 'pipe'] as const;
    const child = spawn(process.execPath, [BIN, '--ca-cert', caFile, '--log-level', 'debug', ...GET], {
      detached: true,
      stdio: [...stdio],
      env: { ...process.env, ...env, GUARDIAN_TEST_TAG: tag },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.resume();
    const extra = (child.stdio as unknown as NodeJS.ReadableStream[])[FD] as NodeJS.ReadableStream;
    let eofWhileGuardianRan: boolean | undefined;
    let guardianPid = 0;
    extra.on('end', () => (eofWhileGuardianRan = alive(guardianPid)));
    extra.resume();
    try {
      await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the GET is held', 15_000);
      await until(() => stderr.includes('guardian watching') && guardiansTagged(tag).length === 1, 'the guardian watches', 15_000);
      guardianPid = guardiansTagged(tag)[0] as number;
      const pipe = descriptors(child.pid as number).get(FD);
      expect(pipe).toMatch(/^(pipe|socket):\[\d+\]$/);
      expect([...descriptors(guardianPid).values()]).not.toContain(pipe);
      process.kill(-(child.pid as number), 'SIGKILL');
      await until(() => eofWhileGuardianRan !== undefined, 'EOF on the pipe', 15_000);
      expect(eofWhileGuardianRan, 'the guardian was still at work when the pipe reached EOF').toBe(true);
      // and the guardian's work goes on: its DELETE deletes the session once let through. Released
      // at every poll: the DELETE may reach the simulator only after a first release (seen on a loaded machine).
      await until(
        () => {
          s.faults.release();
          return s.sessions().length === 0;
        },
        'the guardian deleted the session',
        15_000,
      );
    } finally {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // gone
      }
      if (guardianPid && alive(guardianPid)) process.kill(guardianPid, 'SIGKILL');
    }
  }, 60_000);
});

describe.skipIf(!linux)('a guardian stuck in its start-up', () => {
  it('does not hold the agent\'s stderr once the agent released its session: the run\'s pipes close when the agent exits', async () => {
    const s = await startSim();
    const tag = newTag();
    const stuck = resolve(PROJECT_ROOT, 'test/fixtures/hang-guardian-startup.cjs');
    // At --log-level info the guardian shares the agent's stderr; stuck, it would hold it for 60 s.
    const r = runProgram(process.execPath, [BIN, '--ca-cert', caFile, '--log-level', 'info', ...GET], {
      env: { ...env, GUARDIAN_TEST_TAG: tag, NODE_OPTIONS: `--require ${stuck}` },
    });
    try {
      // runProgram's `exited` waits for stdout and stderr to close: every holder must be gone.
      const { code } = await r.exited;
      expect(code, r.stderr()).toBe(0);
      expect(JSON.parse(r.stdout()).Id).toBe('1');
      expect(s.sessions()).toEqual([]);
      expect(guardiansTagged(tag)).toEqual([]);
    } finally {
      for (const pid of guardiansTagged(tag)) process.kill(pid, 'SIGKILL');
    }
  }, 40_000);
});

describe.skipIf(!linux)('what a cut-short stop says', () => {
  it('in-band, a DELETE cut by --shutdown-timeout and then done by the blocking DELETE on the way out: exit 0, no "could not delete"', async () => {
    const chifSocket = join(dir, `chif-${process.pid}-${Date.now()}.sock`);
    sim = await startSimulator({ loginFailureDelayMs: 0, chifSocket, faults: [{ type: 'hang', on: 'logout' }] });
    const s = sim;
    const inband = { ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so'), ILO_CHIF_EMULATOR_SOCKET: chifSocket };
    const r = runProgram(process.execPath, [BIN, '--shutdown-timeout', '1s', ...GET], { env: inband });
    const { code } = await r.exited;
    expect(r.stderr()).toContain('session deleted by a blocking request on the way out');
    expect(r.stderr()).not.toContain('could not delete');
    expect(code, r.stderr()).toBe(0);
    expect(JSON.parse(r.stdout()).Id).toBe('1');
    expect(s.sessions()).toEqual([]);
  }, 40_000);

  it('a login cut by --shutdown-timeout: with a guardian, it says the guardian will delete the session (and it does); without one, that it stays', async () => {
    const s = await startSim([{ type: 'hang', on: 'login', stage: 'after' }]);
    const tag = newTag();
    const guarded = runProgram(process.execPath, [BIN, '--ca-cert', caFile, '--shutdown-timeout', '1s', ...GET], { env: { ...env, GUARDIAN_TEST_TAG: tag } });
    await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the login is held with its session made', 15_000);
    guarded.signal('SIGTERM');
    const { code } = await guarded.exited;
    expect(code).toBe(143);
    expect(guarded.stderr()).toContain('the login was cut off before the iLO answered; if the iLO made a session, the guardian will look for it and delete it');
    expect(guarded.stderr()).not.toContain('idle timeout');
    s.faults.release();
    await until(() => s.sessions().length === 0, 'the guardian deleted the session', 15_000);
    // The guardian scans on for a while after it deleted the session; a fresh session of the same
    // user made meanwhile is one it would take for the interrupted login's (README: residual risk).
    await until(() => guardiansTagged(tag).length === 0, 'the guardian has ended', 15_000);

    s.faults.inject({ type: 'hang', on: 'login', stage: 'after' });
    const alone = runProgram(process.execPath, [BIN, '--ca-cert', caFile, '--no-guardian', '--shutdown-timeout', '1s', ...GET], { env });
    await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the login is held with its session made', 15_000);
    alone.signal('SIGTERM');
    await alone.exited;
    expect(alone.stderr()).toContain('if the iLO made a session, it stays until its idle timeout');
    s.expireSessions();
  }, 60_000);
});

describe.skipIf(!linux)('as PID 1 of a PID namespace (a container)', () => {
  const root = process.getuid?.() === 0;
  const why = 'SKIPPED: unshare --pid needs root';
  if (!root && process.env.CI === 'true') {
    it('needs root under CI', () => {
      throw new Error(`${why}; CI runs as root`);
    });
  }
  it.skipIf(!root)(root ? 'SIGTERM to it (docker stop) deletes the session before the namespace ends' : why, async () => {
    const s = await startSim(HUNG_GET);
    // unshare forks the agent into a new PID namespace, where it is PID 1 (as `docker run image ilo-agent …`).
    const r = runProgram('unshare', ['--pid', '--fork', process.execPath, BIN, '--ca-cert', caFile, '--log-level', 'debug', ...GET], { env });
    await until(() => s.faults.held === 1 && s.sessions().length === 1, 'the GET is held', 15_000);
    expect(r.stderr()).toContain('running as PID 1 of a PID namespace');
    // The agent's pid as seen from here: unshare's only child.
    const agent = Number((readProc(r.child.pid as number, `task/${r.child.pid}/children`) ?? '').trim().split(/\s+/)[0]);
    expect(readProc(agent, 'cmdline')?.split('\0')).toContain(BIN);
    expect(readProc(agent, 'status')).toMatch(/^NSpid:\s+\d+\s+1$/m);
    process.kill(agent, 'SIGTERM');
    const { code } = await r.exited;
    expect(r.stderr()).toContain('received SIGTERM');
    expect(code).toBe(143);
    expect(s.sessions()).toEqual([]);
  }, 40_000);
});
