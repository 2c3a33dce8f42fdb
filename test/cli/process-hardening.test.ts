// The process around the session, in a hostile environment: a guardian that cannot start, signals
// that are not a stop (SIGUSR1) or one more kind of stop (SIGQUIT), a reader that never reads,
// secrets in /proc and in core dumps, inherited descriptors, a PID namespace torn down. The real
// CLI runs in its own process group against an in-process simulator, as in cleanup.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type FaultRule, type Simulator } from '../../src/simulator/index.js';
import { BIN, killLive, runProgram, type Running } from '../helpers/cli.js';
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

/** Whether `pid` runs: a killed child whose parent has not reaped it yet is a zombie, not alive. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
};

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

void execFileSync;
void until;
