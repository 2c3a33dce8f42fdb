// npm run demo: ilo-agent against the embedded iLO simulator, in-band through the CHIF emulator
// library (the main path) and over HTTPS; then an iLO 7, in-band over its virtual NIC with an
// app-token session made by the emulator library. The session table is read after every step.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../dist/simulator/index.js';
import { openInbandTransport } from '../dist/transport/index.js';

const BIN = fileURLToPath(new URL('../dist/bin/ilo-agent.cjs', import.meta.url));
const EMULATOR = fileURLToPath(new URL('../dist/native/libilorestchif.so', import.meta.url));
// Holds the simulator's CHIF socket and CA only; removed at the end.
const dir = mkdtempSync(join(tmpdir(), 'ilo-agent-demo-'));
const sim = await startSimulator({ profile: 'ilo6', loginFailureDelayMs: 0, chifSocket: join(dir, 'chif.sock') });
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, sim.ca);
// In-band: no --url, HPE's library (here the emulator) and its driver (here the simulator's socket).
process.env.ILO_CHIF_EMULATOR_SOCKET = sim.chifSocket;
const inbandEnv = { ...process.env, ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR };
const httpsEnv = { ...process.env, ILO_URL: sim.url, ILO_USERNAME: 'Administrator', ILO_PASSWORD: 'password' };

const say = (line = '') => process.stdout.write(`${line}\n`);
const table = (of = sim) => {
  const s = of.sessions();
  return s.length === 0 ? '0 sessions' : `${s.length} session(s): ${s.map((x) => `${x.user}/${x.tag} over ${x.transport}`).join(', ')}`;
};
const indent = (text) => text.trimEnd().replace(/^/gm, '     ');

function agent(args, env, { onStart, tls = ['--ca-cert', caFile] } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...tls, '--output', 'pretty', ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
    onStart?.(child);
  });
}

/** What `ilorest --nocache` in-band was seen to do: log in through CHIF, never log out. */
async function naiveInbandRun() {
  const transport = await openInbandTransport({ libraryPath: EMULATOR, credentials: null });
  const body = Buffer.from(JSON.stringify({ UserName: null, Password: null }));
  await transport.request({ method: 'POST', path: '/redfish/v1/SessionService/Sessions/', headers: { 'Content-Type': 'application/json' }, body });
  await transport.request({ method: 'GET', path: '/redfish/v1/Systems/1' });
  await transport.close(); // ... and no DELETE
}

const until = async (fn, what = 'the demo step', timeoutMs = 15_000) => {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Last part: doctor on a healthy set-up, then on a broken one (no --ca-cert), with the fix. */
async function doctorPart() {
  say('7. ilo-agent doctor: every check on the way to the iLO, each with what was found (HTTPS, healthy)');
  const healthy = await agent(['doctor'], httpsEnv);
  say(indent(healthy.out));
  say(`   exit ${healthy.code}. Table after: ${table()}`);
  say();
  say('8. ilo-agent doctor, broken: no --ca-cert for the iLO\'s self-signed certificate');
  const broken = await agent(['doctor'], httpsEnv, { tls: [] });
  say(indent(broken.out));
  say(`   exit ${broken.code} (5: TLS). Table after: ${table()}`);
  if (healthy.code !== 0 || broken.code !== 5 || sim.sessions().length !== 0) throw new Error('doctor did not behave as shown');
}

/** Part 5: an iLO 7 (no CHIF): in-band goes over the virtual NIC, logged in by HPE's library. */
async function ilo7Part() {
  const sim7 = await startSimulator({ profile: 'ilo7', loginFailureDelayMs: 0, chifSocket: join(dir, 'chif7.sock') });
  try {
    // The vNIC's certificate names the iLO, not the address dialled: trusted by CA and that name.
    // (On a real host, with 16.1.15.2/30 on the USB NIC, no TLS option is needed: link-bound.)
    const vnicCaFile = join(dir, 'vnic-ca.pem');
    writeFileSync(vnicCaFile, sim7.vnicCa);
    const tls = ['--ca-cert', vnicCaFile, '--tls-servername', 'ilo-simulator.local'];
    // No --url and no user: the emulator library answers DetectILO (iLO 7) and GetSessionID from
    // the simulator's socket; the vNIC address is the simulator's second listener.
    const env7 = { ...process.env, ILO_URL: '', ILO_USERNAME: '', ILO_PASSWORD: '', ILO_CHIF_LIB: EMULATOR, ILO_CHIF_EMULATOR_SOCKET: sim7.chifSocket, ILO_VNIC_URL: sim7.vnicUrl };
    say(`5. Simulated iLO 7 — no CHIF; its virtual NIC at ${sim7.vnicUrl}. ilo-agent get, no --url, no user:`);
    sim7.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1', times: 1 });
    const got = await agent(['get', '/redfish/v1/Systems/1'], env7, {
      tls,
      onStart: async () => {
        await until(() => sim7.faults.held === 1, 'the GET over the vNIC');
        say(`   while the GET is in flight: ${table(sim7)} (made by HPE's GetSessionID from iLOrest's app account)`);
        sim7.faults.release();
      },
    });
    say(`   exit ${got.code}, read ${JSON.parse(got.out)['@odata.id']}. Table after: ${table(sim7)}`);
    const info = await agent(['info'], env7, { tls });
    say('   ilo-agent info, its connection block:');
    say(indent(JSON.stringify(JSON.parse(info.out).connection, null, 2)));
    say(`   exit ${info.code}. Table after: ${table(sim7)}`);
    say();

    say('6. iLO 7, the CLI SIGKILLed in the middle of a request: its guardian deletes the app-token session.');
    sim7.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/Managers/1' });
    let killedAt = 0;
    const killed = await agent(['get', '/redfish/v1/Managers/1'], env7, {
      tls,
      onStart: async (child) => {
        await until(() => sim7.faults.held === 1, 'the GET over the vNIC');
        say(`   while the GET is in flight: ${table(sim7)}`);
        killedAt = Date.now();
        process.kill(-child.pid, 'SIGKILL');
      },
    });
    await until(() => sim7.sessions().length === 0, 'the guardian to delete the session', 10_000);
    say(`   killed (${killed.code === null ? 'SIGKILL' : `exit ${killed.code}`}); ${Date.now() - killedAt} ms later the guardian had deleted it. Table after: ${table(sim7)}`);
    sim7.faults.release();
    if (sim7.sessions().length !== 0) throw new Error('a session was left behind on the iLO 7');
  } finally {
    await sim7.close();
  }
}

try {
  say(`Simulated iLO 6 — HTTPS at ${sim.url}, CHIF through ${EMULATOR}`);
  say();
  say('1. In-band, side by side: three runs of a naive client (log in, never log out) and three of ilo-agent.');
  for (let i = 1; i <= 3; i++) {
    await naiveInbandRun();
    say(`   naive client, run ${i}:  table now ${table()}`);
  }
  for (let i = 1; i <= 3; i++) {
    const r = await agent(['get', '/redfish/v1/Systems/1'], inbandEnv);
    say(`   ilo-agent get, run ${i} (exit ${r.code}, ${JSON.parse(r.out).Model}):  table now ${table()}`);
  }
  say('   The naive client left its sessions; ilo-agent added none.');
  say();

  say('2. In-band, killed in the middle of a request (the iLO holds the GET; SIGTERM arrives).');
  sim.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/Managers/1' });
  const before = sim.sessions().length;
  const killed = await agent(['get', '/redfish/v1/Managers/1'], inbandEnv, {
    onStart: async (child) => {
      await until(() => sim.faults.held === 1);
      say(`   while the GET is in flight: ${sim.sessions().length - before} session of ours`);
      process.kill(-child.pid, 'SIGTERM');
    },
  });
  sim.faults.release();
  say(`   ${killed.err.trim()}`);
  say(`   exit ${killed.code} (128+15); sessions of ours left: ${sim.sessions().length - before}`);
  say();

  say('3. Cleaning up what the naive client left: ilo-agent sessions prune --tag RESTHost --yes (in-band)');
  const prune = await agent(['sessions', 'prune', '--tag', 'RESTHost', '--yes'], inbandEnv);
  say(indent(prune.out));
  say(`   exit ${prune.code}. Table after: ${table()}`);
  say();

  say('4. The same agent out-of-band: ilo-agent --url https://... info');
  const info = await agent(['info'], httpsEnv);
  say(indent(info.out));
  say(`   exit ${info.code}. Table after: ${table()}`);
  if (sim.sessions().length !== 0) throw new Error('a session was left behind');
  say();
  await ilo7Part();
  say();
  await doctorPart();
} finally {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}
