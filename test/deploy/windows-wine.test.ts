// A smoke test of the Windows single executable (dist/sea/ilo-agent.exe) under Wine: --help,
// --version, an out-of-band GET against the simulator on loopback, and an in-band attempt, which
// loads koffi's Windows module and then reports HPE's missing ilorest_chif.dll with its exit code;
// `serve` on a named pipe and a client that checks who serves it (under Wine every process is the
// same user: the refusal of another user's agent is tested on Linux, test/agent/peer.test.ts).
// In-band requests through the emulator's Windows build: test/deploy/windows-inband.test.ts.
// Wine must run Node 24, which Debian 12's Wine 8.0 cannot (see .ci/setup-wine): the chroot made
// by .ci/setup-wine is used, at $ILO_AGENT_WINE_ROOT or its default place.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { killLive, runProgram } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

const SEA = resolve(PROJECT_ROOT, 'dist/sea');
const EXE = join(SEA, 'ilo-agent.exe');
const WINE_SH = resolve(PROJECT_ROOT, 'test/deploy/wine.sh');
const WINE_ROOT = process.env.ILO_AGENT_WINE_ROOT || '/var/tmp/ilo-agent-wine-trixie';
const VERSION = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Why Wine cannot be used here, or undefined. */
function unavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `Wine runs on Linux x64 here, not ${process.platform}-${process.arch}`;
  if (!existsSync(EXE) || !existsSync(join(SEA, 'koffi-win32-x64.node'))) return `${EXE} is missing: run "npm run build:sea" (npm test does)`;
  if (process.getuid?.() !== 0) return 'the Wine chroot needs root';
  if (!existsSync(join(WINE_ROOT, 'usr/lib/wine/wine64'))) return `no Wine that runs Node 24 at ${WINE_ROOT}: run .ci/setup-wine (Debian 13's Wine in a chroot; .ci/run does)`;
  return undefined;
}

const reason = unavailable();
if (reason && process.env.CI === 'true') {
  it('runs the Windows executable under Wine (required when CI=true)', () => {
    throw new Error(reason);
  });
}

describe.skipIf(reason !== undefined)(`the Windows single executable under Wine${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
  let work: string;
  let sim: Simulator | undefined;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ilo-agent-wine-'));
  });
  afterEach(async () => {
    killLive();
    await sim?.close();
    sim = undefined;
  });
  // Wine's server outlives the program by a few seconds (its own timeout) and holds nothing of ours.
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  async function wine(args: string[], env: NodeJS.ProcessEnv = {}) {
    for (const name of ['stdout', 'stderr', 'status', 'serve.out', 'serve.err', 'serve.status']) rmSync(join(work, name), { force: true });
    const r = runProgram('unshare', ['-m', '--propagation', 'private', 'sh', WINE_SH, WINE_ROOT, SEA, work, ...args], { env });
    const end = await r.exited;
    expect(end.code, r.stderr()).toBe(0);
    const read = (name: string) => (existsSync(join(work, name)) ? readFileSync(join(work, name), 'utf8') : '');
    return { code: Number(read('status')), stdout: read('stdout'), stderr: read('stderr'), read };
  }

  it('--version and --help', { timeout: 120_000 }, async () => {
    mkdirSync(join(work, 'home'), { recursive: true });
    const version = await wine(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const help = await wine(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ilo-agent');
    expect(help.stdout).toContain('--url <url>');
  });

  it('out-of-band: a GET against the simulator on loopback, and the session is deleted', { timeout: 120_000 }, async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0 });
    writeFileSync(join(work, 'ca.pem'), sim.ca);
    const r = await wine(['--url', sim.url, '--ca-cert', 'Z:\\work\\ca.pem', 'get', '/redfish/v1/Systems/1'], {
      ILO_USERNAME: 'Administrator',
      ILO_PASSWORD: 'password',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ '@odata.id': '/redfish/v1/Systems/1', Id: '1' });
    expect(sim.sessions()).toEqual([]);
    expect(sim.state().counters.logins).toBe(1);
  });

  it('a refused login: exit code 3 and a message without the password', { timeout: 120_000 }, async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0 });
    writeFileSync(join(work, 'ca.pem'), sim.ca);
    const r = await wine(['--url', sim.url, '--ca-cert', 'Z:\\work\\ca.pem', 'get', '/redfish/v1'], { ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'not-the-password' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/ilo-agent: .*(login|credentials|password)/i);
    expect(r.stderr).not.toContain('not-the-password');
    expect(sim.sessions()).toEqual([]);
  });

  it('in-band: koffi\'s Windows module loads, and the missing ilorest_chif.dll is reported with exit 7', { timeout: 120_000 }, async () => {
    const r = await wine(['get', '/redfish/v1']);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain('ilorest_chif.dll');
    expect(r.stderr).not.toContain("koffi's native module could not be loaded");
  });

  it('serve on a named pipe, and a client through it: the client checks who serves the pipe (our user) before it sends a byte', { timeout: 180_000 }, async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0 });
    writeFileSync(join(work, 'ca.pem'), sim.ca);
    // One Wine (one wineserver) for both: serve in the background, the client once it is ready,
    // then Ctrl+C to serve (Wine turns SIGINT into CTRL_C_EVENT), which deletes its session.
    const script = [
      'pipe=$1 url=$2',
      '"$WINE" "$SEA/ilo-agent.exe" --url "$url" --ca-cert "Z:\\work\\ca.pem" serve --socket "$pipe" >"$WORK/serve.out" 2>"$WORK/serve.err" &',
      'serve=$!',
      'i=0; while [ ! -s "$WORK/serve.out" ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done',
      '"$WINE" "$SEA/ilo-agent.exe" --agent "$pipe" --log-level debug get /redfish/v1/Systems/1 >"$WORK/stdout" 2>"$WORK/stderr"; echo $? >"$WORK/status"',
      'kill -INT $serve; wait $serve; echo $? >"$WORK/serve.status"',
    ].join('\n');
    const pipe = `\\\\.\\pipe\\ilo-agent-wine-${process.pid}`;
    const r = await wine([pipe, sim.url], { ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password', WINE_SCRIPT: script });
    expect(JSON.parse(r.read('serve.out'))).toMatchObject({ socket: pipe });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ '@odata.id': '/redfish/v1/Systems/1', Id: '1' });
    // The check ran, and found the agent: the pid the pipe names is serve's own (its log lines carry it).
    const servePid = (JSON.parse(r.read('serve.err').split('\n').find((line) => line.includes('"agent listening"')) ?? '{}') as { pid?: number }).pid;
    expect(servePid, r.read('serve.err')).toBeGreaterThan(0);
    const check = r.stderr.split('\n').find((line) => line.includes('served by process')) ?? '';
    expect(check, r.stderr).toContain(`served by process ${servePid}, which runs as our user`);
    expect(JSON.parse(check)).toMatchObject({ serverPid: servePid, serverUser: expect.stringMatching(/^S-1-5-21-/) });
    expect(r.read('serve.status').trim(), r.read('serve.err')).toBe('0');
    expect(sim.sessions()).toEqual([]);
    expect(sim.state().counters.logins).toBe(1);
  });
});
