// The WinPE scripts run as written under Wine's cmd.exe, with ilo-agent.exe, koffi's module,
// ilorest_chif.dll and the scripts in one folder (the image's X:\ilo-agent\, here Z:\sea\):
// README's ```bat recipe (read from README.md, so the two cannot drift) and
// docs/examples/pe/ilo-apply.cmd, over HTTPS and in-band through the DLL (loopback TCP, as in
// test/deploy/windows-inband.test.ts). Each asserts the exit code, what changed on the simulator
// and an empty session table. Needs what windows-inband.test.ts needs (root, the Wine 10 chroot
// of .ci/setup-wine, dist/sea/ilo-agent.exe, dist/native/ilorest_chif.dll).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { killLive, runProgram } from '../helpers/cli.js';
import { client } from '../helpers/https-client.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

const SEA = resolve(PROJECT_ROOT, 'dist/sea');
const DLL = resolve(PROJECT_ROOT, 'dist/native/ilorest_chif.dll');
const APPLY_CMD = resolve(PROJECT_ROOT, 'docs/examples/pe/ilo-apply.cmd');
const WINE_SH = resolve(PROJECT_ROOT, 'test/deploy/wine.sh');
const WINE_ROOT = process.env.ILO_AGENT_WINE_ROOT || '/var/tmp/ilo-agent-wine-trixie';
const IMAGE_FILES = ['ilo-agent.exe', 'koffi-win32-x64.node'];
const SYSTEM = '/redfish/v1/Systems/1';
const BIOS_SETTINGS = '/redfish/v1/systems/1/bios/settings';
const BASIC: [string, string] = ['Administrator', 'password'];

// README's WinPE recipe: the one ```bat block of its Recipes section.
const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
const start = README.indexOf('## Recipes');
const RECIPES = README.slice(start, README.indexOf('\n## ', start + 1));
const BAT = [...RECIPES.matchAll(/```bat\n([\s\S]*?)```/g)].map((m) => m[1] as string);

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
  it('runs the WinPE cmd scripts under Wine (required when CI=true)', () => {
    throw new Error(reason);
  });
}

/** A batch file as Windows keeps it: CRLF line ends. */
const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');
/** A value for the script that runs Wine (sh, single-quoted). */
const shQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

describe('README has one WinPE recipe', () => {
  it('a ```bat block in its Recipes section', () => {
    expect(BAT).toHaveLength(1);
    expect(BAT[0]).toMatch(/--value PowerState/);
  });
});

describe.skipIf(reason !== undefined)(`WinPE cmd scripts under Wine's cmd.exe, beside ilo-agent.exe${reason ? ` (SKIPPED: ${reason})` : ''}`, () => {
  let image: string;
  let work: string;
  let sim: Simulator | undefined;

  beforeAll(() => {
    // The image's folder: the executable, koffi's module, the DLL and the scripts, nothing else.
    image = mkdtempSync(join(tmpdir(), 'ilo-agent-winpe-cmd-'));
    for (const f of IMAGE_FILES) copyFileSync(join(SEA, f), join(image, f));
    copyFileSync(DLL, join(image, 'ilorest_chif.dll'));
    writeFileSync(join(image, 'recipe.cmd'), crlf(BAT[0] ?? ''));
    writeFileSync(join(image, 'ilo-apply.cmd'), crlf(readFileSync(APPLY_CMD, 'utf8')));
    work = mkdtempSync(join(tmpdir(), 'ilo-agent-wine-cmd-'));
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
    writeFileSync(join(work, 'ca.pem'), sim.ca);
    const tcp = sim.chifTcp as { address: string; secret: string };
    return { sim, https: client(sim), env: { ILO_CHIF_EMULATOR_TCP: tcp.address, ILO_CHIF_EMULATOR_SECRET: tcp.secret } };
  }

  const read = (name: string) => (existsSync(join(work, name)) ? readFileSync(join(work, name), 'utf8') : '');

  /**
   * `cmd /c SCRIPT ARGS` in the image's folder (its working directory, as at a WinPE console in
   * X:\ilo-agent\), with `vars` in the environment (no secrets: the password comes through
   * wine.sh's ILO_PASSWORD).
   */
  async function cmd(script: string, args: string[], vars: Record<string, string>, env: NodeJS.ProcessEnv) {
    for (const name of ['stdout', 'stderr', 'status']) rmSync(join(work, name), { force: true });
    const exports = Object.entries(vars).map(([k, v]) => `export ${k}=${shQuote(v)}`);
    const line = ['cd /sea', ...exports, `"$WINE" cmd /c ${[script, ...args].map(shQuote).join(' ')} >"$WORK/stdout" 2>"$WORK/stderr"; echo $? >"$WORK/status"`].join('\n');
    const r = runProgram('unshare', ['-m', '--propagation', 'private', 'sh', WINE_SH, WINE_ROOT, image, work], { env: { ...env, WINE_SCRIPT: line } });
    expect((await r.exited).code, r.stderr()).toBe(0);
    return { code: Number(read('status')), stdout: read('stdout'), stderr: read('stderr') };
  }

  const HTTPS_VARS = (s: Simulator) => ({ ILO_URL: s.url, ILO_CA_CERT: 'Z:\\work\\ca.pem' });
  const CREDENTIALS = { ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' };

  async function power(https: ReturnType<typeof client>, reset?: string): Promise<string> {
    if (reset) expect((await https.call('POST', `${SYSTEM}/Actions/ComputerSystem.Reset`, { basic: BASIC, body: { ResetType: reset } })).status).toBeLessThan(300);
    return ((await https.call('GET', SYSTEM, { basic: BASIC })).json as { PowerState: string }).PowerState;
  }

  it('README recipe over HTTPS: a server that is off is powered on; one that is on is left alone', { timeout: 300_000 }, async () => {
    const { sim, https } = await simulator();
    expect(await power(https, 'ForceOff')).toBe('Off');
    // One ilo-agent run, one login: the GET and the reset when off, the GET alone when on.
    const logins = () => sim.state().counters.logins;
    const off = await cmd('recipe.cmd', [], HTTPS_VARS(sim), CREDENTIALS);
    expect(off.code, off.stderr + off.stdout).toBe(0);
    expect(await power(https)).toBe('On');
    expect(logins()).toBe(2);
    const on = await cmd('recipe.cmd', [], HTTPS_VARS(sim), CREDENTIALS);
    expect(on.code, on.stderr + on.stdout).toBe(0);
    expect(await power(https)).toBe('On');
    expect(logins()).toBe(3);
    https.close();
  });

  it('README recipe: a GET that fails ends it with ilo-agent\'s exit code (3, a refused login), nothing posted', { timeout: 300_000 }, async () => {
    const { sim, https } = await simulator();
    expect(await power(https, 'ForceOff')).toBe('Off');
    const r = await cmd('recipe.cmd', [], HTTPS_VARS(sim), { ...CREDENTIALS, ILO_PASSWORD: 'wrong' });
    expect(r.code, r.stderr + r.stdout).toBe(3);
    expect(r.stdout).not.toContain('ComputerSystem.Reset');
    expect(await power(https)).toBe('Off');
    https.close();
  });

  it('README recipe in-band through ilorest_chif.dll: the server powered on', { timeout: 300_000 }, async () => {
    const { sim, https, env } = await simulator();
    expect(await power(https, 'ForceOff')).toBe('Off');
    const r = await cmd('recipe.cmd', [], {}, env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(await power(https)).toBe('On');
    expect(sim.state().chif.counters.frames.create).toBeGreaterThan(0);
    https.close();
  });

  /** An apply file in the work folder (Z:\\work\\NAME under Wine). */
  function plan(name: string, ...resources: { path: string; properties: object }[]) {
    writeFileSync(join(work, name), JSON.stringify({ resources }));
    return `Z:\\work\\${name}`;
  }
  const ASSET = { path: SYSTEM, properties: { AssetTag: 'rack-42' } };
  const WORKLOAD = { path: '/redfish/v1/systems/1/bios', properties: { Attributes: { WorkloadProfile: 'Virtualization-MaxPerformance' } } };
  const assetTag = async (https: ReturnType<typeof client>) => ((await https.call('GET', SYSTEM, { basic: BASIC })).json as { AssetTag: string }).AssetTag;
  const staged = async (https: ReturnType<typeof client>) =>
    ((await https.call('GET', BIOS_SETTINGS, { basic: BASIC })).json as { Attributes: { WorkloadProfile: string } }).Attributes.WorkloadProfile;

  it('ilo-apply.cmd over HTTPS (ILO_URL): applied with nothing waiting (exit 0), then already matching (exit 0)', { timeout: 300_000 }, async () => {
    const { sim, https } = await simulator();
    const file = plan('asset.json', ASSET);
    const first = await cmd('ilo-apply.cmd', [file], HTTPS_VARS(sim), CREDENTIALS);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stderr).toContain(`ilo-apply: applied ${file}; nothing waits for a reboot`);
    expect(await assetTag(https)).toBe('rack-42');
    const again = await cmd('ilo-apply.cmd', [file], HTTPS_VARS(sim), CREDENTIALS);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(again.stderr).toContain(`ilo-apply: the iLO already matches ${file}`);
    https.close();
  });

  it('ilo-apply.cmd over HTTPS (ILO_OPTS with --url): a staged BIOS value on a server that is off: powered on, waited for, still staged (exit 14)', { timeout: 300_000 }, async () => {
    const { sim, https } = await simulator();
    expect(await power(https, 'ForceOff')).toBe('Off');
    const file = plan('desired.json', ASSET, WORKLOAD);
    const vars = { ILO_OPTS: `--url ${sim.url} --ca-cert Z:\\work\\ca.pem -u Administrator`, ILO_RESET_SEEN_WITHIN: '5', ILO_POST_TIMEOUT: '60s' };
    const r = await cmd('ilo-apply.cmd', [file], vars, { ILO_PASSWORD: 'password' });
    // The library's simulator runs POST in no time (postSeconds 0): the script may or may not see
    // PostState move; the staged value is still staged after this On (docs/winpe-linuxpe.md).
    expect(r.code, r.stderr + r.stdout).toBe(14);
    expect(r.stderr).toContain('ilo-apply: a reboot is due (power Off): ComputerSystem.Reset On');
    expect(r.stderr).toContain('ilo-apply: waiting up to 60s for PowerState=On and PostState=FinishedPost');
    expect(r.stderr).toContain('ilo-apply: POST finished, but values are still staged: this restart did not apply them');
    expect(await power(https)).toBe('On');
    expect(await assetTag(https)).toBe('rack-42');
    expect(await staged(https)).toBe('Virtualization-MaxPerformance');
    https.close();
  });

  it('ilo-apply.cmd with an iLO that does not answer: apply\'s exit code (5) and the hint to run doctor', { timeout: 300_000 }, async () => {
    const { sim } = await simulator();
    const r = await cmd('ilo-apply.cmd', [plan('asset.json', ASSET)], { ...HTTPS_VARS(sim), ILO_URL: 'https://127.0.0.1:9' }, CREDENTIALS);
    expect(r.code, r.stderr + r.stdout).toBe(5);
    expect(r.stderr).toContain('ilo-apply: apply failed (exit 5); ilo-agent doctor checks the way to the iLO');
    expect(sim.state().counters.requests).toBe(0);
  });

  it('ilo-apply.cmd when the reset is refused: raw post\'s exit code (6), no waiting', { timeout: 300_000 }, async () => {
    const { sim, https } = await simulator({ faults: [{ type: 'status404', method: 'POST', path: `${SYSTEM}/Actions/ComputerSystem.Reset` }] });
    const r = await cmd('ilo-apply.cmd', [plan('desired.json', ASSET, WORKLOAD)], HTTPS_VARS(sim), CREDENTIALS);
    expect(r.code, r.stderr + r.stdout).toBe(6);
    expect(r.stderr).toContain('ilo-apply: a reboot is due (power On): ComputerSystem.Reset ForceRestart');
    expect(r.stderr).not.toContain('ilo-apply: waiting');
    https.close();
  });

  it('ilo-apply.cmd in-band through ilorest_chif.dll: the AssetTag applied (exit 0); a staged BIOS value restarts this server (ForceRestart, exit 14)', { timeout: 300_000 }, async () => {
    const { sim, https, env } = await simulator();
    const asset = await cmd('ilo-apply.cmd', [plan('asset.json', ASSET)], {}, env);
    expect(asset.code, asset.stderr + asset.stdout).toBe(0);
    expect(await assetTag(https)).toBe('rack-42');
    // Both went through the DLL's frames: every ilo-agent run of the second opens its own channel.
    const frames = () => sim.state().chif.counters.frames.create;
    const before = frames();
    expect(before).toBeGreaterThan(0);
    const desired = await cmd('ilo-apply.cmd', [plan('desired.json', ASSET, WORKLOAD)], {}, env);
    expect(desired.code, desired.stderr + desired.stdout).toBe(14);
    expect(desired.stderr).toContain('ilo-apply: a reboot is due (power On): ComputerSystem.Reset ForceRestart');
    expect(desired.stderr).toContain('ilo-apply: in-band: this system restarts now; run ilo-apply.cmd again after the boot');
    expect(frames() - before).toBeGreaterThanOrEqual(4); // apply, two GETs, the reset
    expect(await staged(https)).toBe('Virtualization-MaxPerformance');
    https.close();
  });
});
