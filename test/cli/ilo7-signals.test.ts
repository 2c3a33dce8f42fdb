// The signal matrix on iLO 7's app-token path, end to end: the built CLI loads the C emulator
// library (GetSessionID through koffi), which forwards to the simulator; Redfish goes to the
// simulator's vNIC listener. As over HTTPS, CHIF and the vNIC with a password (cleanup.test.ts):
// SIGINT, SIGTERM and SIGHUP at the login (GetSessionID held), during a request and during the
// logout each leave 0 sessions and exit 128+n. And the session is deleted by the CLI's own
// DELETE, not by its guardian nor by an expiry: the simulator's request log shows one DELETE of
// that session over the vNIC, done before the CLI exited, and no guardian had to act.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type FaultRule, type Simulator } from '../../src/simulator/index.js';
import { killLive, runCli, type Running } from '../helpers/cli.js';
import { guardiansTagged } from '../helpers/proc.js';
import { seededRandom } from '../helpers/random.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SYSTEM = '/redfish/v1/Systems/1';
const NO_STACK = /\n\s+at /;
const EXIT = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

let dir: string;
let count = 0;
let sim: Simulator | undefined;
let simLog: Array<Record<string, unknown>> = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-ilo7-signals-'));
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

async function start(faults: FaultRule[] = [], sessionHold?: 'before' | 'after'): Promise<Simulator> {
  simLog = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void simLog.push(JSON.parse(line) as Record<string, unknown>) });
  sim = await startSimulator({
    profile: 'ilo7',
    loginFailureDelayMs: 0,
    chifSocket: join(dir, `c${count++}.sock`),
    faults,
    appFaults: sessionHold ? { sessionHold } : {},
    logger,
  });
  return sim;
}

/** The built CLI in-band (no --url, no credentials: the app token), trusting the vNIC by its CA and name. */
function agent(s: Simulator, command = ['get', SYSTEM], extraEnv: NodeJS.ProcessEnv = {}): Running & { exitedWith: Promise<{ code: number | null; sessionsAtExit: number }> } {
  const ca = join(dir, `vnic-ca-${count++}.pem`);
  writeFileSync(ca, s.vnicCa as string);
  const r = runCli(['--ca-cert', ca, '--tls-servername', 'ilo-simulator.local', '--log-level', 'info', ...command], {
    env: {
      ILO_URL: '',
      ILO_USERNAME: '',
      ILO_PASSWORD: '',
      ILO_AGENT_SOCKET: '',
      ILO_CHIF_LIB: EMULATOR,
      ILO_CHIF_EMULATOR_SOCKET: s.chifSocket as string,
      ILO_VNIC_URL: s.vnicUrl as string,
      ...extraEnv,
    },
  });
  // The table as it is when the CLI's process has gone (its guardian, which only acts after that,
  // may still hold the pipes open): empty here means the CLI deleted the session itself.
  const exitedWith = new Promise<{ code: number | null; sessionsAtExit: number }>((done) =>
    r.child.once('exit', (code) => done({ code, sessionsAtExit: s.sessions().length })),
  );
  return { ...r, exitedWith };
}

/** The DELETEs of session URIs the simulator saw, with the listener they came through. */
const deletes = () =>
  simLog.filter((l) => l.msg === 'request' && l.method === 'DELETE' && /\/SessionService\/Sessions\//.test(String(l.path))).map((l) => ({ path: l.path, status: l.status, transport: l.transport }));

/** The one session GetSessionID made (the simulator's log), and its URI. */
function appSession(): { id: string; uri: string } {
  const made = simLog.filter((l) => l.msg === 'app-token session created');
  expect(made).toHaveLength(1);
  const id = String(made[0]?.id);
  return { id, uri: `/redfish/v1/SessionService/Sessions/${id}` };
}

/** What every cell of the matrix ends with: exit 128+n, 0 sessions, deleted by the CLI's one DELETE over the vNIC. */
async function deletedByTheCli(r: ReturnType<typeof agent>, signal: keyof typeof EXIT, s: Simulator): Promise<void> {
  const { code, sessionsAtExit } = await r.exitedWith;
  await r.exited;
  expect(r.stderr()).not.toMatch(NO_STACK);
  expect(code).toBe(EXIT[signal]);
  expect(sessionsAtExit).toBe(0);
  expect(s.sessions()).toEqual([]);
  const { id, uri } = appSession();
  expect(deletes()).toEqual([{ path: uri, status: 200, transport: 'vnic' }]);
  expect(simLog.filter((l) => l.msg === 'session deleted').map((l) => l.id)).toEqual([id]);
  // The CLI says it deleted it; its guardian had nothing to do.
  expect(r.stderr()).toMatch(/"msg":"session deleted"/);
  expect(r.stderr()).not.toMatch(/the agent ended without deleting its session/);
  // One GetSessionID: no second login was made to clean up.
  expect(s.app.counters().session).toBe(1);
  expect(s.state().counters.logins).toBe(1);
}

describe.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('iLO 7 app token, %s', (signal) => {
  it('during GetSessionID (the session made, the answer pending): waits for the answer, then deletes that session', async () => {
    const s = await start([], 'after');
    const r = agent(s);
    await until(() => s.faults.held === 1 || r.child.exitCode !== null, 'GetSessionID is held with its session made', 20_000);
    expect(s.faults.held, r.stderr()).toBe(1);
    expect(s.sessions()).toEqual([expect.objectContaining({ user: 'iLORest', transport: 'vnic' })]);
    r.signal(signal);
    await until(() => r.stderr().includes(`received ${signal}`), 'the signal arrived', 10_000);
    expect(r.child.exitCode).toBeNull(); // only GetSessionID's answer says what to delete
    s.faults.release();
    await deletedByTheCli(r, signal, s);
    expect(r.stdout()).toBe('');
  }, 60_000);

  it('during GetSessionID, before the library made the session: nothing is left, nothing to delete but the session it then answers', async () => {
    const s = await start([], 'before');
    const r = agent(s);
    await until(() => s.faults.held === 1 || r.child.exitCode !== null, 'GetSessionID is held', 20_000);
    expect(s.faults.held, r.stderr()).toBe(1);
    expect(s.sessions()).toEqual([]);
    r.signal(signal);
    await until(() => r.stderr().includes(`received ${signal}`), 'the signal arrived', 10_000);
    s.faults.release();
    await deletedByTheCli(r, signal, s);
    expect(r.stdout()).toBe('');
  }, 60_000);

  it('during a request (a held GET): cuts it, deletes the session', async () => {
    const s = await start([{ type: 'hang', method: 'GET', path: SYSTEM }]);
    const r = agent(s);
    await until(() => (s.faults.held === 1 && s.sessions().length === 1) || r.child.exitCode !== null, 'the GET is held', 20_000);
    expect(s.faults.held, r.stderr()).toBe(1);
    r.signal(signal);
    await until(() => r.stderr().includes(`received ${signal}`), 'the signal arrived', 10_000);
    await deletedByTheCli(r, signal, s);
    expect(r.stdout()).toBe('');
    expect(s.faults.held).toBe(1); // the GET is still held: the DELETE did not wait for it
  }, 60_000);

  it('during the logout (a held DELETE): finishes it', async () => {
    const s = await start([{ type: 'hang', on: 'logout' }]);
    const r = agent(s);
    await until(() => s.faults.held === 1 || r.child.exitCode !== null, 'the DELETE is held', 20_000);
    expect(s.faults.held, r.stderr()).toBe(1);
    expect(s.sessions()).toHaveLength(1);
    r.signal(signal);
    await until(() => r.stderr().includes(`received ${signal}`), 'the signal arrived', 10_000);
    s.faults.release();
    await deletedByTheCli(r, signal, s);
    expect(JSON.parse(r.stdout()).Id).toBe('1'); // the work was done before the signal
  }, 60_000);
});

// SIGKILL runs no handler: the guardian deletes the session. It can only once GetSessionID has
// answered (the token is what it deletes with; the app-token login has no password to look for
// a session it was not told of: README, "Login with the app token"), so the kills fall at random
// moments from the CLI's "session created" on: requests, the logout, after it.
describe('iLO 7 app token, SIGKILL of the process group at random moments after GetSessionID answered', () => {
  it('the guardian deletes the session each time, with its token, and every guardian exits', async () => {
    const kills = Number(process.env.GUARDIAN_KILLS ?? 30);
    const seed = Number(process.env.GUARDIAN_SEED ?? Date.now() % 2 ** 31);
    const random = seededRandom(seed);
    const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
    const repeat = `GUARDIAN_SEED=${seed} npx vitest run test/cli/ilo7-signals.test.ts`;
    console.info(`app-token guardian stress: seed ${seed} (repeat: ${repeat})`);
    const s = await start();
    const commands = [['get', SYSTEM], ['list', '--expand', '/redfish/v1/Systems'], ['sessions', 'list'], ['info']];
    const phases: Record<string, number> = {};
    let done = 0;
    for (let round = 0; done < kills; round++) {
      s.faults.setLatency({ requestMs: between(5, 30), loginMs: 0 });
      const tag = `ilo7-stress-${process.pid}-${seed}-${round}`; // the pid: another suite on the machine may run the same seed
      const r = agent(s, commands[between(0, commands.length - 1)] as string[], { GUARDIAN_TEST_TAG: tag });
      await until(() => r.stderr().includes('"msg":"session created"') || r.child.exitCode !== null, 'the session was adopted', 20_000);
      await Promise.race([r.exitedWith, new Promise((res) => setTimeout(res, between(0, 200)))]);
      if (r.child.exitCode !== null) continue; // it finished first: nothing to kill
      const phase = r.stderr().includes('"msg":"session deleted"') ? 'after logout' : 'session open (requests, logout)';
      phases[phase] = (phases[phase] ?? 0) + 1;
      r.signal('SIGKILL');
      await r.exitedWith;
      done++;
      // Which path, not how fast: a DELETE with the session's own token (the CLI's before the
      // kill, or the guardian's after it). The 30-minute expiry cannot have done it.
      await until(() => s.sessions().length === 0, 'the table is empty', 30_000).catch(() => {
        throw new Error(`round ${round}: ${s.sessions().length} session(s) left after the kill (${repeat})\n${r.stderr()}`);
      });
      expect(s.endedSessions().at(-1)?.how, `round ${round} (${repeat})`).toBe('own-token');
      await until(() => guardiansTagged(tag).length === 0, 'the guardian exited', 15_000);
    }
    console.info(`app-token guardian stress: ${done} kills; moments: ${JSON.stringify(phases)}`);
    expect(phases['session open (requests, logout)'] ?? 0).toBeGreaterThan(0);
    // Every session was one GetSessionID made, and no kill left one.
    expect(s.state().counters.logins).toBe(s.app.counters().session);
    expect(s.sessions()).toEqual([]);
    expect(s.endedSessions().map((e) => e.how)).toEqual(Array<string>(s.state().counters.logins).fill('own-token'));
  }, 300_000);
});
