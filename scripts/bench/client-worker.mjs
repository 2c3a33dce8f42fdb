// One measured client run of the benchmark, in its own process (the simulator lives in run.mjs's
// process: client and simulator do not share an event loop, as with a real iLO). Only the work
// between the two clock readings is timed: start-up, login and logout are outside.
// Usage: node client-worker.mjs '<JSON job>'; prints one JSON line on stdout.
//   {mode:'steady-lib', url, ca, username, password, path, count, phases: [inflight, ...], warmup}
//   {mode:'steady-raw', url, ca, username, password, path, count, phases: [inflight, ...], warmup}
//     (one timed run of `count` GETs per phase, in the given order, through one session)
//   {mode:'inband-lib', chifLibrary, path, count, warmup}            (ILO_CHIF_EMULATOR_SOCKET in env)
//   {mode:'inband-hop', chifLibrary, path, token, count}            (the same exchange, worker thread vs blocking)
//   {mode:'crawl', url, ca, username, password, root, concurrency, limit}
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

const job = JSON.parse(process.argv[2] ?? '{}');
const lib = await import(new URL('../../dist/client/index.js', import.meta.url).href);

/** Runs `count` calls of `one`, `inflight` at a time; answers elapsed ms and client CPU µs. */
async function timed(count, inflight, one) {
  let next = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(inflight, count) }, async () => {
      while (next < count) {
        next++;
        await one();
      }
    }),
  );
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { ms, cpuUs: used.user + used.system };
}

function check(body, path) {
  if (body?.['@odata.id'] !== path) throw new Error(`unexpected answer for ${path}: ${JSON.stringify(body).slice(0, 200)}`);
}

async function steadyLib() {
  const ca = readFileSync(job.ca, 'utf8');
  // as many connections as requests in flight, as the bare client opens
  const maxConnections = Math.max(...job.phases);
  const client = await lib.openSession({ url: job.url, ca, username: job.username, password: job.password, maxConnections });
  try {
    const one = async () => check(await client.get(job.path), job.path);
    return await phases(one);
  } finally {
    await client.close();
  }
}

/** Warm-up at the phase's own concurrency, then the timed run; one result per phase. */
async function phases(one) {
  const out = [];
  for (const inflight of job.phases) {
    await timed(job.warmup, inflight, one);
    out.push({ inflight, ...(await timed(job.count, inflight, one)) });
  }
  return out;
}

/** node:https with a bare keep-alive Agent: the floor any HTTPS client in Node pays. */
async function steadyRaw() {
  const ca = readFileSync(job.ca, 'utf8');
  const agent = new Agent({ keepAlive: true, ca });
  const { hostname, port } = new URL(job.url);
  const send = (method, path, headers, body) =>
    new Promise((resolve, reject) => {
      const req = request({ hostname, port, method, path, headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const login = await send(
    'POST',
    '/redfish/v1/SessionService/Sessions',
    { 'Content-Type': 'application/json', 'OData-Version': '4.0', Accept: 'application/json' },
    JSON.stringify({ UserName: job.username, Password: job.password }),
  );
  const token = login.headers['x-auth-token'];
  if (login.status !== 201 || !token) throw new Error(`raw login answered ${login.status}`);
  const location = new URL(login.headers.location, job.url).pathname;
  const headers = { 'X-Auth-Token': token, 'OData-Version': '4.0', Accept: 'application/json' };
  try {
    const one = async () => {
      const res = await send('GET', job.path, headers);
      if (res.status !== 200) throw new Error(`raw GET answered ${res.status}`);
      check(JSON.parse(res.body.toString('utf8')), job.path);
    };
    return await phases(one);
  } finally {
    await send('DELETE', location, headers);
    agent.destroy();
  }
}

async function inbandLib() {
  const client = await lib.openSession({ chifLibrary: job.chifLibrary });
  try {
    const one = async () => check(await client.get(job.path), job.path);
    await timed(job.warmup, 1, one);
    return await timed(job.count, 1, one);
  } finally {
    await client.close();
  }
}

/**
 * The library's crawl. With `limit`, only the first `limit` GETs go to the simulator; links
 * found after that are answered with an empty body here, so the walk ends at once.
 */
async function crawlRun() {
  const ca = readFileSync(job.ca, 'utf8');
  const client = await lib.openSession({ url: job.url, ca, username: job.username, password: job.password, maxConnections: job.concurrency });
  try {
    let sent = 0;
    const limited = job.limit ? { get: (path, options) => (sent++ < job.limit ? client.get(path, options) : Promise.resolve({})) } : client;
    const start = process.hrtime.bigint();
    const result = await lib.crawl(limited, job.root, { concurrency: job.concurrency });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const resources = job.limit ? Math.min(sent, job.limit) : Object.keys(result).length;
    const errors = Object.values(result).filter((v) => v && typeof v === 'object' && 'error' in v).length;
    return { ms, resources, errors };
  } finally {
    await client.close();
  }
}

/**
 * The price of the worker-thread hop alone: the binding's exchange of the same REST packet (a GET
 * with the given token), on a worker thread (what the library does, so that signals are handled
 * during an exchange) and blocking the event loop (what the C driver does). Alternating blocks.
 */
async function inbandHop() {
  const binding = await import(new URL('../../dist/binding/index.js', import.meta.url).href);
  const chif = await binding.loadChifLibrary(job.chifLibrary);
  chif.initialize();
  chif.disableSecurity();
  const { rc, handle } = await chif.create();
  if (rc !== 0 || (await chif.ping(handle)) !== 0) throw new Error(`ChifCreate/ChifPing failed (${rc})`);
  const http = Buffer.from(`GET ${job.path} HTTP/1.1\r\nHost: localhost\r\nX-Auth-Token: ${job.token}\r\nAccept: application/json\r\n\r\n`);
  const packet = () => Buffer.concat([chif.restImmediate(http.length, 'benchhop', 'volatile'), http]);
  const us = { async: 0, sync: 0 };
  const block = 50;
  try {
    for (let done = 0; done < job.count; done += block) {
      let t = process.hrtime.bigint();
      for (let i = 0; i < block; i++) await chif.exchange(handle, packet());
      us.async += Number(process.hrtime.bigint() - t) / 1000;
      t = process.hrtime.bigint();
      for (let i = 0; i < block; i++) chif.exchangeSync(handle, packet());
      us.sync += Number(process.hrtime.bigint() - t) / 1000;
    }
  } finally {
    await chif.close(handle);
  }
  const n = Math.ceil(job.count / block) * block;
  return { asyncUs: us.async / n, syncUs: us.sync / n };
}

const modes = { 'steady-lib': steadyLib, 'steady-raw': steadyRaw, 'inband-lib': inbandLib, 'inband-hop': inbandHop, crawl: crawlRun };
const run = modes[job.mode];
if (!run) {
  process.stderr.write(`client-worker: unknown mode ${job.mode}\n`);
  process.exit(2);
}
try {
  process.stdout.write(`${JSON.stringify(await run())}\n`);
} catch (error) {
  process.stderr.write(`client-worker (${job.mode}): ${error?.stack ?? error}\n`);
  process.exitCode = 1;
}
