// The guardian: what a dead agent cannot do, its guardian does. SIGKILL, the OOM killer and a
// native crash run no handler, so the CLI's own cleanup (cleanup.test.ts) cannot cover them;
// the guardian process (src/guardian/) can. The real CLI runs in its own process group against
// an in-process simulator, over HTTPS and in-band; the group is killed with SIGKILL, as a
// supervisor does, and the simulator's table is read afterwards.
//
// Guardians are found through /proc: each agent gets a GUARDIAN_TEST_TAG in its environment,
// which its guardian inherits (the tag is no secret; the test only needs to tell its own apart).
import { readdirSync, readFileSync, readlinkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type FaultRule, type Simulator } from '../../src/simulator/index.js';
import { BIN, runCli, runProgram, type Running } from '../helpers/cli.js';
import { client } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';
import { seededRandom } from '../helpers/random.js';
import { expectNoFallback, FALLBACK_LINES, OWN_LOGOUT_LINE } from '../helpers/which-path.js';

// vnic: the iLO 7 path with a password (the HTTPS transport at --vnic-url, chosen by --inband vnic).
const TRANSPORTS = ['https', 'chif', 'vnic'] as const;
type TransportKind = (typeof TRANSPORTS)[number];
const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const PASSWORD = 'guardian-test-S3cret!';
const GET = ['get', '/redfish/v1/Systems/1'];
/** How long a wait for the table to empty may take on a loaded machine: a budget for the wait, not a speed promise (no timing assertions in npm test). */
const CLEAN_WITHIN_MS = 20_000;
/** A guardian has exited this long after its agent ended (its own hard limit: max(10 s, 3 × the request timeout), plus a loaded machine). */
const GUARDIAN_GONE_MS = 30_000;

const linux = process.platform === 'linux';

let dir: string;
let caFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-guardian-'));
  caFile = join(dir, 'ca.pem');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---- finding guardians -------------------------------------------------------------------------

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * This file's runs apart from any other on the machine: /proc shows every user's guardians, and two
 * suites at once (two checkouts, a CI run beside a developer's) would otherwise find, and at the
 * end of a case kill, each other's guardians with the same tag.
 */
const RUN = `${process.pid}-${randomBytes(4).toString('hex')}`;
const tagValue = (tag: string) => `${RUN}:${tag}`;

/** Pids of running guardians whose environment carries one of `tags` (of this run). */
function guardians(tags: Iterable<string>): Map<string, number> {
  const wanted = new Set([...tags].map((t) => `GUARDIAN_TEST_TAG=${tagValue(t)}`));
  const found = new Map<string, number>();
  if (wanted.size === 0) return found;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    // the bundled bin runs its guardian as itself with one argument: [node, bin, '__guardian']
    if (!readProc(pid, 'cmdline')?.split('\0').includes('__guardian')) continue;
    const stat = readProc(pid, 'stat');
    if (!stat || / Z /.test(stat.slice(stat.lastIndexOf(')')))) continue; // a zombie is gone
    for (const variable of readProc(pid, 'environ')?.split('\0') ?? []) {
      if (wanted.has(variable)) found.set(variable.slice(`GUARDIAN_TEST_TAG=${RUN}:`.length), pid);
    }
  }
  return found;
}

/** Every guardian this file started, killed by pid at the end of each test (a failed one may leave some). */
const allTags = new Set<string>();
afterEach(() => {
  for (const pid of guardians(allTags).values()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  allTags.clear();
});


// Real processes on a shared 2-core machine: each case waits for events (a guardian's scan, a DELETE)
// that load can stretch well past vitest's default 20 s, so the cases get 90 s.
describe.skipIf(!linux)('the guardian', { timeout: 90_000 }, () => {
  describe.each(TRANSPORTS)('over %s', (kind: TransportKind) => {
    let sim: Simulator;
    let env: NodeJS.ProcessEnv;
    let simLog: Array<Record<string, unknown>>;
    const running: Running[] = [];

    async function startSim(options: { faults?: FaultRule[]; maxSessions?: number; credentialsInband?: boolean } = {}) {
      const chifSocket = kind === 'chif' ? join(dir, `chif-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}.sock`) : undefined;
      simLog = [];
      const logger = pino({ level: 'debug' }, { write: (line: string) => void simLog.push(JSON.parse(line) as Record<string, unknown>) });
      sim = await startSimulator({
        loginFailureDelayMs: 0,
        faults: options.faults ?? [],
        chifSocket,
        maxSessions: options.maxSessions ?? 10,
        users: { Administrator: PASSWORD },
        logger,
      });
      writeFileSync(caFile, sim.ca);
      const inbandUser = options.credentialsInband ? { ILO_USERNAME: 'Administrator', ILO_PASSWORD: PASSWORD } : { ILO_USERNAME: '', ILO_PASSWORD: '' };
      env =
        kind === 'https'
          ? { ILO_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: PASSWORD, ILO_CHIF_LIB: '' }
          : kind === 'vnic'
            ? { ILO_URL: '', ILO_INBAND: 'vnic', ILO_VNIC_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: PASSWORD, ILO_CHIF_LIB: '' }
            : { ILO_URL: '', ...inbandUser, ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: chifSocket };
    }

    function agent(args: string[], tag: string): Running & { ended: Promise<void> } {
      allTags.add(tag);
      const r = runCli(['--ca-cert', caFile, ...args], { env: { ...env, GUARDIAN_TEST_TAG: tagValue(tag) } });
      running.push(r);
      // The process's end, not its pipes': a guardian holding the inherited stderr keeps those open.
      const ended = new Promise<void>((done) => (r.child.exitCode !== null || r.child.signalCode !== null ? done() : r.child.once('exit', () => done())));
      return { ...r, ended };
    }

    const killGroup = (r: Running) => {
      try {
        process.kill(-(r.child.pid as number), 'SIGKILL');
      } catch {
        // it ended by itself
      }
    };

    afterEach(async () => {
      for (const r of running.splice(0)) killGroup(r);
      sim.faults.release();
      await sim.close();
    });

    it('normal completion: the guardian exits without doing anything; the session is deleted once, by the agent', async () => {
      await startSim();
      const r = agent(['--log-level', 'debug', ...GET], `${kind}-normal`);
      await r.ended;
      expect(r.child.exitCode).toBe(0);
      expect(JSON.parse(r.stdout()).Id).toBe('1');
      expect(sim.sessions()).toEqual([]);
      const pid = Number(/"guardianPid":(\d+)/.exec(r.stderr())?.[1]);
      expect(pid).toBeGreaterThan(0);
      // released: it exits by itself, or the agent stops it on its way out (it has nothing to do)
      await until(() => guardians([`${kind}-normal`]).size === 0, 'the guardian exited', 20_000);
      const deletes = simLog.filter((l) => l.msg === 'request' && l.method === 'DELETE');
      expect(deletes).toHaveLength(1);
      expect(deletes[0]?.status).toBe(200);
      expect(simLog.filter((l) => l.msg === 'session deleted')).toHaveLength(1);
      expect(sim.endedSessions().map((e) => e.how)).toEqual(['own-token']);
      expect(r.stderr()).toContain(OWN_LOGOUT_LINE);
      expectNoFallback(r.stderr());
    });

    it('SIGKILL mid-request: the guardian deletes the session with the agent\'s token and exits', async () => {
      await startSim({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }] });
      const tag = `${kind}-mid-request`;
      const r = agent(['--log-level', 'debug', ...GET], tag);
      await until(() => sim.faults.held === 1 && sim.sessions().length === 1, 'the GET is held');
      await until(() => guardians([tag]).size === 1, 'the guardian runs');
      killGroup(r);
      await until(() => sim.sessions().length === 0, 'the guardian deleted the session', 20_000);
      await until(() => guardians([tag]).size === 0, 'the guardian exited', 20_000);
      // Its last line may still sit in the pipe when it has exited: wait for the read, not the exit.
      await until(() => r.stderr().includes(FALLBACK_LINES.guardianKnown), 'the guardian said it deleted the session', 20_000);
      // With the token the agent handed it, not by its search for an unanswered login's session
      expect(sim.endedSessions().map((e) => e.how)).toEqual(['own-token']);
      expectNoFallback(r.stderr(), ['guardianKnown']);
    });

    it('an iLO that takes 3.5 s per request: the guardian follows the agent\'s --timeout (not a fixed 3 s) and deletes the session', async () => {
      await startSim({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }] });
      const tag = `${kind}-slow-ilo`;
      const r = agent(['--log-level', 'debug', '--timeout', '20s', ...GET], tag);
      await until(() => sim.faults.held === 1 && sim.sessions().length === 1, 'the GET is held');
      await until(() => guardians([tag]).size === 1, 'the guardian runs');
      sim.faults.setLatency({ requestMs: 3_500 });
      killGroup(r);
      await until(() => r.stderr().includes('deleted the session the agent left'), 'the guardian deleted the session', 20_000);
      expect(r.stderr()).not.toContain('could not delete the session the agent left');
      expect(sim.sessions()).toEqual([]);
      await until(() => guardians([tag]).size === 0, 'the guardian exited', 20_000);
    }, 60_000);

    it.each(['before', 'after'] as const)('SIGKILL during the logout (the iLO holds the DELETE %s doing it): gone, and the guardian knew the session', async (stage) => {
      await startSim({ faults: [{ type: 'hang', on: 'logout', stage }] });
      const tag = `${kind}-logout-${stage}`;
      const r = agent(['--log-level', 'debug', ...GET], tag);
      await until(() => sim.faults.held === 1, 'the DELETE is held');
      killGroup(r);
      await until(() => sim.sessions().length === 0, 'the session is gone', 20_000);
      await until(() => guardians([tag]).size === 0, 'the guardian exited', 20_000);
      await until(() => r.stderr().includes(FALLBACK_LINES.guardianKnown), 'the guardian said it deleted the session', 20_000);
      expect(r.stderr()).not.toContain('released its session');
      // Held before: the guardian's DELETE with the agent's token did it. Held after: the agent's
      // own DELETE did it, and the guardian, told of the session, confirmed it gone. Never the
      // guardian's search for the session of an unanswered login (it would hide a guardian that
      // was never told of the session).
      expect(sim.endedSessions().map((e) => e.how)).toEqual(['own-token']);
      expectNoFallback(r.stderr(), ['guardianKnown']);
    });

    it('SIGKILL after the iLO made the session, before the agent read the login answer: found and deleted', async () => {
      await startSim({ faults: [{ type: 'hang', on: 'login', stage: 'after' }] });
      const tag = `${kind}-login-gap`;
      const r = agent(['--log-level', 'debug', ...GET], tag);
      await until(() => sim.faults.held === 1 && sim.sessions().length === 1, 'the login is held with its session made');
      killGroup(r);
      await until(() => sim.sessions().length === 0, 'the guardian found and deleted the session', 20_000);
      await until(() => r.stderr().includes(FALLBACK_LINES.guardianScan), 'the guardian said what it did', 20_000);
      await until(() => guardians([tag]).size === 0, 'the guardian exited', 20_000);
      // The search is the path here: with Basic (HTTPS), on the channel's trust (in-band)
      expect(sim.endedSessions().map((e) => e.how)).toEqual([kind === 'chif' ? 'channel' : 'basic']);
      expectNoFallback(r.stderr(), ['guardianScan']);
    });

    it('other sessions are left alone: an older one of the same user and tag, and (HTTPS) a recent one in use', async () => {
      await startSim();
      // An older session of the same user, tag and transport: what a --no-guardian run killed mid-request leaves.
      sim.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' });
      const leaker = agent(['--no-guardian', ...GET], `${kind}-leaker`);
      await until(() => sim.faults.held === 1 && sim.sessions().length === 1, 'the GET is held');
      killGroup(leaker);
      await leaker.ended;
      sim.faults.release();
      const older = sim.sessions()[0]?.id;
      await new Promise((res) => setTimeout(res, 2100)); // older than the guardian's 2 s LoginTime slack
      // A recent session of the same user (HTTPS: same tag too) that its owner uses.
      const other = client(sim);
      try {
        const recent = kind !== 'chif' ? await other.login('Administrator', PASSWORD) : undefined;
        const recentLogin = Date.now();
        sim.faults.inject({ type: 'hang', on: 'login', stage: 'after' });
        const tag = `${kind}-bystanders`;
        const r = agent(['--log-level', 'debug', ...GET], tag);
        const expected = recent ? 3 : 2;
        await until(() => sim.faults.held === 1 && sim.sessions().length === expected, 'the login is held with its session made');
        if (recent) {
          // used two seconds after its login (LoginTime and AccessTime have one-second steps)
          await new Promise((res) => setTimeout(res, Math.max(0, recentLogin + 2100 - Date.now())));
          expect((await other.call('GET', '/redfish/v1/Systems/1', { token: recent.token })).status).toBe(200);
        }
        killGroup(r);
        await until(() => sim.sessions().length === expected - 1, 'the guardian deleted the session of the interrupted login', 20_000);
        await until(() => guardians([tag]).size === 0, 'the guardian exited', 20_000);
        expect(sim.sessions().map((s) => s.id)).toContain(older);
        if (recent) expect((await other.call('GET', '/redfish/v1/Systems/1', { token: recent.token })).status).toBe(200);
        expect(sim.sessions()).toHaveLength(expected - 1);
        sim.expireSessions();
      } finally {
        other.close();
      }
    });

    it('the token and the password are in neither the guardian\'s argv nor its environment; its stdin is a pipe', async () => {
      await startSim({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }], credentialsInband: true });
      const tag = `${kind}-secrets`;
      const r = agent(GET, tag);
      await until(() => sim.faults.held === 1 && sim.sessions().length === 1, 'the GET is held');
      await until(() => guardians([tag]).size === 1, 'the guardian runs');
      const pid = guardians([tag]).get(tag) as number;
      const cmdline = readProc(pid, 'cmdline') ?? '';
      const environ = readProc(pid, 'environ') ?? '';
      expect(cmdline.split('\0')).toContain('__guardian');
      expect(environ).toContain(`GUARDIAN_TEST_TAG=${tagValue(tag)}`); // the reading works
      for (const text of [cmdline, environ]) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain('ILO_PASSWORD=');
      }
      // The simulator never shows tokens: every 32-hex string in them is tried as one instead.
      const probe = client(sim);
      try {
        const candidates = new Set([...`${cmdline}\n${environ}`.matchAll(/[0-9a-f]{32}/g)].map((m) => m[0]));
        for (const candidate of candidates) {
          expect((await probe.call('GET', '/redfish/v1/SessionService', { token: candidate })).status).not.toBe(200);
        }
        // …and the probe does recognise a live token
        const own = await probe.login('Administrator', PASSWORD);
        expect((await probe.call('GET', '/redfish/v1/SessionService', { token: own.token })).status).toBe(200);
        await probe.call('DELETE', own.location.replace(/^https:\/\/[^/]+/, ''), { token: own.token });
      } finally {
        probe.close();
      }
      // an inherited pipe (libuv makes it a socketpair), not a file
      expect(readlinkSync(`/proc/${pid}/fd/0`)).toMatch(/^(pipe|socket):\[/);
      expect(sim.sessions().map((s) => s.user)).toEqual(['Administrator']);
      killGroup(r);
      await until(() => sim.sessions().length === 0, 'the guardian deleted the session', CLEAN_WITHIN_MS);
    });

    it('--no-guardian: no guardian is started, and a SIGKILL mid-request leaves the session (why the guardian exists)', async () => {
      await startSim({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }] });
      const tag = `${kind}-no-guardian`;
      const r = agent(['--no-guardian', '--log-level', 'debug', ...GET], tag);
      await until(() => sim.faults.held === 1 && sim.sessions().length === 1, 'the GET is held');
      expect(guardians([tag]).size).toBe(0);
      killGroup(r);
      await r.ended;
      // A negative check: a wait can only miss a late deletion, never fail a correct run.
      await new Promise((res) => setTimeout(res, 2_500));
      expect(guardians([tag]).size).toBe(0);
      // No guardian line (a word match on all of stderr would also match a checkout path that holds it).
      expect(r.stderr()).not.toMatch(/"msg":"[^"]*guardian|guardianPid/);
      // Nothing ran a handler: the session stays until its idle timeout.
      expect(sim.sessions()).toHaveLength(1);
      sim.expireSessions();
    });

    it(`SIGKILL of the process group at random moments, at least 100 times, 4 at a time: the table ends empty each time`, async () => {
      const kills = Number(process.env.GUARDIAN_KILLS ?? 100);
      const parallel = Number(process.env.GUARDIAN_PARALLEL ?? 4); // 8 node processes at the worst moment
      const seed = Number(process.env.GUARDIAN_SEED ?? Date.now() % 2 ** 31);
      // One stream per transport, both from the printed seed.
      const random = seededRandom(seed + (kind === 'chif' ? 1 : kind === 'vnic' ? 2 : 0));
      const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
      const repeat = `GUARDIAN_SEED=${seed} npx vitest run test/cli/guardian.test.ts`;
      console.info(`guardian stress over ${kind}: seed ${seed} (repeat: ${repeat})`);
      await startSim({ maxSessions: 64 });
      const commands = [GET, ['list', '--expand', '/redfish/v1/Systems'], ['sessions', 'list'], ['info']];
      const phases: Record<string, number> = {};
      const endedAt = new Map<string, number>();
      let done = 0;
      let finishedAlone = 0;
      const started = Date.now();
      for (let batch = 0; done < kills; batch++) {
        const latency = { requestMs: between(5, 30), loginMs: between(0, 40) };
        sim.faults.setLatency(latency);
        const runs = Array.from({ length: parallel }, async (_, i) => {
          const tag = `${kind}-${seed}-${batch}-${i}`;
          const command = commands[between(0, commands.length - 1)] as string[];
          // A quarter of the kills at a time counted from the spawn (mostly while node starts);
          // the rest counted from the moment the guardian is spawned, just before the login, so
          // that the login, the requests and the logout are hit, not only node's start-up.
          const fromSpawn = random() < 0.25;
          const delay = fromSpawn ? between(0, 600) : between(0, kind !== 'chif' ? 250 : 140);
          const r = agent(['--log-level', 'debug', ...command], tag);
          if (!fromSpawn) {
            await Promise.race([r.ended, until(() => r.stderr().includes('guardian started'), 'the guardian started', 20_000)]);
          }
          await Promise.race([r.ended, new Promise((res) => setTimeout(res, delay))]);
          if (r.child.exitCode !== null || r.child.signalCode !== null) {
            finishedAlone++;
            endedAt.set(tag, Date.now());
            return { tag, r, killedAt: undefined };
          }
          const err = r.stderr();
          const phase = !err.includes('guardian started')
            ? 'starting (no guardian yet)'
            : !err.includes('session created')
              ? 'login in flight'
              : !err.includes('"msg":"session deleted"')
                ? 'session open (requests, logout)'
                : 'after logout';
          phases[phase] = (phases[phase] ?? 0) + 1;
          const killedAt = Date.now();
          killGroup(r);
          await r.ended;
          endedAt.set(tag, killedAt);
          return { tag, r, killedAt };
        });
        const results = await Promise.all(runs);
        done += results.filter((x) => x.killedAt !== undefined).length;
        const lastKill = Math.max(...results.map((x) => x.killedAt ?? 0), Date.now() - CLEAN_WITHIN_MS + 500);
        const left = () => sim.sessions().filter((s) => !s.transient);
        await until(() => left().length === 0, 'the table is empty', Math.max(0, lastKill + CLEAN_WITHIN_MS - Date.now())).catch(() => {
          throw new Error(
            `batch ${batch} (latency ${JSON.stringify(latency)}): ${left().length} session(s) left ${CLEAN_WITHIN_MS} ms after the last kill: ` +
              `${JSON.stringify(left())}\nrepeat with ${repeat}\n` +
              results.map((x) => `--- ${x.tag} (killed: ${x.killedAt !== undefined})\n${x.r.stderr()}`).join('\n'),
          );
        });
        // A guardian never outlives its job: it boots (slowly, with 8 node processes on the
        // machine), deletes, looks for a late session for 1.5 s at most, and exits.
        const stale = [...guardians(endedAt.keys())].filter(([tag]) => Date.now() - (endedAt.get(tag) as number) > GUARDIAN_GONE_MS);
        expect(stale, `guardians still running ${GUARDIAN_GONE_MS} ms after their agent ended (${repeat})`).toEqual([]);
      }
      await until(() => guardians(endedAt.keys()).size === 0, 'every guardian exited', GUARDIAN_GONE_MS);
      expect(sim.sessions().filter((s) => !s.transient)).toEqual([]);
      console.info(
        `guardian stress over ${kind}: ${done} kills (+${finishedAlone} runs that ended first) in ${((Date.now() - started) / 1000).toFixed(1)} s; kill moments: ${JSON.stringify(phases)}`,
      );
      expect(done).toBeGreaterThanOrEqual(kills);
      // The moments that matter were reached.
      expect(phases['login in flight'] ?? 0).toBeGreaterThan(0);
      expect(phases['session open (requests, logout)'] ?? 0).toBeGreaterThan(0);
    }, 90_000);
  });
});

describe('the internal guardian argument', () => {
  it('typed at a terminal, it is refused with exit 2 instead of waiting for a pipe', async () => {
    // `script` gives the child a terminal, as a person typing `ilo-agent __guardian` has.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} __guardian`;
    const r = await finished(runProgram('script', ['-qec', command, '/dev/null']));
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('the guardian is started by ilo-agent itself');
  });
});

async function finished(r: Running) {
  const { code } = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}
