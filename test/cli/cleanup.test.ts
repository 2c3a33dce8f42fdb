// The promise of ilo-agent: whatever happens to the process, the iLO keeps no session of ours.
// The real CLI runs in its own process group against an in-process simulator; faults hold a
// request in flight at the moment under test; the signal is delivered to the group; the
// simulator's table is read afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type FaultRule, type Simulator } from '../../src/simulator/index.js';
import { killIfRunning, runCli, type Running } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';
import { expectNoFallback, expectOwnLogout, FALLBACK_LINES, OWN_LOGOUT_LINE } from '../helpers/which-path.js';

// vnic: the iLO 7 path with a password (the HTTPS transport at --vnic-url, chosen by --inband vnic).
const TRANSPORTS = ['https', 'chif', 'vnic'] as const;
type TransportKind = (typeof TRANSPORTS)[number];
const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');

let sim: Simulator;
let dir: string;
let caFile: string;
let kind: TransportKind = 'https';
let env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-cleanup-'));
  caFile = join(dir, 'ca.pem');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let running: Running | undefined;
afterEach(async () => {
  await killIfRunning(running);
  running = undefined;
  sim.faults.release();
  await sim.close();
});

/** A simulator, and the environment that points the CLI at it over HTTPS or in-band. */
async function startSim(faults: FaultRule[] = []) {
  const chifSocket = kind === 'chif' ? join(dir, `chif-${process.pid}-${Date.now()}.sock`) : undefined;
  sim = await startSimulator({ loginFailureDelayMs: 0, faults, chifSocket });
  writeFileSync(caFile, sim.ca);
  env =
    kind === 'https'
      ? { ILO_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password', ILO_CHIF_LIB: '' }
      : kind === 'vnic'
        ? { ILO_URL: '', ILO_INBAND: 'vnic', ILO_VNIC_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password', ILO_CHIF_LIB: '' }
        : { ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: chifSocket };
}

function agent(args: string[]): Running {
  running = runCli(['--ca-cert', caFile, ...args], { env });
  return running;
}

const EXIT = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
const GET = ['get', '/redfish/v1/Systems/1'];
/** At info the agent logs its own logout and its guardian writes to the agent's stderr: which path deleted the session shows. */
const INFO_GET = ['--log-level', 'info', ...GET];
/** What the last-resort exit (the shutdown timeout + 2 s) says when it has nothing left to delete. */
const OVERRUN_LINE = 'could not be deleted within the shutdown timeout; exiting anyway';

describe.each(TRANSPORTS)('over %s', (transport) => {
  beforeAll(() => {
    kind = transport;
  });

  describe.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s', (signal) => {
    it('while the login is in flight (the iLO has made the session, its answer is pending): waits for it, then deletes it', async () => {
      await startSim([{ type: 'hang', on: 'login', stage: 'after' }]);
      const r = agent(INFO_GET);
      await until(() => sim.faults.held === 1 && sim.sessions().length === 1, 'the login is held with its session made');
      r.signal(signal);
      await until(() => r.stderr().includes(`received ${signal}`), 'the signal arrived');
      // it must not exit yet: only the login's answer says what to delete (an early exit leaves the
      // session to a fallback or to nobody: expectOwnLogout below fails either way)
      expect(r.child.exitCode).toBeNull();
      sim.faults.release();
      const { code } = await r.exited;
      expect(code).toBe(EXIT[signal]);
      expect(r.stdout()).toBe('');
      expect(sim.sessions()).toEqual([]);
      expectOwnLogout(sim, r.stderr());
    });

    it('while a request is in flight: aborts it, deletes the session', async () => {
      await startSim([{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }]);
      const r = agent(INFO_GET);
      await until(() => sim.faults.held === 1 && sim.sessions().length === 1, 'the GET is held');
      r.signal(signal);
      const { code } = await r.exited;
      expect(r.stderr()).toContain(`received ${signal}`);
      expect(code).toBe(EXIT[signal]);
      expect(r.stdout()).toBe('');
      expect(sim.sessions()).toEqual([]);
      expect(r.stderr()).not.toMatch(/\n\s+at /);
      // the stop's own logout did it, not the blocking DELETE on the way out nor the guardian
      expectOwnLogout(sim, r.stderr());
    });

    it('during logout: finishes the DELETE, exits 128+n', async () => {
      await startSim([{ type: 'hang', on: 'logout' }]);
      const r = agent(INFO_GET);
      await until(() => sim.faults.held === 1, 'the DELETE is held');
      expect(sim.sessions()).toHaveLength(1);
      r.signal(signal);
      await until(() => r.stderr().includes(`received ${signal}`), 'the signal arrived');
      sim.faults.release();
      const { code } = await r.exited;
      expect(code).toBe(EXIT[signal]);
      expect(JSON.parse(r.stdout()).Id).toBe('1'); // the work was done before the signal
      expect(sim.sessions()).toEqual([]);
      expectOwnLogout(sim, r.stderr());
    });
  });

  describe('a stop that cannot finish cleanly is still bounded', () => {
    it('a login the iLO never answers: gives up after --shutdown-timeout', async () => {
      await startSim([{ type: 'hang', on: 'login' }]); // stage before: no session is made
      const r = agent(['--shutdown-timeout', '1s', ...GET]);
      await until(() => sim.faults.held === 1, 'the login is held');
      r.signal('SIGTERM');
      const { code } = await r.exited;
      expect(code).toBe(143);
      // the deadline cut the login and the stop ended by itself; not the last-resort exit 2 s later
      // (in-band: a channel not given up holds the stop until then)
      expect(r.stderr()).toContain('cut off before the iLO answered');
      expect(r.stderr()).not.toContain(OVERRUN_LINE);
      expect(sim.sessions()).toEqual([]);
      expect(sim.endedSessions()).toEqual([]);
    });

    it('a DELETE the iLO never answers: exits after --shutdown-timeout and says so', async () => {
      await startSim([{ type: 'hang', on: 'logout' }]);
      const r = agent(['--shutdown-timeout', '1s', ...GET]);
      await until(() => sim.faults.held === 1, 'the DELETE is held');
      r.signal('SIGINT');
      const { code } = await r.exited;
      expect(code).toBe(130);
      // the stop ended by itself at the deadline, not by the last-resort exit 2 s later
      expect(r.stderr()).not.toContain(OVERRUN_LINE);
      if (transport === 'chif') {
        // in-band, a last blocking DELETE on a fresh channel still goes out on the way out, and
        // then nothing claims the session could not be deleted
        expect(r.stderr()).toContain(FALLBACK_LINES.blockingDelete);
        expect(r.stderr()).not.toMatch(/could not delete the iLO session/);
        expect(sim.sessions()).toEqual([]);
        expect(sim.endedSessions().map((e) => e.how)).toEqual(['own-token']);
      } else {
        expect(r.stderr()).toMatch(/could not delete the iLO session/);
      }
    });
  });

  describe('without signals', () => {
    it('normal completion leaves nothing', async () => {
      await startSim();
      const r = agent(INFO_GET);
      expect((await r.exited).code).toBe(0);
      expect(sim.sessions()).toEqual([]);
      expect(sim.state().counters.logins).toBe(1);
      expectOwnLogout(sim, r.stderr());
    });

    it('an error exit leaves nothing', async () => {
      await startSim();
      const r = agent(['--log-level', 'info', 'get', '/redfish/v1/Systems/42']);
      expect((await r.exited).code).toBe(6);
      expect(r.stderr()).toContain('ResourceMissingAtURI');
      expect(sim.sessions()).toEqual([]);
      expectOwnLogout(sim, r.stderr());
    });

    it.each(['garble', 'strip-location'] as const)('a login answer with a %s fault is still cleaned up', async (type) => {
      await startSim([{ type, on: 'login' }]);
      const r = agent(INFO_GET);
      expect((await r.exited).code).toBe(0);
      expect(JSON.parse(r.stdout()).Id).toBe('1');
      expect(sim.sessions()).toEqual([]);
      expectOwnLogout(sim, r.stderr());
    });

    it('a session that expired meanwhile: logs in again once, deletes both', async () => {
      await startSim([{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1', stage: 'before' }]);
      const r = agent(INFO_GET);
      await until(() => sim.faults.held === 1, 'the GET is held');
      sim.expireSessions();
      sim.faults.release();
      // the held GET runs with the expired token: 401, one re-login, the GET again
      expect((await r.exited).code).toBe(0);
      expect(JSON.parse(r.stdout()).Id).toBe('1');
      expect(sim.state().counters.logins).toBe(2);
      expect(sim.sessions()).toEqual([]);
      // the first ended by its idle timeout, the second by the agent's own logout
      expect(sim.endedSessions().map((e) => e.how)).toEqual(['expired', 'own-token']);
      expect(r.stderr().split(OWN_LOGOUT_LINE).length - 1).toBe(1);
      expectNoFallback(r.stderr());
    });
  });

  describe('crashes and a closed stdout', () => {
    it.each([
      ['throw', 'uncaught exception'],
      ['reject', 'unhandled rejection'],
    ])('an %s (%s) while a request is in flight: deletes the session, exits 1', async (kind, text) => {
      await startSim([{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }]);
      const child = spawn(process.execPath, [resolve(PROJECT_ROOT, 'test/fixtures/crash-on-sigusr2.mjs'), '--ca-cert', caFile, ...INFO_GET], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env, CRASH_KIND: kind },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      try {
        await until(() => sim.faults.held === 1 && sim.sessions().length === 1, 'the GET is held');
        child.kill('SIGUSR2');
        expect(await exited).toBe(1);
        expect(stderr).toContain(`internal error: boom: ${text}`);
        expect(sim.sessions()).toEqual([]);
        expectOwnLogout(sim, stderr);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });

    it('a reader that went away (EPIPE): no crash, nothing left, exit 141', async () => {
      await startSim([{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }]);
      const r = agent(INFO_GET);
      await until(() => sim.faults.held === 1, 'the GET is held');
      r.child.stdout?.destroy();
      sim.faults.release();
      const { code } = await r.exited;
      expect(code).toBe(141);
      expect(r.stderr()).not.toMatch(/\n\s+at /);
      expect(sim.sessions()).toEqual([]);
      expectOwnLogout(sim, r.stderr());
    });
  });
});
