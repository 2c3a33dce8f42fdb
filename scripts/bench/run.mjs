// `npm run bench`: ilo-agent's benchmark against its own iLO simulator (started here, in this
// process) and the CHIF emulator library. Prints a markdown report on stdout, or one JSON object
// with --json; progress goes to stderr. --quick: fewer runs (a smoke test, not for the README);
// --only=steady,memory: only those items (oneshot, steady, inband, crawl, memory).
//
// Every figure is a median over repeated runs, and every comparison a ratio to a baseline run in
// the same invocation, interleaved with the subject (the order rotates from round to round).
// Everything written to disk goes into one temp dir, removed at the end, also on errors/signals.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LTS_VERSION, officialNode } from '../lib/official-node.mjs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  fmt,
  killChildren,
  machine,
  median,
  pairedRatio,
  parseJsonLine,
  procStatusBytes,
  ratio,
  rotate,
  runTimed,
  spawnTracked,
  table,
  which,
} from './lib.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(ROOT, 'dist/bin/ilo-agent.cjs');
const SEA_EXE = join(ROOT, 'dist/sea/ilo-agent');
// Node 24 from the registry (cached by npm test); absent on platforms without an official package.
const NODE_LTS = process.platform === 'linux' && process.arch === 'x64' ? officialNode('linux-x64', (line) => process.stderr.write(`bench: ${line}\n`)) : undefined;
const EMULATOR = join(ROOT, 'dist/native/libilorestchif.so');
const WORKER = join(ROOT, 'scripts/bench/client-worker.mjs');
const RAW_ONESHOT = join(ROOT, 'scripts/bench/raw-oneshot.mjs');
const DRIVER_SRC = join(ROOT, 'scripts/bench/chif-driver.c');
const AGENT_LOAD = join(ROOT, 'test/fixtures/agent-load.mjs');
const MOCKUP = resolve(ROOT, '../shared/mockups/ilo6-dl380a');
const NODE = process.execPath;
const USER = 'Administrator';
const PASSWORD = 'password';
const SYSTEM = '/redfish/v1/Systems/1';

const argv = process.argv.slice(2);
const JSON_OUT = argv.includes('--json');
const QUICK = argv.includes('--quick');
// --only steady,memory: just those items (to re-measure one after a change; not for the README)
const ITEMS = ['oneshot', 'steady', 'inband', 'crawl', 'memory'];
const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const ONLY = onlyArg === undefined ? ITEMS : onlyArg.split(',');
const unknownItems = ONLY.filter((item) => !ITEMS.includes(item));
if (unknownItems.length > 0) {
  process.stderr.write(`bench: unknown item ${unknownItems.join(', ')} in --only (expected ${ITEMS.join(', ')})\n`);
  process.exit(2);
}
const S = QUICK
  ? { oneShot: 3, oneShotWarm: 1, steadyCount: 500, steadyInflight: 8, steadyRounds: 2, steadyWarm: 100, inbandCount: 200, inbandRounds: 2, inbandWarm: 20, crawlRounds: 1, crawlLimit: 400, rssRuns: 2, serveClients: 10, servePer: 1000, serveWarmPer: 200 }
  : { oneShot: 15, oneShotWarm: 2, steadyCount: 2000, steadyInflight: 8, steadyRounds: 9, steadyWarm: 200, inbandCount: 500, inbandRounds: 7, inbandWarm: 50, crawlRounds: 3, crawlLimit: 400, rssRuns: 5, serveClients: 10, servePer: 10_000, serveWarmPer: 2500 };

const started = process.hrtime.bigint();
const progress = (line) => process.stderr.write(`bench: ${line}\n`);
const md = [];
const notes = [];
const targets = [];
const results = {};
const target = (id, what, value, shown, goal, pass) => targets.push({ id, what, value, shown, target: goal, pass });

// The children's environment: nothing of the caller's ILO_* settings leaks in, and no
// NODE_EXTRA_CA_CERTS: Node parses that bundle at every start-up (~70 ms for a system bundle),
// which would inflate the `node -e 0` floor; ilo-agent gets its CA with --ca-cert anyway.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ILO_') && k !== 'NODE_EXTRA_CA_CERTS'));
if (process.env.NODE_EXTRA_CA_CERTS) notes.push('NODE_EXTRA_CA_CERTS was set in the environment: it is removed for every measured child (it adds the parsing of a CA bundle to each Node start-up, floor included).');
if (process.env.NODE_OPTIONS) notes.push(`NODE_OPTIONS is set (${process.env.NODE_OPTIONS}) and applies to every Node child, floor included.`);

let tmp;
let sim;
let mockSim;
let rawSession; // {token, location} of the raw login of item 4, deleted at the end
let cleaning;
let interrupted = false;

async function cleanup() {
  cleaning ??= (async () => {
    await killChildren().catch(() => undefined);
    if (rawSession && sim) await rawDelete(sim, rawSession).catch(() => undefined);
    await mockSim?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted = true;
    progress(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal] ?? 0)));
  });
}

// ---- raw HTTPS (the bench's own login for the C driver's token) -------------------------------

function rawSend(s, method, path, headers, body) {
  return new Promise((done, fail) => {
    const { hostname, port } = new URL(s.url);
    const req = httpsRequest({ hostname, port, method, path, headers, ca: s.ca, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

async function rawLogin(s) {
  const r = await rawSend(s, 'POST', '/redfish/v1/SessionService/Sessions', { 'Content-Type': 'application/json' }, JSON.stringify({ UserName: USER, Password: PASSWORD }));
  if (r.status !== 201) throw new Error(`raw login answered ${r.status}`);
  return { token: r.headers['x-auth-token'], location: new URL(r.headers.location, s.url).pathname };
}

async function rawDelete(s, session) {
  await rawSend(s, 'DELETE', session.location, { 'X-Auth-Token': session.token });
  if (session === rawSession) rawSession = undefined;
}

// ---- the items ------------------------------------------------------------------------------

async function worker(job, env = baseEnv) {
  const r = await runTimed(NODE, [WORKER, JSON.stringify(job)], { env, timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`client-worker ${job.mode} failed (exit ${r.code ?? r.signal}): ${r.stderr.trim().slice(-600)}`);
  return parseJsonLine(r.stdout, `client-worker ${job.mode}`);
}

const httpsEnv = () => ({ ...baseEnv, ILO_USERNAME: USER, ILO_PASSWORD: PASSWORD, ILO_AGENT_SOCKET: '' });
const inbandEnv = () => ({ ...baseEnv, ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_AGENT_SOCKET: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim.chifSocket });

function chifTotals(state) {
  const frames = Object.values(state.chif.counters.frames).reduce((a, b) => a + b, 0);
  return { frames, rest: state.chif.counters.commands.restImmediate + state.chif.counters.commands.restBlob };
}

/** Items 1 and 2: one-shot process cycles, and the round trips each makes at the simulator. */
async function oneShot(caFile, curl) {
  progress(`1/2 one-shot cycles: ${S.oneShotWarm} warm-up + ${S.oneShot} rounds`);
  const subjects = [
    { id: 'floor', label: '`node -e 0` (floor)', cmd: NODE, args: ['-e', '0'], env: baseEnv },
    { id: 'version', label: '`ilo-agent --version` (CLI start-up only)', cmd: NODE, args: [CLI, '--version'], env: baseEnv },
    { id: 'https', label: '`ilo-agent get` over HTTPS', cmd: NODE, args: [CLI, '--url', sim.url, '--ca-cert', caFile, 'get', SYSTEM], env: httpsEnv(), get: true },
    { id: 'inband', label: '`ilo-agent get` in-band (koffi + emulator)', cmd: NODE, args: [CLI, 'get', SYSTEM], env: inbandEnv(), get: true },
    { id: 'raw', label: 'raw `node:https` one-shot (login, GET, logout: Node\'s floor for the work)', cmd: NODE, args: [RAW_ONESHOT, sim.url, caFile, SYSTEM], env: httpsEnv(), get: true },
  ];
  // The current LTS line, which users run, and the single executable built on it (when
  // npm run build:sea made it), each against Node 24's own floor.
  if (NODE_LTS) {
    subjects.push(
      { id: 'floor24', label: `\`node -e 0\` on Node ${LTS_VERSION} (its floor)`, cmd: NODE_LTS, args: ['-e', '0'], env: baseEnv, floor: 'floor24' },
      { id: 'https24', label: `\`ilo-agent get\` over HTTPS on Node ${LTS_VERSION}`, cmd: NODE_LTS, args: [CLI, '--url', sim.url, '--ca-cert', caFile, 'get', SYSTEM], env: httpsEnv(), get: true, floor: 'floor24', raw: 'raw24' },
      { id: 'raw24', label: `raw \`node:https\` one-shot on Node ${LTS_VERSION}`, cmd: NODE_LTS, args: [RAW_ONESHOT, sim.url, caFile, SYSTEM], env: httpsEnv(), get: true, floor: 'floor24', raw: 'raw24' },
    );
    if (existsSync(SEA_EXE)) subjects.push({ id: 'sea', label: `\`dist/sea/ilo-agent get\` over HTTPS (single executable, Node ${LTS_VERSION})`, cmd: SEA_EXE, args: ['--url', sim.url, '--ca-cert', caFile, 'get', SYSTEM], env: httpsEnv(), get: true, floor: 'floor24', raw: 'raw24' });
  }
  if (curl) subjects.push({ id: 'curl', label: '`curl -u` Basic-auth GET', cmd: curl, args: ['-s', '--cacert', caFile, '-u', `${USER}:${PASSWORD}`, `${sim.url}${SYSTEM}`], env: baseEnv, get: true });
  const runs = Object.fromEntries(subjects.map((s) => [s.id, { ms: [], requests: [], logins: [], frames: [], rest: [] }]));
  for (let round = -S.oneShotWarm; round < S.oneShot; round++) {
    for (const s of rotate(subjects, round + S.oneShotWarm)) {
      const before = sim.state();
      const r = await runTimed(s.cmd, s.args, { env: s.env });
      const after = sim.state();
      if (r.code !== 0) throw new Error(`${s.label} exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(-400)}`);
      if (s.get && !r.stdout.includes(`"@odata.id":"${SYSTEM}"`) && !r.stdout.includes(`"@odata.id": "${SYSTEM}"`)) {
        throw new Error(`${s.label} printed no ${SYSTEM}: ${r.stdout.slice(0, 200)}`);
      }
      if (round < 0) continue;
      const run = runs[s.id];
      const [cb, ca] = [chifTotals(before), chifTotals(after)];
      run.ms.push(r.ms);
      run.requests.push(after.counters.requests - before.counters.requests);
      run.logins.push(after.counters.logins - before.counters.logins);
      run.frames.push(ca.frames - cb.frames);
      run.rest.push(ca.rest - cb.rest);
    }
  }
  const left = sim.sessions().length;
  const m = (id) => median(runs[id]?.ms ?? []);
  const floorOf = (id) => subjects.find((x) => x.id === id)?.floor ?? 'floor';
  const rawOf = (id) => subjects.find((x) => x.id === id)?.raw ?? 'raw';
  const vsFloor = (id) => pairedRatio(runs[id].ms, runs[floorOf(id)].ms);
  const vsRaw = (id) => pairedRatio(runs[id].ms, runs[rawOf(id)].ms);
  const vsCurl = (id) => (runs.curl ? pairedRatio(runs[id].ms, runs.curl.ms) : NaN);
  results.oneShot = {
    runs: S.oneShot,
    subjects: Object.fromEntries(subjects.map((s) => [s.id, { label: s.label, medianMs: m(s.id), vsFloor: vsFloor(s.id), vsRawNode: vsRaw(s.id), vsCurl: vsCurl(s.id), samplesMs: runs[s.id].ms }])),
    sessionsLeft: left,
  };

  md.push(`## 1. One-shot cycle: process start → exit (login, GET ${SYSTEM}, logout)`, '');
  md.push(`Median of ${S.oneShot} runs each (after ${S.oneShotWarm} warm-up round${S.oneShotWarm === 1 ? '' : 's'}), subjects interleaved round by round; ratio = median of the per-round ratios. Timed from spawn() to the child's exit, stdout piped.`, '');
  md.push(
    table(
      ['command', 'median ms', '× `node -e 0`', '× raw node:https one-shot (same Node)', curl ? '× curl' : '× curl (absent)'],
      subjects.map((s) => [
        s.label,
        fmt(m(s.id)),
        s.id === floorOf(s.id) ? '1.00×' : `${ratio(vsFloor(s.id))}${floorOf(s.id) === 'floor' ? '' : ' (of Node 24\'s)'}`,
        s.id === rawOf(s.id) ? '1.00×' : s.id === floorOf(s.id) ? '—' : ratio(vsRaw(s.id)),
        runs.curl && s.id !== 'curl' ? ratio(vsCurl(s.id)) : '—',
      ]),
    ),
    '',
  );
  if (!curl) notes.push('curl is not installed: the curl baseline of item 1 was skipped.');
  const startup = m('version') - m('floor');
  const work = m('https') - m('version');
  md.push(
    `Where the HTTPS one-shot time goes (differences of medians): Node itself ${fmt(m('floor'))} ms; loading the CLI (\`--version\`, no I/O) +${fmt(startup)} ms; ` +
      `TLS connect + login + GET + logout + exit +${fmt(work)} ms. In-band the last part is +${fmt(m('inband') - m('version'))} ms. ` +
      `The raw \`node:https\` one-shot doing the same three requests takes ${fmt(m('raw'))} ms, +${fmt(m('raw') - m('floor'))} ms over the floor ` +
      `(${fmt((100 * (m('raw') - m('floor'))) / work, 0)}% of ilo-agent's work part; Node's first TLS context alone is in the breakdown below).`,
    '',
  );
  await startupBreakdown(caFile);
  target('oneshot-https', 'HTTPS one-shot vs `node -e 0` (Node 20, the npm bin)', vsFloor('https'), ratio(vsFloor('https'), 3), '≤ 2.00×', vsFloor('https') <= 2.0);
  for (const [id, what] of [['https24', `Node ${LTS_VERSION}, the npm bin`], ['sea', 'the single executable']]) {
    if (runs[id]) target(`oneshot-${id}`, `HTTPS one-shot vs \`node -e 0\` (${what})`, vsFloor(id), ratio(vsFloor(id), 3), '≤ 2.00×', vsFloor(id) <= 2.0);
  }

  // Item 2
  const range = (xs) => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return lo === hi ? String(lo) : `${median(xs)} (${lo}–${hi})`;
  };
  md.push(`## 2. Round trips of one one-shot run, counted at the simulator`, '');
  md.push(`Per run, over the same ${S.oneShot} runs (a single number when every run had it; else median (min–max)). Sessions left on the simulator after all runs: ${left}.`, '');
  md.push(
    table(
      ['command', 'Redfish requests', 'of which logins', 'CHIF frames (emulator → simulator)', 'CHIF REST exchanges'],
      subjects.filter((s) => s.get).map((s) => [s.label, range(runs[s.id].requests), range(runs[s.id].logins), s.id === 'inband' ? range(runs[s.id].frames) : '—', s.id === 'inband' ? range(runs[s.id].rest) : '—']),
    ),
    '',
  );
  results.roundTrips = Object.fromEntries(subjects.filter((s) => s.get).map((s) => [s.id, { requests: runs[s.id].requests, logins: runs[s.id].logins, chifFrames: runs[s.id].frames, chifRest: runs[s.id].rest }]));
  for (const id of ['https', 'inband']) {
    const all3 = runs[id].requests.every((n) => n === 3);
    target(`roundtrips-${id}`, `requests per one-shot run, ${id === 'https' ? 'HTTPS' : 'in-band'}`, median(runs[id].requests), range(runs[id].requests), 'exactly 3', all3);
  }
}

/**
 * Where the CLI's start-up goes: the import of its main parts alone, each in a fresh process,
 * against the floor in the same rounds. Cheap (no I/O), so always measured.
 */
async function startupBreakdown(caFile) {
  const rounds = QUICK ? 2 : 7;
  progress(`1 start-up breakdown: ${rounds} rounds`);
  const req = createRequire(join(ROOT, 'package.json'));
  const imp = (path) => ['--input-type=module', '-e', 'await import(process.argv[1])', path];
  const subjects = [
    { id: 'floor', label: '`node -e 0`', args: ['-e', '0'] },
    { id: 'cli', label: '`ilo-agent --version` (the whole CLI graph)', args: [CLI, '--version'] },
    { id: 'tls', label: 'node: the first `tls.createSecureContext({ca})` (OpenSSL + root store set-up)', args: ['-e', `require('tls').createSecureContext({ ca: require('fs').readFileSync(${JSON.stringify(caFile)}, 'utf8') })`] },
    { id: 'library', label: 'import dist/index.js (library: session, transports, errors)', args: imp(join(ROOT, 'dist/index.js')) },
    { id: 'simulator', label: 'import dist/simulator/index.js (imported by the `simulate` command)', args: imp(join(ROOT, 'dist/simulator/index.js')) },
    { id: 'agent', label: 'import dist/agent/index.js (imported by the `serve` command)', args: imp(join(ROOT, 'dist/agent/index.js')) },
    { id: 'pino', label: 'import pino', args: imp(req.resolve('pino')) },
    { id: 'commander', label: 'import commander', args: imp(req.resolve('commander')) },
  ].filter((s) => s.args.length < 4 || existsSync(s.args[3]));
  // Node 20 builds its whole bundled root store at the first context given a `ca` (nodejs/node#56301);
  // Node 24 does not: the same line on both shows what Node 20 alone costs every TLS client.
  if (NODE_LTS) {
    subjects.splice(3, 0, { id: 'tls24', label: `the same first context on Node ${LTS_VERSION}`, args: subjects[2].args, cmd: NODE_LTS, floor: 'floor24' });
    subjects.splice(1, 0, { id: 'floor24', label: `\`node -e 0\` on Node ${LTS_VERSION}`, args: ['-e', '0'], cmd: NODE_LTS, floor: 'floor24' });
  }
  const ms = Object.fromEntries(subjects.map((s) => [s.id, []]));
  for (let round = 0; round < rounds; round++) {
    for (const s of rotate(subjects, round)) {
      const r = await runTimed(s.cmd ?? NODE, s.args, { env: baseEnv, cwd: ROOT });
      if (r.code !== 0) throw new Error(`${s.label} exited ${r.code}: ${r.stderr.slice(-300)}`);
      ms[s.id].push(r.ms);
    }
  }
  const over = (s) => median(ms[s.id]) - median(ms[s.floor ?? 'floor']);
  results.startup = Object.fromEntries(subjects.map((s) => [s.id, { label: s.label, medianMs: median(ms[s.id]), overFloorMs: over(s) }]));
  md.push(`Start-up breakdown (each part imported alone in a fresh process, on Node ${process.versions.node} unless named; median of ${rounds} rounds, interleaved; parts overlap, so they do not add up):`, '');
  md.push(table(['what', 'median ms', 'over its Node\'s `node -e 0` ms'], subjects.map((s) => [s.label, fmt(median(ms[s.id])), s.id === (s.floor ?? 'floor') ? '—' : `+${fmt(over(s))}`])), '');
}

/** Item 3: steady state through one session, library vs raw node:https. */
async function steady(caFile) {
  progress(`3 steady state: ${S.steadyRounds} rounds × (library, raw) × (sequential, ${S.steadyInflight} in flight) × ${S.steadyCount} GETs`);
  const base = { url: sim.url, ca: caFile, username: USER, password: PASSWORD, path: SYSTEM, count: S.steadyCount, warmup: S.steadyWarm };
  const kinds = [
    ['seq', 1],
    ['conc', S.steadyInflight],
  ];
  const r = { lib: { seq: [], conc: [] }, raw: { seq: [], conc: [] } };
  const cpu = { lib: { seq: [], conc: [] }, raw: { seq: [], conc: [] } };
  for (let round = 0; round < S.steadyRounds; round++) {
    const order = round % 2 ? [...kinds].reverse() : kinds;
    for (const who of round % 2 ? ['raw', 'lib'] : ['lib', 'raw']) {
      const out = await worker({ ...base, mode: who === 'lib' ? 'steady-lib' : 'steady-raw', phases: order.map(([, inflight]) => inflight) });
      order.forEach(([kind], i) => {
        r[who][kind].push(out[i].ms);
        cpu[who][kind].push(out[i].cpuUs / S.steadyCount);
      });
    }
  }
  const rows = [];
  results.steady = { count: S.steadyCount, rounds: S.steadyRounds, inflight: S.steadyInflight };
  for (const [kind, inflight] of kinds) {
    const q = pairedRatio(r.lib[kind], r.raw[kind]);
    const label = inflight === 1 ? 'sequential' : `${inflight} in flight`;
    const perReq = (ms) => (ms * 1000) / S.steadyCount;
    rows.push([
      label,
      fmt(median(r.lib[kind]), 0),
      fmt(median(r.raw[kind]), 0),
      ratio(q),
      `${fmt(perReq(median(r.lib[kind])), 0)} / ${fmt(perReq(median(r.raw[kind])), 0)}`,
      `${fmt(median(cpu.lib[kind]), 0)} / ${fmt(median(cpu.raw[kind]), 0)} (${ratio(pairedRatio(cpu.lib[kind], cpu.raw[kind]))})`,
    ]);
    results.steady[kind] = { libMs: median(r.lib[kind]), rawMs: median(r.raw[kind]), ratio: q, libCpuUsPerRequest: median(cpu.lib[kind]), rawCpuUsPerRequest: median(cpu.raw[kind]) };
    target(`steady-${kind}`, `steady state ${label}: library vs raw node:https (total time)`, q, ratio(q, 3), '≤ 1.10×', q <= 1.1);
  }
  md.push(`## 3. Steady state: ${S.steadyCount} GETs of ${SYSTEM} through one session (HTTPS)`, '');
  md.push(
    `Library (\`openSession\` + \`client.get\`, JSON parsed) vs raw \`node:https\` with a bare keep-alive \`Agent\` (same token header, body collected and JSON-parsed; raw login POST before, DELETE after). ` +
      `Each run is its own client process (the simulator runs in the bench process: client and server do not share an event loop) doing both loads through one session, in alternating order; login, ${S.steadyWarm} warm-up GETs before each load, and logout are outside the timing. ` +
      `Median of ${S.steadyRounds} rounds, library and raw alternating. The library is opened with \`maxConnections: ${S.steadyInflight}\`, as many connections as the bare Agent opens for that load.`,
    '',
  );
  md.push(table(['load', 'library ms', 'raw ms', 'ratio (total time)', 'µs/request lib / raw', 'client CPU µs/request lib / raw (ratio)'], rows), '');
}

/** Item 4: in-band per-request cost, library (koffi) vs the C driver, same emulator and bytes. */
async function inband(caFile, cc) {
  md.push(`## 4. In-band per-request cost: library through koffi vs a C program, same emulator library`, '');
  if (!cc) {
    notes.push('no C compiler (`cc`): item 4 (in-band vs C driver) was skipped.');
    md.push('Skipped: no `cc` on PATH to build scripts/bench/chif-driver.c.', '');
    return;
  }
  progress(`4 in-band: building the C driver; ${S.inbandRounds} rounds × (library, C) × ${S.inbandCount} GETs`);
  const driver = join(tmp, 'chif-driver');
  const build = await runTimed(cc, ['-std=c11', '-O2', '-Wall', `-I${join(ROOT, 'native-bindings')}`, DRIVER_SRC, '-o', driver, `-L${join(ROOT, 'dist/native')}`, '-lilorestchif', `-Wl,-rpath,${join(ROOT, 'dist/native')}`]);
  if (build.code !== 0) throw new Error(`building chif-driver failed: ${build.stderr.trim().slice(-800)}`);
  rawSession = await rawLogin(sim);
  const env = inbandEnv();
  const lib = [];
  const c = [];
  const libCpu = [];
  const cCpu = [];
  let bytes;
  for (let round = 0; round < S.inbandRounds; round++) {
    for (const who of round % 2 ? ['c', 'lib'] : ['lib', 'c']) {
      if (who === 'lib') {
        const out = await worker({ mode: 'inband-lib', chifLibrary: EMULATOR, path: SYSTEM, count: S.inbandCount, warmup: S.inbandWarm }, env);
        lib.push((out.ms * 1000) / S.inbandCount);
        libCpu.push(out.cpuUs / S.inbandCount);
      } else {
        const r = await runTimed(driver, [String(S.inbandCount), String(S.inbandWarm), SYSTEM, rawSession.token], { env, timeoutMs: 120_000 });
        if (r.code !== 0) throw new Error(`chif-driver failed (exit ${r.code ?? r.signal}): ${r.stderr.trim()}`);
        const out = parseJsonLine(r.stdout, 'chif-driver');
        bytes = out;
        c.push(out.ns / 1000 / out.n);
        cCpu.push(out.cpuNs / 1000 / out.n);
      }
    }
  }
  // What the worker-thread hop alone costs: the same exchange through the binding, both ways.
  const hop = await worker({ mode: 'inband-hop', chifLibrary: EMULATOR, path: SYSTEM, token: rawSession.token, count: S.inbandCount * 2 }, env);
  await rawDelete(sim, rawSession);
  const q = pairedRatio(lib, c);
  results.inband = { count: S.inbandCount, rounds: S.inbandRounds, libUsPerRequest: median(lib), cUsPerRequest: median(c), ratio: q, libCpuUsPerRequest: median(libCpu), cCpuUsPerRequest: median(cCpu), requestBytes: bytes?.requestBytes, answerBytes: bytes?.answerBytes };
  md.push(
    `Sequential GETs of ${SYSTEM}, ${S.inbandCount} per run after ${S.inbandWarm} warm-up, each run its own process; median of ${S.inbandRounds} rounds, alternating. ` +
      `Library: \`openSession({chifLibrary})\` + \`client.get\` (koffi async calls on worker threads, HTTP parsing, JSON). ` +
      `C: scripts/bench/chif-driver.c linked to the same dist/native/libilorestchif.so — ChifInitialize, ChifDisableSecurity, ChifCreate, ChifPing, then per request rest_immediate + the same ${bytes?.requestBytes ?? '?'} HTTP bytes ` +
      `(with the X-Auth-Token of a session from a raw HTTPS login, deleted after) + ChifPacketExchange, reading u32@8 and the inline length u32@16 (answers of ${bytes?.answerBytes ?? '?'} bytes, inline).`,
    '',
  );
  md.push(
    table(
      ['client', 'µs/request (median)', 'ratio', 'client CPU µs/request (all threads)'],
      [
        ['library in-band (koffi)', fmt(median(lib), 0), ratio(q), fmt(median(libCpu), 0)],
        ['C driver (direct calls)', fmt(median(c), 0), '1.00×', fmt(median(cCpu), 0)],
      ],
    ),
    '',
  );
  md.push(
    `The simulator's share is the same for both (it answers the same packets); the difference per request, ${fmt(median(lib) - median(c), 0)} µs, is the library's side: ` +
      `${fmt(median(libCpu) - median(cCpu), 0)} µs more client CPU per request, for what the library does around the same C calls (koffi marshalling, the hop to a libuv worker thread and back, serialising and parsing HTTP, JSON; not broken down further).`,
    '',
  );
  const hopUs = hop.asyncUs - hop.syncUs;
  results.inband.hop = hop;
  md.push(
    `Of that, the hop to a worker thread and back: the same REST exchange through the library's binding takes ${fmt(hop.asyncUs, 0)} µs on a libuv worker thread (as the library runs it) ` +
      `and ${fmt(hop.syncUs, 0)} µs blocking the event loop (as the C driver does): ${fmt(hopUs, 0)} µs per exchange, ${fmt((100 * hopUs) / median(c), 0)}% of the C driver's whole request. ` +
      `The library pays it by design: while a native call blocks the event loop no signal handler can run, so SIGINT/SIGTERM during an exchange the iLO sits on would wait for the library's receive timeout instead of deleting the session. ` +
      `With that hop, the target's ${fmt(median(c) * 1.25, 0)} µs budget leaves ${fmt(median(c) * 1.25 - median(c) - hopUs, 0)} µs for everything else the library does.`,
    '',
  );
  target('inband-per-request', 'in-band per request: library vs C driver', q, ratio(q, 3), '≤ 1.25×', q <= 1.25);
}

/** Item 5: crawl of the reference mockup at concurrency 1/4/8, with 0 and 20 ms added latency. */
async function crawlBench(caFile, startSimulator) {
  md.push(`## 5. \`crawl\` of the ilo6-dl380a mockup (library \`crawl\`, HTTPS)`, '');
  if (!existsSync(join(MOCKUP, 'index.json')) && !existsSync(join(MOCKUP, 'redfish/v1/index.json'))) {
    notes.push(`the mockup ${MOCKUP} is absent: item 5 (crawl) was skipped.`);
    md.push(`Skipped: the mockup ../shared/mockups/ilo6-dl380a is absent.`, '');
    return;
  }
  mockSim = await startSimulator({ mockupDir: MOCKUP, loginFailureDelayMs: 0 });
  const mockCa = join(tmp, 'mock-ca.pem');
  writeFileSync(mockCa, mockSim.ca);
  const levels = [1, 4, 8];
  const rates = {};
  const info = {};
  for (const latency of [0, 20]) {
    const limit = latency === 0 ? undefined : S.crawlLimit;
    progress(`5 crawl at ${latency} ms latency: ${S.crawlRounds} rounds × concurrency ${levels.join('/')}${limit ? `, first ${limit} resources` : ', whole tree'}`);
    mockSim.faults.setLatency({ requestMs: latency });
    rates[latency] = Object.fromEntries(levels.map((c) => [c, []]));
    for (let round = 0; round < S.crawlRounds; round++) {
      for (const concurrency of rotate(levels, round)) {
        const out = await worker({ mode: 'crawl', url: mockSim.url, ca: mockCa, username: USER, password: PASSWORD, root: '/redfish/v1', concurrency, limit });
        rates[latency][concurrency].push((out.resources * 1000) / out.ms);
        info[latency] = { resources: out.resources, errors: out.errors };
      }
    }
  }
  mockSim.faults.setLatency({ requestMs: 0 });
  if (mockSim.sessions().length !== 0) notes.push(`crawl runs left ${mockSim.sessions().length} session(s) on the mockup simulator`);
  const rows = [];
  results.crawl = { rounds: S.crawlRounds, limitAt20ms: S.crawlLimit, resources: info, rates: {} };
  for (const latency of [0, 20]) {
    results.crawl.rates[latency] = {};
    for (const c of levels) {
      const speedup = pairedRatio(rates[latency][c], rates[latency][1]);
      results.crawl.rates[latency][c] = { resourcesPerSecond: median(rates[latency][c]), vsConcurrency1: speedup };
      rows.push([`${latency} ms`, c, latency === 0 ? `whole tree (${info[0].resources}, ${info[0].errors} answered errors)` : `first ${info[20].resources}`, fmt(median(rates[latency][c]), 0), ratio(speedup)]);
    }
  }
  md.push(
    `Each run its own client process; the timing covers the crawl only (login/logout outside). Median of ${S.crawlRounds} rounds, concurrency order rotating. ` +
      `At 0 ms the whole tree from /redfish/v1 is walked; at 20 ms added latency per request (\`sim.faults.setLatency({requestMs: 20})\`) only the first ${S.crawlLimit} GETs of the same breadth-first walk go out (the links found after that are skipped), to keep the run short. ` +
      `The crawl opens as many HTTPS connections as its concurrency (\`maxConnections\`, as \`ilo-agent crawl --concurrency\` does).`,
    '',
  );
  md.push(table(['added latency', 'concurrency', 'resources', 'resources/s (median)', '× concurrency 1'], rows), '');
  const q = pairedRatio(rates[20][4], rates[20][1]);
  target('crawl-speedup', 'crawl at 20 ms: concurrency 4 vs 1 (rate)', q, ratio(q, 3), '≥ 3.50×', q >= 3.5);
}

/** Item 6: peak RSS of a one-shot run; RSS growth of `serve` over 100,000 requests. */
async function memory(caFile) {
  progress(`6 memory: ${S.rssRuns} one-shot runs each with a maxRSS probe`);
  const probe = join(tmp, 'rss.cjs');
  writeFileSync(
    probe,
    "'use strict';\nprocess.on('exit', () => { try { require('node:fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)); } catch {} });\n",
  );
  const subjects = [
    { id: 'floor', label: '`node -e 0`', args: ['-e', '0'], env: baseEnv },
    { id: 'https', label: '`ilo-agent get` over HTTPS', args: [CLI, '--url', sim.url, '--ca-cert', caFile, 'get', SYSTEM], env: httpsEnv() },
    { id: 'inband', label: '`ilo-agent get` in-band', args: [CLI, 'get', SYSTEM], env: inbandEnv() },
  ];
  const peaks = Object.fromEntries(subjects.map((s) => [s.id, []]));
  let n = 0;
  for (let round = 0; round < S.rssRuns; round++) {
    for (const s of rotate(subjects, round)) {
      const file = join(tmp, `rss-${n++}`);
      const r = await runTimed(NODE, ['--require', probe, ...s.args], { env: { ...s.env, BENCH_RSS_FILE: file } });
      if (r.code !== 0) throw new Error(`${s.label} (rss) exited ${r.code}: ${r.stderr.slice(-300)}`);
      peaks[s.id].push(existsSync(file) ? (Number(readFileSync(file, 'utf8')) * 1024) / 1e6 : NaN);
    }
  }
  md.push(`## 6. Memory`, '');
  md.push(`Peak RSS of one one-shot run: \`process.resourceUsage().maxRSS\` written at 'exit' by a \`--require\`d probe; median of ${S.rssRuns} runs each.`, '');
  md.push(table(['command', 'peak RSS MB (median)'], subjects.map((s) => [s.label, fmt(median(peaks[s.id]))])), '');
  results.rss = Object.fromEntries(subjects.map((s) => [s.id, { peakMB: median(peaks[s.id]) }]));
  for (const id of ['https', 'inband']) {
    const v = median(peaks[id]);
    target(`rss-${id}`, `peak RSS of a one-shot run, ${id === 'https' ? 'HTTPS' : 'in-band'}`, v, `${fmt(v)} MB`, '≤ 60 MB', v <= 60);
  }

  // serve
  const total = S.serveClients * S.servePer;
  progress(`6 serve: warm-up ${S.serveClients}×${S.serveWarmPer}, then ${S.serveClients} clients × ${S.servePer} requests`);
  const socket = join(tmp, 'agent.sock');
  const serve = spawnTracked(NODE, [CLI, '--url', sim.url, '--ca-cert', caFile, '--log-level', 'warn', 'serve', '--socket', socket], { env: httpsEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let serveErr = '';
  serve.stderr.on('data', (d) => (serveErr = (serveErr + d).slice(-2000)));
  const ready = await new Promise((done, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`serve did not get ready: ${serveErr}`)), 20_000);
    serve.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        done(JSON.parse(out.slice(0, nl)));
      }
    });
    serve.once('exit', (code) => fail(new Error(`serve exited ${code} before it was ready: ${serveErr}`)));
  });
  serve.removeAllListeners('exit');
  const load = async (per) => {
    const runs = await Promise.all(Array.from({ length: S.serveClients }, () => runTimed(NODE, [AGENT_LOAD, ready.socket, String(per)], { env: baseEnv, timeoutMs: 240_000 })));
    for (const r of runs) {
      if (r.code !== 0) throw new Error(`agent-load failed (exit ${r.code}): ${r.stderr.slice(-400)}`);
      const out = parseJsonLine(r.stdout, 'agent-load');
      if (out.ok !== per || out.bad.length > 0) throw new Error(`agent-load: ${JSON.stringify(out)}`);
    }
  };
  await load(S.serveWarmPer);
  await sleep(500);
  const logins = sim.state().counters.logins;
  const before = procStatusBytes(serve.pid, 'VmRSS');
  // In quarters, with a reading after each: a leak grows with every quarter, heap sizing does not.
  const quarters = [];
  let seconds = 0;
  for (let q = 0; q < 4; q++) {
    const t0 = process.hrtime.bigint();
    await load(S.servePer / 4);
    seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    await sleep(q === 3 ? 1000 : 300);
    quarters.push(procStatusBytes(serve.pid, 'VmRSS'));
  }
  const after = quarters[3];
  const hwm = procStatusBytes(serve.pid, 'VmHWM');
  const extraLogins = sim.state().counters.logins - logins;
  const code = await new Promise((done) => {
    serve.once('close', (c) => done(c));
    serve.kill('SIGTERM');
  });
  const MB = 1e6;
  const growth = (after - before) / MB;
  const secondHalf = (quarters[3] - quarters[1]) / MB;
  results.serve = { requests: total, seconds, requestsPerSecond: total / seconds, rssBeforeMB: before / MB, rssAfterMB: after / MB, rssQuartersMB: quarters.map((b) => b / MB), growthMB: growth, secondHalfGrowthMB: secondHalf, peakMB: hwm / MB, loginsDuringLoad: extraLogins, exitCode: code };
  md.push(
    `\`ilo-agent serve\` over HTTPS: VmRSS of the serve process after a warm-up of ${S.serveClients}×${S.serveWarmPer} requests, and 1 s after ${S.serveClients} client processes × ${S.servePer.toLocaleString('en-US')} requests (test/fixtures/agent-load.mjs, 8 in flight each; ${total.toLocaleString('en-US')} in all), read after each quarter of the load (no GC forced): ${quarters.map((b) => fmt(b / MB)).join(', ')} MB. A leak grows every quarter; growth over the second half: ${fmt(secondHalf)} MB.`,
    '',
  );
  md.push(
    table(
      ['requests', 'time s', 'requests/s', 'RSS before MB', 'RSS after MB', 'growth MB', 'peak (VmHWM) MB', 'logins during load', 'exit on SIGTERM'],
      [[total.toLocaleString('en-US'), fmt(seconds), fmt(total / seconds, 0), fmt(before / MB), fmt(after / MB), fmt(growth), fmt(hwm / MB), extraLogins, code]],
    ),
    '',
  );
  target('serve-rss-growth', `serve RSS growth over ${total.toLocaleString('en-US')} requests`, growth, `${fmt(growth)} MB`, '< 5 MB', growth < 5);
}

// ---- main -----------------------------------------------------------------------------------

async function main() {
  for (const f of [CLI, EMULATOR, WORKER]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first (npm run bench does)`);
  const { startSimulator } = await import(join(ROOT, 'dist/simulator/index.js'));
  tmp = mkdtempSync(join(tmpdir(), 'ilo-agent-bench-'));
  sim = await startSimulator({ chifSocket: join(tmp, 'chif.sock'), loginFailureDelayMs: 0 });
  const caFile = join(tmp, 'ca.pem');
  writeFileSync(caFile, sim.ca);
  const m = machine();
  results.machine = m;
  results.settings = S;

  if (ONLY.includes('oneshot')) await oneShot(caFile, which('curl'));
  if (ONLY.includes('steady')) await steady(caFile);
  if (ONLY.includes('inband')) await inband(caFile, which('cc'));
  if (ONLY.includes('crawl')) await crawlBench(caFile, startSimulator);
  if (ONLY.includes('memory')) await memory(caFile);
  if (sim.sessions().length !== 0) notes.push(`${sim.sessions().length} session(s) were left on the simulator at the end`);

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify({ machine: m, settings: S, quick: QUICK, results, targets, notes, totalSeconds: seconds })}\n`);
    return;
  }
  const head = [
    '# ilo-agent benchmark',
    '',
    `- CPU: ${m.cpu}; ${m.cores} cores; Node ${m.node} (${m.platform})`,
    `- Simulator in the bench process (built-in tree; the ilo6-dl380a mockup for crawl), measured clients in their own processes.${QUICK ? ' **--quick: reduced run counts, not for publication.**' : ''}${ONLY.length < ITEMS.length ? ` **--only=${ONLY.join(',')}: part of the bench.**` : ''}`,
    `- Every figure is a median over the runs stated; every ratio compares a subject with a baseline run interleaved in this invocation.`,
    '',
    '## Targets',
    '',
    table(['measure', 'measured', 'target', 'result'], targets.map((t) => [t.what, t.shown, t.target, t.pass ? 'PASS' : 'MISS'])),
    '',
    'Ratios in this table have three decimals (two in the sections below); MB = 10^6 bytes.',
    '',
  ];
  const tail = [...(notes.length ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []), `Total bench time: ${fmt(seconds)} s.`];
  process.stdout.write(`${[...head, ...md, ...tail].join('\n')}\n`);
}

try {
  await main();
} catch (error) {
  if (!interrupted) process.stderr.write(`bench: failed: ${error?.stack ?? error}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
