// The npm package as a user gets it. `npm pack` of the built tree must hold what a user needs (the
// bundled bin, the library API with its types, the CHIF emulator, README, package.json) and nothing
// else (no tests, scripts, sources, single executables or build leftovers); the tarball, installed
// globally into a temporary prefix, must give a working `ilo-agent` and a working library.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { assertBuilt } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

const TIMEOUT = 120_000;

interface PackageJson {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, string>;
}
const PKG = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as PackageJson;

/** Started by path, not imported: guardian/spawn.ts runs it for library users. */
const GUARDIAN_ENTRY = 'dist/guardian/main.js';
const EMULATOR = 'dist/native/libilorestchif.so';

const TMP = mkdtempSync(join(tmpdir(), 'ilo-agent-pack-'));

// ---- running programs --------------------------------------------------------------------------

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const live = new Set<number>();

/** Runs a program to its end (asynchronously: the simulator it may talk to runs in this process). */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? TMP,
      env: options.env ?? process.env,
      detached: process.platform !== 'win32', // its own group: afterAll can kill what it started
      shell: process.platform === 'win32' && command === 'npm',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (pid !== undefined) live.delete(pid);
      resolve({ code, signal, stdout, stderr, ms: Math.round(performance.now() - started) });
    });
  });
}

function describeRun(what: string, r: Ran): string {
  return `${what}: exit ${r.code ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** npm itself, without what an enclosing `npm test` / `npx` put in the environment for its own run. */
function npm(args: string[], cwd = TMP): Promise<Ran> {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_(lifecycle_|package_|command$)/i.test(key)) delete env[key];
    if (/^npm_config_(dry_run|global|prefix|location|local_prefix|json|pack_destination|workspaces?|include_workspace_root)$/i.test(key)) delete env[key];
  }
  const cli = process.env.npm_execpath;
  return cli && /npm-cli\.[cm]?js$/.test(cli) ? run(process.execPath, [cli, ...args], { cwd, env }) : run('npm', args, { cwd, env });
}

/**
 * The environment of a user's shell: node on the PATH, no ILO_* left over from the test run, no
 * NODE_EXTRA_CA_CERTS (trust comes from --ca-cert only), no npm run variables.
 */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(ILO_|npm_)/i.test(key) || key === 'NODE_EXTRA_CA_CERTS' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  env.PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
  return { ...env, ...extra };
}

// ---- what the package holds ---------------------------------------------------------------------

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

let pack: PackResult;
let files: Set<string>;
let tarball: string;

/** Relative specifiers of import/export/import()/require() in a JS or declaration file. */
function relativeImports(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;
  for (const match of source.matchAll(pattern)) found.push(match[2] as string);
  return found;
}

/** What `file`'s specifier names, as a package path; a declaration file's `./x.js` is `./x.d.ts`. */
function target(file: string, specifier: string): string {
  const named = file.endsWith('.d.ts') ? specifier.replace(/\.js$/, '.d.ts') : specifier;
  return posix.normalize(posix.join(posix.dirname(file), named));
}

const readPacked = (path: string): string => readFileSync(join(PROJECT_ROOT, path), 'utf8');

beforeAll(async () => {
  assertBuilt();
  // --ignore-scripts: prepack would rebuild dist/ under the other test files' feet (npm test built it)
  const r = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', TMP], PROJECT_ROOT);
  if (r.code !== 0) throw new Error(describeRun('npm pack', r));
  const json = r.stdout.slice(Math.max(0, r.stdout.search(/^\[/m))); // after any script's output
  const results = JSON.parse(json) as PackResult[];
  expect(results).toHaveLength(1);
  pack = results[0] as PackResult;
  files = new Set(pack.files.map((f) => f.path));
  tarball = join(TMP, pack.filename);
  expect(existsSync(tarball)).toBe(true);
}, TIMEOUT);

let prefix: string;

afterAll(() => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(TMP, { recursive: true, force: true });
});

describe('npm pack', { timeout: TIMEOUT }, () => {
  it('holds what a user needs: the bin, the library API and its types, the CHIF emulator, README', () => {
    const needed = [
      'package.json',
      'README.md',
      ...Object.values(PKG.bin),
      ...Object.values(PKG.exports),
      'dist/bin/ilo-agent.cjs',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/simulator/index.js',
      'dist/simulator/index.d.ts',
      GUARDIAN_ENTRY,
      // the ABI of HPE's library, for in-band code tried against the emulator
      'native-bindings/ilorest_chif.h',
      'native-bindings/PROTOCOL.md',
    ].map((p) => p.replace(/^\.\//, ''));
    // The emulator is built on Linux only (scripts/build-emulator.mjs).
    if (process.platform === 'linux') needed.push(EMULATOR);
    // npm adds a LICENSE by itself whatever `files` says: it must be there when the repository has one.
    for (const name of readdirSync(PROJECT_ROOT)) if (/^(licen[cs]e|copying)(\.|$)/i.test(name)) needed.push(name);
    expect(needed.filter((p) => !files.has(p))).toEqual([]);
  });

  it('holds nothing else: no tests, scripts, sources, single executables or build leftovers', () => {
    const unwanted = [...files].filter(
      (p) =>
        /^(test|tests|scripts|src|node_modules|shared|\.ci)\//.test(p) ||
        /^dist\/sea\//.test(p) || // ≈100 MB executables of `npm run build:sea`
        /^native-bindings\/emulator\//.test(p) || // C sources: the package has the built library
        /^dist\/(cli|agent)\//.test(p) || // tsc's copies of what dist/bin/ilo-agent.cjs bundles
        /^dist\/bin\/[^/]+\.(js|d\.ts)$/.test(p) || // tsc's copies of the bundled entries
        /\.(partial|tsbuildinfo|map|tmp|tgz|log)$/.test(p) ||
        /(^|\/)\./.test(p), // dot files (.gitignore, an emulator build's .libilorestchif.so.<pid>.tmp)
    );
    expect(unwanted).toEqual([]);
    // A generous bound that a single executable (≈100 MB) or koffi's binaries would break at once.
    expect(pack.unpackedSize).toBeLessThan(5 * 1024 * 1024);
  });

  it('every JS file in it is reached from the bin, the exports or the guardian entry (no stale chunks)', () => {
    const entries = [...Object.values(PKG.bin), ...Object.values(PKG.exports), GUARDIAN_ENTRY].map((p) => posix.normalize(p));
    const reached = new Set<string>();
    const missing: string[] = [];
    const visit = (file: string, from: string): void => {
      if (reached.has(file)) return;
      if (!files.has(file)) {
        missing.push(`${file} (imported by ${from})`);
        return;
      }
      reached.add(file);
      for (const specifier of relativeImports(readPacked(file))) visit(target(file, specifier), file);
    };
    for (const entry of entries) visit(entry, 'package.json');
    expect(missing).toEqual([]);
    const unreached = [...files].filter((p) => /\.(c|m)?js$/.test(p) && !reached.has(p));
    expect(unreached, 'JS nothing loads: leftovers of an earlier build? (rebuild from a clean dist/)').toEqual([]);
  });

  it('every declaration file it holds finds the declarations it imports', () => {
    const broken: string[] = [];
    for (const file of [...files].filter((p) => p.endsWith('.d.ts'))) {
      for (const specifier of relativeImports(readPacked(file))) {
        const wanted = target(file, specifier);
        if (!files.has(wanted)) broken.push(`${file} → ${wanted}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('npm install -g of the tarball', { timeout: TIMEOUT }, () => {
  const installed = () => join(prefix, process.platform === 'win32' ? '' : 'lib', 'node_modules', PKG.name);
  const bin = () => (process.platform === 'win32' ? join(prefix, 'ilo-agent.cmd') : join(prefix, 'bin', 'ilo-agent'));
  let sim: Simulator | undefined;

  beforeAll(async () => {
    prefix = join(TMP, 'prefix');
    mkdirSync(prefix);
    // The dependencies are in npm's cache after `npm ci`: no network needed. A machine whose cache
    // lacks them (a cache cleaned since) may fetch what is missing.
    const common = ['install', '--global', '--prefix', prefix, tarball, '--no-audit', '--no-fund'];
    let r = await npm([...common, '--offline']);
    let took = `--offline: ${r.ms} ms`;
    if (r.code !== 0) {
      const offline = r;
      r = await npm([...common, '--prefer-offline']);
      took = `--offline failed in ${offline.ms} ms, then --prefer-offline: ${r.ms} ms`;
      if (r.code !== 0) throw new Error(`${describeRun('npm install --offline', offline)}\n${describeRun('npm install --prefer-offline', r)}`);
    }
    console.info(`npm install -g ${pack.filename} (${took})`);
  }, TIMEOUT);

  afterAll(async () => {
    await sim?.close();
  });

  it('installs the ilo-agent command, which prints the package version', async () => {
    expect(existsSync(bin())).toBe(true);
    const r = await run(bin(), ['--version'], { env: userEnv() });
    expect(r.code, describeRun('ilo-agent --version', r)).toBe(0);
    expect(r.stdout.trim()).toBe(PKG.version);
  });

  it('gets a resource over HTTPS, trusting only --ca-cert, and leaves no session behind', async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0 });
    const caFile = join(TMP, 'simulator-ca.pem');
    writeFileSync(caFile, sim.ca);
    const r = await run(bin(), ['--url', sim.url, '--ca-cert', caFile, 'get', '/redfish/v1/Systems/1'], {
      env: userEnv({ ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' }),
    });
    expect(r.code, describeRun('ilo-agent get', r)).toBe(0);
    const body = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ '@odata.id': '/redfish/v1/Systems/1', Id: '1' });
    expect(String(body['@odata.type'])).toMatch(/^#ComputerSystem\./);
    expect(sim.state().counters.logins).toBe(1);
    expect(sim.sessions()).toEqual([]);
    await sim.close();
    sim = undefined;
  });

  it.skipIf(process.platform !== 'linux')('gets a resource in-band through the packaged CHIF emulator and the installed koffi', async () => {
    const chifSocket = join(TMP, 'chif.sock');
    sim = await startSimulator({ loginFailureDelayMs: 0, chifSocket });
    const r = await run(bin(), ['get', '/redfish/v1/Systems/1'], {
      env: userEnv({ ILO_CHIF_LIB: join(installed(), EMULATOR), ILO_CHIF_EMULATOR_SOCKET: chifSocket }),
    });
    expect(r.code, describeRun('ilo-agent get (in-band)', r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ '@odata.id': '/redfish/v1/Systems/1', Id: '1' });
    // it went through the emulator's exchanges (not HTTPS), and its session was made and deleted
    expect(sim.state().chif.counters.frames.exchange).toBeGreaterThan(0);
    expect(sim.state().counters.logins).toBe(1);
    expect(sim.sessions()).toEqual([]);
    await sim.close();
    sim = undefined;
  });

  it('serves the library API (ilo-agent, ilo-agent/simulator) to code beside it', async () => {
    // A module in <prefix>/lib resolves `ilo-agent` in <prefix>/lib/node_modules, through "exports".
    const probe = join(dirname(installed()), '..', 'probe.mjs');
    writeFileSync(
      probe,
      `import { withSession } from 'ilo-agent';
import { startSimulator } from 'ilo-agent/simulator';
const sim = await startSimulator({ loginFailureDelayMs: 0 });
try {
  const system = await withSession({ url: sim.url, ca: sim.ca, username: 'Administrator', password: 'password', guardian: true },
    (client) => client.get('/redfish/v1/Systems/1'));
  console.log(JSON.stringify({ id: system.Id, logins: sim.state().counters.logins, left: sim.sessions().length }));
} finally {
  await sim.close();
}
`,
    );
    const r = await run(process.execPath, [probe], { env: userEnv() });
    expect(r.code, describeRun('library probe', r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ id: '1', logins: 1, left: 0 });
  });
});
