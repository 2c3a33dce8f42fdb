// Plants each bug of scripts/mutate/probes.mjs in a copy of the project, one at a time, builds the
// copy and runs the tests that must notice: KILLED (a test failed) or SURVIVED. Each distinct set of
// tests is first run on an unmodified copy (the control): a probe is only worth its verdict if those
// tests pass without the bug. Exits 1 when a probe survived, could not be applied (its text is not
// found exactly once: the source moved, update the table) or a control failed.
// Usage: npm run mutate:probes [-- <id>...]   (docs/mutation.md, "Audit probes")
//        npm run mutate:probes -- --check      only checks that every probe still applies (no build)
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROBES } from './probes.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** What a copy needs to build and run the tests (node_modules is linked, not copied). */
const COPIED = ['src', 'native-bindings', 'scripts', 'test', 'package.json', 'tsconfig.json', 'vitest.config.ts'];
const say = (line) => process.stderr.write(`${line}\n`);

const checkOnly = process.argv.includes('--check');
const wanted = process.argv.slice(2).filter((a) => a !== '--check');
const unknown = wanted.filter((id) => !PROBES.some((p) => p.id === id));
if (unknown.length > 0) {
  say(`unknown probe id(s): ${unknown.join(', ')}; known: ${PROBES.map((p) => p.id).join(', ')}`);
  process.exit(2);
}
const probes = wanted.length > 0 ? PROBES.filter((p) => wanted.includes(p.id)) : PROBES;

/** Why a probe cannot be planted in the current source, or undefined. */
function drift(probe) {
  for (const edit of probe.edits) {
    const count = readFileSync(join(ROOT, edit.file), 'utf8').split(edit.find).length - 1;
    if (count !== 1) return `${edit.file}: the text to replace occurs ${count} times (must be once): the source moved, update probe ${probe.id} in scripts/mutate/probes.mjs`;
  }
  return undefined;
}

if (checkOnly) {
  const drifted = probes.map((p) => drift(p)).filter(Boolean);
  for (const line of drifted) say(line);
  say(`${probes.length - drifted.length}/${probes.length} probes apply to the current source`);
  process.exit(drifted.length > 0 ? 1 : 0);
}

const work = mkdtempSync(join(tmpdir(), 'ilo-probes-'));
let child;
const cleanup = () => rmSync(work, { recursive: true, force: true });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    say(`\n${signal}: stopping, removing ${work}`);
    // The child runs in its own process group (vitest's workers, the CLIs it spawns): all of it.
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    cleanup();
    process.exit(130);
  });
}

/** Runs a command in `cwd`, its output to a log file; resolves with its exit code. */
function run(command, args, cwd, log) {
  return new Promise((resolveRun) => {
    const out = join(work, `${log}.log`);
    writeFileSync(out, `$ ${command} ${args.join(' ')}\n`);
    child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('close', (code, signal) => {
      child = undefined;
      writeFileSync(out, Buffer.concat(chunks), { flag: 'a' });
      resolveRun({ code: code ?? 128, signal, log: out });
    });
  });
}

/** A fresh copy of the project at `dir`, with ../shared linked beside it as in the repository. */
function copyProject(dir) {
  mkdirSync(dir, { recursive: true });
  for (const name of COPIED) cpSync(join(ROOT, name), join(dir, name), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  // The emulator is never mutated: its built library (with its time stamp) saves a C build per probe.
  const native = join(ROOT, 'dist', 'native');
  if (existsSync(native)) cpSync(native, join(dir, 'dist', 'native'), { recursive: true, preserveTimestamps: true });
  const shared = resolve(ROOT, '../shared');
  const link = resolve(dir, '../shared');
  if (existsSync(shared) && !existsSync(link)) symlinkSync(shared, link);
}

/** Applies a probe's edits; throws when a `find` is not there exactly once. */
function plant(dir, probe) {
  for (const edit of probe.edits) {
    const path = join(dir, edit.file);
    const text = readFileSync(path, 'utf8');
    const count = text.split(edit.find).length - 1;
    if (count !== 1) throw new Error(`${edit.file}: the text to replace occurs ${count} times (must be once): the source moved, update probe ${probe.id} in scripts/mutate/probes.mjs`);
    writeFileSync(path, text.replace(edit.find, () => edit.replace));
  }
}

/** Builds `dir`; answers an error message, or undefined. */
async function build(dir, name) {
  const result = await run('npm', ['run', 'build', '--silent'], dir, `${name}-build`);
  return result.code === 0 ? undefined : `build failed (see ${result.log})`;
}

/** Runs the tests in a built `dir`; answers the vitest counts, or an error. */
async function test(dir, tests, filter, name, bail) {
  const report = join(work, `${name}-vitest.json`);
  const args = ['vitest', 'run', ...tests, '--reporter=json', `--outputFile=${report}`];
  if (filter) args.push(`--testNamePattern=${filter}`);
  if (bail) args.push('--bail=1');
  const result = await run('npx', args, dir, `${name}-vitest`);
  if (!existsSync(report)) return { error: `vitest wrote no report (exit ${result.code}; see ${result.log})` };
  const json = JSON.parse(readFileSync(report, 'utf8'));
  // A file that failed with no failed test: it could not load, or a hook failed.
  const failedFiles = json.testResults.filter((f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed')).length;
  const failedNames = json.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName));
  return { passed: json.numPassedTests, failed: json.numFailedTests + failedFiles, failedNames, log: result.log };
}

/** The unmodified copy, built once for every control run. */
const controlDir = join(work, 'control', 'repo');
let controlBuilt;
const controlReady = () => (controlBuilt ??= (copyProject(controlDir), build(controlDir, 'control')));

/** The end of a log, shown when something other than a test failure went wrong (the logs go with the temp dir). */
const tail = (log) => (log && existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-25).join('\n') : '');

const keyOf = (p) => JSON.stringify([p.tests, p.filter ?? null]);
const seconds = (ms) => `${Math.round(ms / 1000)} s`;
const results = [];
const controls = new Map();
const began = Date.now();

for (const probe of probes) {
  const t0 = Date.now();
  const key = keyOf(probe);
  const drifted = drift(probe);
  if (!drifted && !controls.has(key)) {
    say(`control: ${probe.tests.join(' ')}${probe.filter ? ` -t ${JSON.stringify(probe.filter)}` : ''} on the unmodified copy ...`);
    const broken = await controlReady();
    const r = broken ? { error: broken } : await test(controlDir, probe.tests, probe.filter, `control-${controls.size}`, false);
    const ok = !r.error && r.failed === 0 && r.passed > 0;
    controls.set(key, ok ? 'passed' : r.error ?? (r.passed === 0 ? 'no test ran' : `${r.failed} failed: ${r.failedNames.join('; ')} (see ${r.log})`));
    say(`  control: ${controls.get(key)} (${r.passed ?? 0} passed)`);
    if (!ok) say(tail(r.log ?? r.error.match(/see (.*)\)/)?.[1]));
  }
  const control = controls.get(key);
  let verdict;
  let detail = '';
  if (drifted) {
    verdict = 'NOT-APPLIED';
    detail = drifted;
  } else if (control !== 'passed') {
    verdict = 'CONTROL-FAILED';
    detail = control;
  } else {
    const dir = join(work, `probe-${probe.id}`, 'repo');
    copyProject(dir);
    try {
      plant(dir, probe);
      say(`probe ${probe.id}: ${probe.bug} ...`);
      const broken = await build(dir, `probe-${probe.id}`);
      const r = broken ? { error: broken } : await test(dir, probe.tests, probe.filter, `probe-${probe.id}`, true);
      if (r.error) {
        [verdict, detail] = ['ERROR', r.error];
        say(tail(r.error.match(/see (.*)\)/)?.[1]));
      }
      else if (r.failed > 0) [verdict, detail] = ['KILLED', r.failedNames[0] ?? 'a test file failed'];
      else if (r.passed === 0) [verdict, detail] = ['ERROR', 'no test ran'];
      else [verdict, detail] = ['SURVIVED', `${r.passed} tests passed`];
    } catch (error) {
      [verdict, detail] = ['NOT-APPLIED', error.message];
    }
    rmSync(dirname(dir), { recursive: true, force: true });
  }
  results.push({ probe, verdict, detail, ms: Date.now() - t0 });
  say(`  ${verdict} in ${seconds(Date.now() - t0)}: ${detail}`);
}

const width = Math.max(...results.map((r) => r.probe.id.length), 2);
process.stdout.write(`\n${'id'.padEnd(width)}  verdict         time   bug\n`);
for (const { probe, verdict, detail, ms } of results) {
  process.stdout.write(`${probe.id.padEnd(width)}  ${verdict.padEnd(14)}  ${seconds(ms).padStart(5)}  ${probe.bug}\n`);
  if (verdict !== 'KILLED') process.stdout.write(`${''.padEnd(width)}  ${detail}\n`);
}
const bad = results.filter((r) => r.verdict !== 'KILLED');
process.stdout.write(`\n${results.length - bad.length}/${results.length} killed in ${seconds(Date.now() - began)}${bad.length ? `; not killed: ${bad.map((r) => r.probe.id).join(', ')}` : ''}\n`);
cleanup();
process.exit(bad.length > 0 ? 1 : 0);
