// `ilo-agent serve`'s socket against other local users (a squatted path, an impostor agent), and
// its framing: an oversize frame, a large frame in small chunks, a client that half-closes.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killIfRunning, killLive, runCli, runProgram, runToEnd, type Running } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const NOBODY = 65534;
const FAKE_AGENT = resolve(PROJECT_ROOT, 'test/fixtures/fake-agent.mjs');
const MAX_FRAME = 96 * 1024 * 1024; // README: the documented bound of a frame

/** Why processes of another user cannot be run here, or undefined. */
const reason = process.platform !== 'linux' ? 'Unix users and SO_PEERCRED: Linux only' : process.getuid?.() !== 0 ? 'running processes as another user (uid 65534) needs root' : undefined;
if (reason && process.env.CI === 'true') {
  it('runs processes as another user (required when CI=true)', () => {
    throw new Error(reason);
  });
}

let base: string;
let sim: Simulator;
let env: NodeJS.ProcessEnv;
let caFile: string;
let n = 0;
const fresh = (mode: number, uid = 0) => {
  const dir = join(base, `d${++n}`);
  mkdirSync(dir);
  chmodSync(dir, mode);
  if (uid !== 0) chownSync(dir, uid, uid);
  return dir;
};
const logins = () => sim.state().counters.logins;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'ilo-agent-socket-'));
  chmodSync(base, 0o755); // other users may pass through, not write
  sim = await startSimulator({ loginFailureDelayMs: 0 });
  caFile = join(base, 'ca.pem');
  writeFileSync(caFile, sim.ca, { mode: 0o644 });
  env = { ILO_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password', ILO_AGENT_SOCKET: '', XDG_RUNTIME_DIR: '', HOME: base };
});
afterAll(async () => {
  killLive();
  await sim.close();
  rmSync(base, { recursive: true, force: true });
});

/** `serve` must stop with exit 2 and this message, and never log in. */
async function refusedBeforeLogin(args: string[], message: RegExp, options: { env?: NodeJS.ProcessEnv; uid?: number } = {}) {
  const before = logins();
  const r = await runToEnd(['--ca-cert', caFile, 'serve', ...args], { env: { ...env, ...options.env }, uid: options.uid, gid: options.uid });
  expect(r.stderr).toMatch(message);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/internal error|EPERM/);
  expect(logins()).toBe(before);
  expect(sim.sessions()).toEqual([]);
}

/** The impostor, run as nobody; resolves once it listens. */
async function impostor(socket: string): Promise<Running> {
  const fake = runProgram(process.execPath, [FAKE_AGENT, socket], { uid: NOBODY, gid: NOBODY });
  expect(await fake.firstLine).toBe('listening');
  return fake;
}

describe('serve refuses a socket path another user holds or can change, before its login', () => {
  it('a file that is not a socket, a directory anyone can write without the sticky bit', async () => {
    await refusedBeforeLogin(['--socket', '/etc/passwd'], /\/etc\/passwd exists and is not a socket/);
    await refusedBeforeLogin(['--socket', join(fresh(0o777), 'agent.sock')], /writable by other users without the sticky bit \(a directory, owner uid 0, mode 0777\)/);
  });

  describe.skipIf(reason !== undefined)(`as another user${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
    it('another user\'s socket, live (squatted) or stale, and another user\'s directory: exit 2, no login', async () => {
      const shared = fresh(0o1777); // like /tmp: anyone may create, only the owner removes
      const squatter = await impostor(join(shared, 'agent.sock'));
      await refusedBeforeLogin(['--socket', join(shared, 'agent.sock')], /is a socket of another user \(uid 65534\)/);
      // killed: its socket file stays, and we may not remove it (sticky directory)
      squatter.signal('SIGKILL');
      await squatter.exited;
      expect(statSync(join(shared, 'agent.sock')).isSocket()).toBe(true);
      await refusedBeforeLogin(['--socket', join(shared, 'agent.sock')], /is a socket of another user \(uid 65534\)/);
      await refusedBeforeLogin(['--socket', join(fresh(0o700, NOBODY), 'agent.sock')], /belongs to another user \(uid 65534\)/);
    });

    it('the default path without XDG_RUNTIME_DIR: a directory of its own, 0700; refused when someone else made it', async () => {
      const tmp = fresh(0o1777);
      const asNobody = { env: { TMPDIR: tmp }, uid: NOBODY };
      const dir = join(tmp, `ilo-agent-${NOBODY}`);
      const agent = runCli(['--ca-cert', caFile, 'serve'], { env: { ...env, TMPDIR: tmp }, uid: NOBODY, gid: NOBODY });
      try {
        const ready = JSON.parse(await agent.firstLine) as { socket: string };
        expect(ready.socket).toBe(join(dir, 'agent.sock'));
        expect(statSync(dir)).toMatchObject({ uid: NOBODY, mode: expect.any(Number) });
        expect(statSync(dir).mode & 0o7777).toBe(0o700);
        expect(statSync(ready.socket).mode & 0o777).toBe(0o600);
        agent.signal('SIGTERM');
        expect((await agent.exited).code).toBe(0);
      } finally {
        await killIfRunning(agent);
      }
      expect(sim.sessions()).toEqual([]);

      rmSync(dir, { recursive: true });
      mkdirSync(dir, { mode: 0o700 }); // root's, not nobody's
      await refusedBeforeLogin([], /ilo-agent-65534 exists and is not a private directory of yours \(a directory, owner uid 0, mode 0700\)/, asNobody);
      chownSync(dir, NOBODY, NOBODY);
      chmodSync(dir, 0o755);
      await refusedBeforeLogin([], /not a private directory of yours \(a directory, owner uid 65534, mode 0755\)/, asNobody);
      rmSync(dir, { recursive: true });
      symlinkSync(fresh(0o700, NOBODY), dir);
      await refusedBeforeLogin([], /not a private directory of yours \(a symlink/, asNobody);
      // XDG_RUNTIME_DIR must be the user's own
      await refusedBeforeLogin([], /XDG_RUNTIME_DIR .* is not a private directory of yours \(a directory, owner uid 0, mode 1777\)/, { ...asNobody, env: { XDG_RUNTIME_DIR: tmp } });
    });

    it('a client refuses an agent run by another user, before sending it a byte (exit 2)', async () => {
      const socket = join(fresh(0o1777), 'agent.sock');
      const fake = await impostor(socket);
      // The file now looks root's: only the peer's credentials tell who listens.
      chownSync(socket, 0, 0);
      const viaFlag = await runToEnd(['--agent', socket, 'get', '/redfish/v1/Systems/1'], { env });
      expect(viaFlag.stderr).toMatch(/the agent at .* runs as uid 65534, neither you \(uid 0\) nor root: refused, nothing was sent/);
      expect(viaFlag.code).toBe(2);
      const viaEnv = await runToEnd(['set', '/redfish/v1/AccountService/Accounts/1', 'Password=NewRootPw123'], { env: { ...env, ILO_AGENT_SOCKET: socket } });
      expect(viaEnv.code, viaEnv.stderr).toBe(2);
      await until(() => fake.stdout().split('\n').filter(Boolean).length === 3, 'the impostor saw both connections close', 20_000);
      expect(fake.stdout().split('\n').filter(Boolean).slice(1)).toEqual(['{"received":0}', '{"received":0}']);
      await killIfRunning(fake);
    });
  });
});

describe('serve frames', () => {
  let agent: Running | undefined;
  let socket: string;
  beforeAll(async () => {
    socket = join(fresh(0o700), 'agent.sock');
    agent = runCli(['--ca-cert', caFile, 'serve', '--socket', socket], { env });
    await agent.firstLine;
  });
  afterAll(async () => {
    await killIfRunning(agent);
  });
  afterEach(() => expect(agent?.child.exitCode).toBeNull());

  /** A raw connection that collects the answer lines and knows when the agent ended it. */
  function raw(): { socket: Socket; lines: () => unknown[]; ended: Promise<void>; connected: Promise<void> } {
    const s = connect(socket);
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', () => undefined); // EPIPE once the agent drops an oversize frame
    return {
      socket: s,
      lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown),
      ended: new Promise((r) => s.once('close', () => r())),
      connected: new Promise((r) => s.once('connect', () => r())),
    };
  }

  async function send(s: Socket, total: number, chunkSize: number, byte = 0x61): Promise<void> {
    const chunk = Buffer.alloc(chunkSize, byte);
    for (let sent = 0; sent < total && !s.destroyed; sent += chunkSize) {
      const part = total - sent < chunkSize ? chunk.subarray(0, total - sent) : chunk;
      if (s.write(part)) continue;
      await new Promise<void>((r) => {
        const done = () => {
          s.off('drain', done);
          s.off('close', done);
          r();
        };
        s.once('drain', done);
        s.once('close', done);
      });
    }
  }

  it('answers a frame over the cap with an error and closes that connection; other clients are served', async () => {
    const other = raw();
    await other.connected;
    const big = raw();
    await big.connected;
    await send(big.socket, MAX_FRAME + 1, 1024 * 1024);
    await big.ended;
    expect(big.lines()).toEqual([{ id: -1, error: { code: 'E_INPUT', message: expect.stringMatching(/a frame longer than 100663296 bytes/) } }]);
    other.socket.write(`${JSON.stringify({ id: 1, op: 'hello' })}\n`);
    await until(() => other.lines().length === 1, 'the other client is answered', 20_000);
    expect(other.lines()[0]).toMatchObject({ id: 1, hello: { version: 1 } });
    other.socket.destroy();
    const r = await runToEnd(['--agent', socket, 'info'], { env });
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('takes a large valid frame sent in many small chunks', async () => {
    const c = raw();
    await c.connected;
    const head = Buffer.from('{"id":7,"op":"hello","padding":"');
    c.socket.write(head);
    await send(c.socket, 20 * 1024 * 1024, 16 * 1024);
    c.socket.write('"}\n');
    await until(() => c.lines().length === 1, 'the large frame is answered', 60_000);
    expect(c.lines()[0]).toMatchObject({ id: 7, hello: { version: 1 } });
    c.socket.destroy();
  }, 120_000);

  it('answers a client that half-closes after its requests, then ends the connection', async () => {
    const c = raw();
    await c.connected;
    c.socket.end(`${JSON.stringify({ id: 1, op: 'hello' })}\n${JSON.stringify({ id: 2, op: 'request', method: 'GET', path: '/redfish/v1/Systems/1' })}\n`);
    await c.ended;
    const answers = c.lines() as Array<{ id: number; status?: number }>;
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2]);
    expect(answers.find((a) => a.id === 2)?.status).toBe(200);
  }, 30_000);
});
