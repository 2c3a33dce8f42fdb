// The Windows in-band path under Wine: ilo-agent.exe and the CHIF emulator's Windows build,
// ilorest_chif.dll, side by side in a folder (as in a WinPE image), the DLL found beside the
// executable and reaching the simulator over loopback TCP with the per-run secret
// (native-bindings/PROTOCOL.md). koffi's Windows x64 calls into a mingw-w64 DLL, the guardian
// (the executable itself) after a hard kill, and a password file as PowerShell writes it.
// Needs what test/deploy/windows-wine.test.ts needs (root, the Wine 10 chroot of .ci/setup-wine,
// dist/sea/ilo-agent.exe), plus dist/native/ilorest_chif.dll, which `npm run build` makes when
// the mingw-w64 cross compiler is installed (.ci/setup-wine installs it).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { killLive, runProgram } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const SEA = resolve(PROJECT_ROOT, 'dist/sea');
const DLL = resolve(PROJECT_ROOT, 'dist/native/ilorest_chif.dll');
const WINE_SH = resolve(PROJECT_ROOT, 'test/deploy/wine.sh');
const WINE_ROOT = process.env.ILO_AGENT_WINE_ROOT || '/var/tmp/ilo-agent-wine-trixie';
const IMAGE_FILES = ['ilo-agent.exe', 'koffi-win32-x64.node'];
const CREDENTIALS = { ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' };

/** Why this cannot run here, or undefined. */
function unavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `Wine runs on Linux x64 here, not ${process.platform}-${process.arch}`;
  if (!IMAGE_FILES.every((f) => existsSync(join(SEA, f)))) return `${join(SEA, 'ilo-agent.exe')} is missing: run "npm run build:sea" (npm test does)`;
  if (!existsSync(DLL)) return `${DLL} is missing: install the mingw-w64 cross compiler (apt-get install gcc-mingw-w64-x86-64; .ci/setup-wine does) and run "npm run build"`;
  if (process.getuid?.() !== 0) return 'the Wine chroot needs root';
  if (!existsSync(join(WINE_ROOT, 'usr/lib/wine/wine64'))) return `no Wine that runs Node 24 at ${WINE_ROOT}: run .ci/setup-wine (Debian 13's Wine in a chroot; .ci/run does)`;
  return undefined;
}

const reason = unavailable();
if (reason && process.env.CI === 'true') {
  it('runs the Windows in-band path under Wine (required when CI=true)', () => {
    throw new Error(reason);
  });
}

describe.skipIf(reason !== undefined)(`in-band on Windows under Wine: ilo-agent.exe beside ilorest_chif.dll${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
  let image: string;
  let work: string;
  let sim: Simulator | undefined;

  beforeAll(() => {
    // The image: the executable, koffi's module and the DLL in one folder, nothing else.
    image = mkdtempSync(join(tmpdir(), 'ilo-agent-winpe-'));
    for (const f of IMAGE_FILES) copyFileSync(join(SEA, f), join(image, f));
    copyFileSync(DLL, join(image, 'ilorest_chif.dll'));
    work = mkdtempSync(join(tmpdir(), 'ilo-agent-wine-inband-'));
    mkdirSync(join(work, 'home'));
  });
  afterEach(async () => {
    killLive();
    // Every case ends with the simulator's table empty.
    const left = sim?.sessions() ?? [];
    await sim?.close();
    sim = undefined;
    expect(left).toEqual([]);
  });
  afterAll(() => {
    rmSync(image, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  async function simulator(options: SimulatorOptions = {}) {
    sim = await startSimulator({ loginFailureDelayMs: 0, chifTcp: {}, ...options });
    const tcp = sim.chifTcp as { address: string; secret: string };
    return { sim, env: { ILO_CHIF_EMULATOR_TCP: tcp.address, ILO_CHIF_EMULATOR_SECRET: tcp.secret } };
  }

  const read = (name: string) => (existsSync(join(work, name)) ? readFileSync(join(work, name), 'utf8') : '');

  /** Starts Wine in the chroot with the image as its /sea; see wine.sh. */
  function startWine(args: string[], env: NodeJS.ProcessEnv) {
    for (const name of ['stdout', 'stderr', 'status', 'kill', 'taskkill.out', 'serve.out', 'serve.err']) rmSync(join(work, name), { force: true });
    return runProgram('unshare', ['-m', '--propagation', 'private', 'sh', WINE_SH, WINE_ROOT, image, work, ...args], { env });
  }

  async function wine(args: string[], env: NodeJS.ProcessEnv) {
    const r = startWine(args, env);
    const end = await r.exited;
    expect(end.code, r.stderr()).toBe(0);
    return { code: Number(read('status')), stdout: read('stdout'), stderr: read('stderr') };
  }

  it('a GET: the DLL is found beside the executable and answers over TCP; exit 0, no session left', { timeout: 180_000 }, async () => {
    const { sim, env } = await simulator();
    const r = await wine(['--log-level', 'info', 'get', '/redfish/v1/Systems/1'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ '@odata.id': '/redfish/v1/Systems/1', Id: '1' });
    const path = r.stderr.split('\n').find((line) => line.includes('"in-band path: CHIF'));
    expect((JSON.parse(path ?? '{}') as { library?: string }).library, r.stderr).toBe('Z:\\sea\\ilorest_chif.dll');
    // It went in-band: through the DLL's frames, not HTTPS.
    const { frames, commands } = sim.state().chif.counters;
    expect(frames.create).toBeGreaterThan(0);
    expect(commands.restImmediate + commands.restBlob).toBeGreaterThan(0);
  });

  it('a security state that requires credentials: exit 8 without them, exit 0 with -u; and a wrong secret is access denied (exit 7)', { timeout: 180_000 }, async () => {
    const { sim, env } = await simulator({ securityState: 'highsecurity' });
    const bare = await wine(['get', '/redfish/v1'], env);
    expect(bare.code, bare.stderr).toBe(8);
    expect(bare.stderr).toMatch(/requires credentials/);
    const withUser = await wine(['-u', 'Administrator', 'get', '/redfish/v1/Systems/1'], { ...env, ILO_PASSWORD: 'password' });
    expect(withUser.code, withUser.stderr).toBe(0);
    expect(JSON.parse(withUser.stdout)).toMatchObject({ Id: '1' });
    expect(sim.state().chif.counters.frames.verify).toBeGreaterThan(0);
    // The DLL answers Windows' ERROR_ACCESS_DENIED (5) for a refused secret, which the agent
    // reports as in-band access not permitted.
    const refused = await wine(['get', '/redfish/v1'], { ...env, ILO_CHIF_EMULATOR_SECRET: 'not-the-secret' });
    expect(refused.code, refused.stderr).toBe(7);
    expect(refused.stderr).toMatch(/not permitted/);
  });

  it('a password file written by PowerShell (UTF-16 LE with its mark, CRLF)', { timeout: 180_000 }, async () => {
    const { env } = await simulator({ securityState: 'highsecurity' });
    writeFileSync(join(work, 'password.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('password\r\n', 'utf16le')]));
    const r = await wine(['-u', 'Administrator', '--password-file', 'Z:\\work\\password.txt', 'get', '/redfish/v1/Systems/1'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ Id: '1' });
  });

  it('a large request and a large answer go through request and response blobs', { timeout: 180_000 }, async () => {
    const { sim, env } = await simulator();
    const tag = 'W'.repeat(9000); // more than one write fragment (3400 bytes) and one read (3904)
    writeFileSync(join(work, 'body.json'), JSON.stringify({ AssetTag: tag }));
    const patch = await wine(['raw', 'patch', '/redfish/v1/Systems/1', '--data-file', 'Z:\\work\\body.json'], { ...env, ...CREDENTIALS });
    expect(patch.code, patch.stderr).toBe(0);
    const afterPatch = sim.state().chif.counters.commands;
    expect(afterPatch.restBlob).toBeGreaterThan(0);
    expect(afterPatch.write).toBeGreaterThanOrEqual(3);
    const get = await wine(['get', '/redfish/v1/Systems/1'], { ...env, ...CREDENTIALS });
    expect(get.code, get.stderr).toBe(0);
    expect((JSON.parse(get.stdout) as { AssetTag?: string }).AssetTag).toBe(tag);
    expect(sim.state().chif.counters.commands.read - afterPatch.read).toBeGreaterThanOrEqual(3);
    expect(sim.state().chif.blobs.keys).toBe(0);
  });

  it('serve in-band on a named pipe: three clients started together, one session, deleted when serve stops on Ctrl+C', { timeout: 180_000 }, async () => {
    const { sim, env } = await simulator();
    const script = [
      'pipe=$1',
      '"$WINE" "$SEA/ilo-agent.exe" serve --socket "$pipe" >"$WORK/serve.out" 2>"$WORK/serve.err" &',
      'serve=$!',
      'i=0; while [ ! -s "$WORK/serve.out" ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done',
      'clients=""',
      'for n in 1 2 3; do ("$WINE" "$SEA/ilo-agent.exe" --agent "$pipe" get /redfish/v1/Systems/1 >"$WORK/client$n.out" 2>"$WORK/client$n.err"; echo $? >"$WORK/client$n.status") & clients="$clients $!"; done',
      'wait $clients',
      'kill -INT $serve; wait $serve; echo $? >"$WORK/status"',
    ].join('\n');
    const pipe = `\\\\.\\pipe\\ilo-agent-inband-${process.pid}`;
    const r = startWine([pipe], { ...env, ...CREDENTIALS, WINE_SCRIPT: script });
    expect((await r.exited).code, r.stderr()).toBe(0);
    expect(JSON.parse(read('serve.out'))).toMatchObject({ socket: pipe });
    for (const n of [1, 2, 3]) {
      expect(read(`client${n}.status`).trim(), read(`client${n}.err`)).toBe('0');
      expect(JSON.parse(read(`client${n}.out`))).toMatchObject({ '@odata.id': '/redfish/v1/Systems/1' });
    }
    expect(read('status').trim(), read('serve.err')).toBe('0');
    expect(sim.state().counters.logins).toBe(1);
    expect(sim.state().chif.counters.frames.exchange).toBeGreaterThan(0);
  });

  it('Ctrl+C while an in-band request hangs (Wine turns SIGINT into CTRL_C_EVENT): exit 130, the session deleted by the agent', { timeout: 180_000 }, async () => {
    const { sim, env } = await simulator({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }] });
    const script = [
      '"$WINE" "$SEA/ilo-agent.exe" --log-level debug get /redfish/v1/Systems/1 >"$WORK/stdout" 2>"$WORK/stderr" &',
      'agent=$!',
      'i=0; while [ ! -e "$WORK/kill" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done',
      'kill -INT $agent',
      'wait $agent; echo $? >"$WORK/status"',
    ].join('\n');
    const r = startWine([], { ...env, ...CREDENTIALS, WINE_SCRIPT: script });
    await until(() => sim.faults.held === 1 && sim.sessions().length === 1 && read('stderr').includes('guardian watching'), 'the GET is held and the guardian watches', 120_000);
    writeFileSync(join(work, 'kill'), 'INT');
    expect((await r.exited).code, r.stderr()).toBe(0);
    expect(read('status').trim(), read('stderr')).toBe('130');
    expect(read('stderr')).toMatch(/SIGINT/);
    expect(read('stderr')).toContain('"session deleted"');
    expect(read('stderr')).not.toContain('deleted the session the agent left');
    expect(sim.sessions()).toEqual([]);
    expect(sim.state().counters.logins).toBe(1);
  });

  it('the agent killed hard (taskkill /f) while a request hangs: its guardian deletes the session', { timeout: 180_000 }, async () => {
    const { sim, env } = await simulator({ faults: [{ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' }] });
    // One Wine for both: the agent in the background; once the test names its Windows pid in
    // $WORK/kill, taskkill /f ends it (TerminateProcess: nothing of the agent runs after it).
    const script = [
      '"$WINE" "$SEA/ilo-agent.exe" --log-level debug get /redfish/v1/Systems/1 >"$WORK/stdout" 2>"$WORK/stderr" &',
      'agent=$!',
      'i=0; while [ ! -s "$WORK/kill" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done',
      '"$WINE" taskkill /f /pid "$(cat "$WORK/kill")" >"$WORK/taskkill.out" 2>&1',
      'wait $agent; echo $? >"$WORK/status"',
    ].join('\n');
    const r = startWine([], { ...env, ...CREDENTIALS, WINE_SCRIPT: script });
    await until(() => sim.faults.held === 1 && sim.sessions().length === 1 && read('stderr').includes('guardian watching'), 'the GET is held and the guardian watches', 120_000);
    // The guardian names the agent it watches (its Windows pid).
    const pid = (JSON.parse(read('stderr').split('\n').find((line) => line.includes('guardian watching')) ?? '{}') as { agentPid?: number }).agentPid;
    expect(pid, read('stderr')).toBeGreaterThan(0);
    writeFileSync(join(work, 'kill'), String(pid));
    await until(() => read('status') !== '', 'the agent is gone', 60_000);
    expect(read('taskkill.out')).toMatch(new RegExp(`${pid}`));
    expect(read('stdout')).toBe('');
    await until(() => sim.sessions().length === 0, 'the guardian deleted the session', 60_000);
    expect(sim.state().counters.logins).toBe(1);
    expect((await r.exited).code, r.stderr()).toBe(0);
    // The guardian logs once the iLO has answered its DELETE: after the table emptied, and the
    // script waited for the agent only, so the line may come a moment later (seen under CI load).
    await until(() => read('stderr').includes('deleted the session the agent left'), 'the guardian says it deleted the session', 60_000);
  });
});
