// `serve` under systemd's Type=notify: READY=1 on NOTIFY_SOCKET once the session exists and the
// socket listens, STOPPING=1 when it stops. The "systemd" here is a Unix datagram socket bound by
// python3 (Node cannot bind one), printing each datagram it receives as a JSON line.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killIfRunning, killLive, runCli } from '../helpers/cli.js';
import { bindReceiver, receiverUnavailable } from '../helpers/datagram-receiver.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';


const reason = receiverUnavailable();
if (reason && process.env.CI === 'true') {
  it('binds a fake NOTIFY_SOCKET (required when CI=true)', () => {
    throw new Error(reason);
  });
}

let dir: string;
let sim: Simulator;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-notify-'));
  sim = await startSimulator({ loginFailureDelayMs: 0 });
  writeFileSync(join(dir, 'ca.pem'), sim.ca);
  env = { ILO_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password', ILO_CA_CERT: join(dir, 'ca.pem'), ILO_AGENT_SOCKET: '' };
});
afterAll(async () => {
  killLive();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});


describe.skipIf(reason !== undefined)(`serve with NOTIFY_SOCKET${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let n = 0;
  it.each([
    ['a socket path', () => join(dir, `notify-${++n}`)],
    ['an abstract socket (@name)', () => `@ilo-agent-test-${process.pid}-${++n}`],
  ])('on %s: READY=1 once the session exists and the socket listens, STOPPING=1 on SIGTERM', async (_kind, address) => {
    const notifySocket = address();
    const systemd = await bindReceiver(notifySocket);
    const socket = join(dir, `agent-${n}.sock`);
    const serve = runCli(['serve', '--socket', socket], { env: { ...env, NOTIFY_SOCKET: notifySocket } });
    try {
      await until(() => systemd.received().length > 0, 'a datagram arrives', 30_000);
      // At READY=1 the session is there and the socket answers.
      expect(systemd.received()[0]).toBe(`READY=1\nSTATUS=serving ${socket}`);
      expect(sim.sessions()).toHaveLength(1);
      expect(existsSync(socket)).toBe(true);
      expect(JSON.parse(await serve.firstLine)).toMatchObject({ socket });
      serve.signal('SIGTERM');
      const { code } = await serve.exited;
      expect(code).toBe(0);
      await until(() => systemd.received().length >= 2, 'STOPPING=1 arrives', 10_000);
      expect(systemd.received()).toEqual([`READY=1\nSTATUS=serving ${socket}`, 'STOPPING=1']);
      expect(sim.sessions()).toEqual([]);
    } finally {
      await killIfRunning(serve);
      await killIfRunning(systemd.running);
    }
  });

  it('a NOTIFY_SOCKET nobody listens on: a warning, and serve serves anyway', async () => {
    const socket = join(dir, 'agent-nobody.sock');
    const serve = runCli(['serve', '--socket', socket], { env: { ...env, NOTIFY_SOCKET: join(dir, 'nobody-here') } });
    try {
      expect(JSON.parse(await serve.firstLine)).toMatchObject({ socket });
      await until(() => /could not tell systemd READY=1/.test(serve.stderr()), 'the warning', 30_000);
      expect(sim.sessions()).toHaveLength(1);
      serve.signal('SIGTERM');
      expect((await serve.exited).code).toBe(0);
      expect(sim.sessions()).toEqual([]);
    } finally {
      await killIfRunning(serve);
    }
  });
});

describe('the systemd unit in docs/serve.md', () => {
  const readme = readFileSync(join(PROJECT_ROOT, 'docs/serve.md'), 'utf8');
  const unit = readme.slice(readme.indexOf('A systemd unit'), readme.indexOf('[Install]'));

  it('waits for readiness and does not restart into failed logins', () => {
    expect(unit).toMatch(/^Type=notify$/m);
    const prevented = unit.match(/^RestartPreventExitStatus=(.+)$/m)?.[1]?.split(/\s+/).map(Number);
    expect(prevented).toEqual([EXIT_CODES.E_USAGE, EXIT_CODES.E_AUTH]);
    expect(unit).toMatch(/^RestartSec=/m);
  });
});
