// npm run demo: ilo-agent against the embedded iLO simulator. Shows the session table before,
// during and after real CLI runs: a normal run, a run killed mid-request, and the clean-up of
// sessions that a leaky tool left behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../dist/simulator/index.js';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const sim = await startSimulator({ profile: 'ilo6', loginFailureDelayMs: 0 });
const dir = mkdtempSync(join(tmpdir(), 'ilo-agent-demo-')); // holds only the simulator's CA, removed at the end
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, sim.ca);
const env = { ...process.env, ILO_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' };

const say = (line = '') => process.stdout.write(`${line}\n`);
const table = () => {
  const s = sim.sessions();
  return s.length === 0 ? '0 sessions' : `${s.length} session(s): ${s.map((x) => `${x.id} (${x.user}, ${x.tag})`).join(', ')}`;
};

function agent(args, { onStart } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--ca-cert', caFile, '--output', 'pretty', ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
    onStart?.(child);
  });
}

const until = async (fn) => {
  while (!fn()) await new Promise((r) => setTimeout(r, 10));
};

/** What a leaky tool does: log in, never log out. */
function leakyLogin() {
  const body = JSON.stringify({ UserName: 'Administrator', Password: 'password' });
  return new Promise((resolve, reject) => {
    const req = request(new URL('/redfish/v1/SessionService/Sessions', sim.url), {
      method: 'POST',
      agent: new Agent({ ca: sim.ca }),
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => res.resume().on('end', resolve));
    req.on('error', reject);
    req.end(body);
  });
}

try {
  say(`Simulated iLO 6 at ${sim.url} — session cap ${sim.state().maxSessions}, idle timeout 30 min`);
  say();
  say(`1. A normal run.  Table before: ${table()}`);
  say('   $ ilo-agent info');
  const info = await agent(['info']);
  say(info.out.trimEnd().replace(/^/gm, '   '));
  say(`   exit ${info.code}. Table after: ${table()}`);
  say();

  say('2. Killed in the middle of a request (the iLO holds the GET; SIGTERM arrives).');
  sim.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1' });
  const killed = await agent(['get', '/redfish/v1/Systems/1'], {
    onStart: async (child) => {
      await until(() => sim.faults.held === 1);
      say(`   while the GET is in flight: ${table()}`);
      process.kill(-child.pid, 'SIGTERM');
    },
  });
  say(`   ${killed.err.trim()}`);
  say(`   exit ${killed.code} (128+15). Table after: ${table()}`);
  sim.faults.release();
  say();

  say('3. Another tool logged in three times and never logged out.');
  for (let i = 0; i < 3; i++) await leakyLogin();
  say(`   Table: ${table()}`);
  say('   $ ilo-agent sessions list');
  const list = await agent(['sessions', 'list']);
  say(list.out.trimEnd().replace(/^/gm, '   '));
  say('   $ ilo-agent sessions prune --user Administrator --yes');
  const prune = await agent(['sessions', 'prune', '--user', 'Administrator', '--yes']);
  say(prune.out.trimEnd().replace(/^/gm, '   '));
  say(`   exit ${prune.code}. Table after: ${table()}`);
  if (sim.sessions().length !== 0) throw new Error('a session was left behind');
} finally {
  rmSync(dir, { recursive: true, force: true });
  await sim.close();
}
