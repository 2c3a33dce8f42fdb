#!/usr/bin/env node
// `npm run mutate [-- <module>...]`: runs StrykerJS once per module set (all of them without an argument) and
// prints a per-module score table read from each JSON report (reports/mutation/<module>.json).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODULES } from './modules.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The package's bin (its "exports" do not expose the file to require.resolve).
const stryker = `${root}/node_modules/@stryker-mutator/core/bin/stryker.js`;
const asked = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
// Options go to Stryker as they are (--force: ignore the previous run's results, see docs/mutation.md).
const options = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const unknown = asked.filter((name) => !(name in MODULES));
if (unknown.length > 0) {
  console.error(`unknown module ${unknown.join(', ')}; known: ${Object.keys(MODULES).join(', ')}`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : Object.keys(MODULES);

/** Mutant counts and scores of one Stryker JSON report (mutation-testing-report-schema). */
export function summarise(report) {
  const count = { Killed: 0, Survived: 0, NoCoverage: 0, Timeout: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 };
  for (const file of Object.values(report.files)) for (const m of file.mutants) count[m.status] = (count[m.status] ?? 0) + 1;
  const detected = count.Killed + count.Timeout;
  const valid = detected + count.Survived + count.NoCoverage;
  const covered = detected + count.Survived;
  const pct = (a, b) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
  return { ...count, score: pct(detected, valid), coveredScore: pct(detected, covered) };
}

// The emulator of HPE's library (dist/native) is loaded by the binding and in-band tests: build once, so that
// a fresh clone runs as it is (tsc, the C emulator and the bundles, about a minute).
console.error('=== npm run build');
const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) {
  console.error(`npm run build failed (${build.status ?? build.signal}); nothing was mutated`);
  process.exit(1);
}

const rows = [];
let failed = false;
for (const name of names) {
  console.error(`\n=== mutate ${name}: ${MODULES[name].mutate.join(' ')}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [stryker, 'run', 'scripts/mutate/stryker.config.mjs', ...options], {
    cwd: root,
    env: { ...process.env, MUTATE_MODULE: name },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  if (run.status !== 0) {
    failed = true;
    rows.push({ name, error: `stryker exited with ${run.status ?? run.signal}`, minutes });
    continue;
  }
  const report = JSON.parse(readFileSync(`${root}/reports/mutation/${name}.json`, 'utf8'));
  rows.push({ name, ...summarise(report), minutes });
}

const header = ['module', 'killed', 'timeout', 'survived', 'no cov.', 'score', 'covered', 'minutes'];
const lines = rows.map((r) =>
  r.error
    ? [r.name, r.error, '', '', '', '', '', r.minutes]
    : [r.name, r.Killed, r.Timeout, r.Survived, r.NoCoverage, r.score, r.coveredScore, r.minutes],
);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
const format = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
console.log(`\n${format(header)}`);
for (const line of lines) console.log(format(line));
console.log('\nscore = (killed + timeout) / all mutants; covered = the same over mutants some in-process test reaches.');
console.log('Reports: reports/mutation/<module>.html');
process.exit(failed ? 1 : 0);
