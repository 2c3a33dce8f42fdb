// Steady-state cost per GET counted in instructions, not seconds: callgrind counts the same on a
// busy or a quiet machine, where this VM's timings vary by ±15% run to run. For each client (the
// bare node:https client, the HTTPS transport alone, the library) it runs 100 and 600 GETs under
// valgrind and divides the difference by 500, leaving out V8's optimising compiler (it runs on
// its own threads, more for more code, and fades with time). The simulator runs in its own process
// and is not counted. Usage: npm run bench:instructions [-- raw|transport|lib …] (a few minutes;
// needs valgrind).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT = join(ROOT, 'scripts/bench/instructions-client.mjs');
const say = (line) => process.stderr.write(`count-instructions: ${line}\n`);
// (callgrind_annotate --version prints its version and exits 255: only whether it runs matters)
for (const tool of ['valgrind', 'callgrind_annotate']) {
  if (spawnSync(tool, ['--version']).error) {
    say(`${tool} is not installed (Debian: apt-get install valgrind)`);
    process.exit(1);
  }
}

const ALL = [
  ['raw', 'bare `node:https` client (keep-alive Agent, JSON parsed)'],
  ['transport', 'ilo-agent\'s HTTPS transport alone'],
  ['lib', 'the library (`openSession` + `client.get`)'],
];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !ALL.some(([subject]) => subject === name));
if (unknown.length > 0) {
  say(`unknown client ${unknown.join(', ')}; expected ${ALL.map(([subject]) => subject).join(', ')}`);
  process.exit(2);
}
const subjects = wanted.length > 0 ? ALL.filter(([subject]) => wanted.includes(subject)) : ALL;

const tmp = mkdtempSync(join(tmpdir(), 'ilo-agent-instructions-'));
const sim = spawn(process.execPath, [join(ROOT, 'dist/bin/ilo-agent.cjs'), 'simulate', '--port', '0', '--log-level', 'silent', '--max-sessions', '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise((resolve, reject) => {
  let out = '';
  sim.stdout.on('data', (d) => {
    out += d;
    if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
  });
  sim.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
});
const caFile = join(tmp, 'ca.pem');
writeFileSync(caFile, ready.ca);

/** Instructions of one run, V8's compiler left out. */
function count(subject, n) {
  return new Promise((resolve, reject) => {
    const out = join(tmp, `${subject}-${n}.cg`);
    const run = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, CLIENT, subject, String(n), ready.url, caFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    run.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    run.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${subject} ${n} failed (${code}): ${err}`));
      const annotated = spawnSync('callgrind_annotate', ['--threshold=100', out], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
      let total = 0;
      for (const line of annotated.split('\n')) {
        const m = /^\s*([\d,]+) \(/.exec(line);
        if (!m || line.includes('PROGRAM TOTALS') || line.includes('compiler::')) continue;
        total += Number(m[1].replaceAll(',', ''));
      }
      resolve(total);
    });
  });
}

const perGet = {};
try {
  // two at a time: the machine has two cores, and instruction counts do not mind the company
  for (const [subject] of subjects) {
    say(`${subject}: 100 and 600 GETs under callgrind`);
    const [a, b] = await Promise.all([count(subject, 100), count(subject, 600)]);
    perGet[subject] = (b - a) / 500;
  }
} finally {
  sim.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
const k = (x) => `${Math.round(x / 1000)}k`;
console.log('| client | instructions per GET | × bare client |');
console.log('| --- | --- | --- |');
for (const [subject, label] of subjects) {
  console.log(`| ${label} | ${k(perGet[subject])} | ${perGet.raw ? `${(perGet[subject] / perGet.raw).toFixed(2)}×` : '(raw not run)'} |`);
}
