// Builds the single executables with Node's SEA mechanism, on the current LTS line's official
// binaries from the npm registry (see lib/official-node.mjs):
//   dist/sea/ilo-agent       Linux x64, with koffi-linux-x64.node beside it
//   dist/sea/ilo-agent.exe   Windows x64, with koffi-win32-x64.node beside it
// The script is dist/sea/ilo-agent.cjs (scripts/bundle.mjs). koffi's native module ships as a
// file beside the executable: a native module can only be loaded from a file, and writing one to
// a temporary folder at run time would break read-only media and "nothing is written".
// Run by `npm run build:sea`; skips the work when every output is newer than its inputs.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CACHE, LTS_VERSION, ROOT, officialNode } from './lib/official-node.mjs';

const say = (line) => process.stderr.write(`build-sea: ${line}\n`);
const OUT = join(ROOT, 'dist', 'sea');
const SCRIPT = join(OUT, 'ilo-agent.cjs');
const WORK = join(CACHE, 'sea-build');
// Node's documented sentinel, the same in every release with SEA.
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const TARGETS = [
  { target: 'linux-x64', exe: 'ilo-agent', koffi: 'linux_x64', native: 'koffi-linux-x64.node', codeCache: process.platform === 'linux' && process.arch === 'x64' },
  { target: 'win-x64', exe: 'ilo-agent.exe', koffi: 'win32_x64', native: 'koffi-win32-x64.node', codeCache: false },
];

if (!existsSync(SCRIPT)) {
  say(`${relative(ROOT, SCRIPT)} is missing: run npm run build first`);
  process.exit(1);
}

const run = (command, args) => {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr}`);
  return result;
};

/**
 * Drops the Authenticode signature of a PE file (what `signtool remove /s` does): injecting the
 * script invalidates it, and a broken signature is worse than none. The certificate table is the
 * fifth data directory and sits at the end of the file.
 */
function removePeSignature(path) {
  const fd = openSync(path, 'r+');
  let table;
  try {
    const header = Buffer.alloc(4096);
    readSync(fd, header, 0, header.length, 0);
    const pe = header.readUInt32LE(0x3c);
    if (header.readUInt32LE(pe) !== 0x00004550) throw new Error(`${path} is not a PE file`);
    const optional = pe + 24;
    if (header.readUInt16LE(optional) !== 0x20b) throw new Error(`${path} is not PE32+`);
    const securityEntry = optional + 112 + 4 * 8;
    table = { offset: header.readUInt32LE(securityEntry), size: header.readUInt32LE(securityEntry + 4) };
    if (table.offset !== 0 && table.size !== 0) writeSync(fd, Buffer.alloc(8), 0, 8, securityEntry);
  } finally {
    closeSync(fd);
  }
  if (table.offset !== 0 && table.size !== 0 && table.offset + table.size >= statSync(path).size) truncateSync(path, table.offset);
}

function upToDate(outputs, inputs) {
  if (!outputs.every((f) => existsSync(f))) return false;
  const oldestOutput = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return inputs.every((f) => statSync(f).mtimeMs <= oldestOutput);
}

mkdirSync(WORK, { recursive: true });
const hostNode = officialNode(process.platform === 'win32' ? 'win-x64' : 'linux-x64', say);
const postject = join(ROOT, 'node_modules', 'postject', 'dist', 'cli.js');
const rows = [];
for (const t of TARGETS) {
  const exe = join(OUT, t.exe);
  const native = join(OUT, t.native);
  const koffi = join(ROOT, 'node_modules', 'koffi', 'build', 'koffi', t.koffi, 'koffi.node');
  const base = officialNode(t.target, say);
  if (!upToDate([exe, native], [SCRIPT, base, koffi, new URL(import.meta.url).pathname])) {
    // A blob per target: V8's code cache is only valid for the platform that made it.
    const blob = join(WORK, `${t.target}.blob`);
    const config = join(WORK, `${t.target}.json`);
    // --disable-sigusr1: a SIGUSR1 opens no debugger, from the first instruction (execArgv: Node 24.6+;
    // NODE_OPTIONS still extends it, which is how the guardian gets its own flags).
    const seaConfig = { main: SCRIPT, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: t.codeCache, execArgv: ['--disable-sigusr1'] };
    writeFileSync(config, JSON.stringify(seaConfig));
    run(hostNode, ['--experimental-sea-config', config]);
    const partial = `${exe}.partial`;
    copyFileSync(base, partial);
    if (t.target === 'win-x64') removePeSignature(partial);
    // The official Linux binary carries its debug information: 18 MB that nothing needs at run time.
    else if (spawnSync('strip', ['--version']).status === 0) run('strip', [partial]);
    else say('strip not found: the Linux executable keeps its debug information');
    run(process.execPath, [postject, partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE]);
    renameSync(partial, exe);
    copyFileSync(koffi, native);
  }
  rows.push(`${relative(ROOT, exe)} ${(statSync(exe).size / 2 ** 20).toFixed(1)} MiB + ${t.native} ${(statSync(native).size / 2 ** 20).toFixed(1)} MiB`);
}
say(`Node ${LTS_VERSION}: ${rows.join('; ')}`);
rmSync(join(WORK), { recursive: true, force: true });
