// Link-bound TLS on a real link: two network namespaces created here, joined by a veth pair,
// "iLO" 16.1.15.1/30 (the simulator, listening on 443) and "host" 16.1.15.2/30 (the CLI, with
// the default vNIC URL https://16.1.15.1). No traffic leaves these namespaces. Needs root: skips
// visibly otherwise, fails when CI=true. The namespaces (and the veth with them) are removed in
// afterAll whatever happened.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

const run = promisify(execFile);
const root = process.platform === 'linux' && process.getuid?.() === 0;
const tag = `${process.pid % 100000}`;
const NS_HOST = `iloag-h${tag}`;
const NS_ILO = `iloag-i${tag}`;
const DEV_HOST = `vh${tag}`;
const DEV_ILO = `vi${tag}`;
const PASSWORD = 'netns-S3cret!';

if (!root && process.env.CI === 'true') {
  it('the vNIC namespace test needs root (required when CI=true)', () => {
    throw new Error('run the suite as root under CI: test/inband/vnic-netns.test.ts creates network namespaces');
  });
}

const ip = (...args: string[]) => run('ip', args);

/** Runs the CLI in the host namespace; never throws (the exit code is the result). */
async function cliInHost(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('ip', ['netns', 'exec', NS_HOST, process.execPath, BIN, ...args], {
      env: { PATH: process.env.PATH, ILO_USERNAME: 'Administrator', ILO_PASSWORD: PASSWORD },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe.skipIf(!root)(root ? 'link-bound TLS on a veth "vNIC" between two namespaces' : 'SKIPPED: link-bound TLS in network namespaces needs root', () => {
  let sim: ChildProcess | undefined;
  let control = '';

  /** The simulator's state, read from the host namespace over the link. */
  async function simState(): Promise<{ sessions: unknown[]; counters: { requests: number } }> {
    const script = `require('https').get({host:'16.1.15.1',port:443,path:'/__sim/state',rejectUnauthorized:false,headers:{'X-Sim-Control':process.env.C}},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>process.stdout.write(b))}).on('error',e=>{console.error(e.message);process.exit(1)})`;
    const { stdout } = await run('ip', ['netns', 'exec', NS_HOST, process.execPath, '-e', script], { env: { PATH: process.env.PATH, C: control } });
    return JSON.parse(stdout) as { sessions: unknown[]; counters: { requests: number } };
  }

  beforeAll(async () => {
    await ip('netns', 'add', NS_HOST);
    await ip('netns', 'add', NS_ILO);
    await ip('link', 'add', DEV_HOST, 'netns', NS_HOST, 'type', 'veth', 'peer', 'name', DEV_ILO, 'netns', NS_ILO);
    await ip('-n', NS_HOST, 'addr', 'add', '16.1.15.2/30', 'dev', DEV_HOST);
    await ip('-n', NS_ILO, 'addr', 'add', '16.1.15.1/30', 'dev', DEV_ILO);
    for (const [ns, dev] of [[NS_HOST, DEV_HOST], [NS_ILO, DEV_ILO]] as const) {
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
    sim = spawn('ip', ['netns', 'exec', NS_ILO, process.execPath, BIN, 'simulate', '--host', '16.1.15.1', '--port', '443', '--users', `Administrator:${PASSWORD}`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const ready = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('the simulator did not start in its namespace')), 30_000);
      sim?.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.split('\n')[0] as string);
        }
      });
      sim?.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
    });
    control = (JSON.parse(ready) as { control: string }).control;
  }, 60_000);

  afterAll(async () => {
    if (sim?.pid !== undefined && sim.exitCode === null) {
      const exited = new Promise((resolve) => sim?.once('exit', resolve));
      sim.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (sim.exitCode === null && sim.signalCode === null) sim.kill('SIGKILL');
    }
    // Deleting a namespace removes its end of the veth, and with it the pair.
    for (const ns of [NS_HOST, NS_ILO]) await ip('netns', 'del', ns).catch(() => undefined);
  }, 30_000);

  it('the default (no --pin, no --ca-cert): bound to 16.1.15.2 on the veth, the session made and deleted', async () => {
    const r = await cliInHost(['--inband', 'vnic', '--log-level', 'debug', 'info']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { connection: { path: string; tls: string }; transport: string };
    expect(info.transport).toBe('https https://16.1.15.1');
    expect(info.connection.path).toBe('vnic');
    expect(info.connection.tls).toBe(`link-bound: connections leave from 16.1.15.2 on ${DEV_HOST} (/30) and iLO's certificate is accepted on that link`);
    expect(r.stderr).toMatch(/vNIC TLS: link-bound/);
    expect((await simState()).sessions).toEqual([]);
  }, 60_000);

  it('the host side not configured (no 16.1.15.2/30): exit 7, nothing sent to 16.1.15.1', async () => {
    const before = (await simState()).counters.requests;
    await ip('-n', NS_HOST, 'addr', 'del', '16.1.15.2/30', 'dev', DEV_HOST);
    // 16.1.15.1 stays reachable through another address of the host namespace (a /24 "routed"
    // network): link-bound still refuses, since no /30 around the vNIC address is the host's.
    await ip('-n', NS_HOST, 'addr', 'add', '16.1.15.5/24', 'dev', DEV_HOST);
    try {
      const r = await cliInHost(['--inband', 'vnic', 'get', '/redfish/v1/Systems/1']);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/host side of the vNIC is not configured/);
      expect(r.stdout).toBe('');
    } finally {
      await ip('-n', NS_HOST, 'addr', 'del', '16.1.15.5/24', 'dev', DEV_HOST);
      await ip('-n', NS_HOST, 'addr', 'add', '16.1.15.2/30', 'dev', DEV_HOST);
    }
    const state = await simState();
    expect(state.sessions).toEqual([]);
    // The control view is not counted: no Redfish request came in.
    expect(state.counters.requests).toBe(before);
  }, 60_000);
});
