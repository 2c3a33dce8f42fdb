// `ilo-agent simulate` as a child process: the ready line, stdout/stderr split, signals, options.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { client } from '../helpers/https-client.js';
import { killIfRunning, runCli, runToEnd, type Running } from '../helpers/cli.js';
import type { SimulatorInfo } from '../../src/simulator/index.js';

let running: Running | undefined;
afterEach(async () => {
  await killIfRunning(running);
  running = undefined;
});

/** The ready line is the simulator's own SimulatorInfo, field for field. */
type Ready = SimulatorInfo;

async function start(args: string[] = []) {
  running = runCli(['simulate', '--port', '0', ...args]);
  const ready = JSON.parse(await running.firstLine) as Ready;
  return { r: running, ready, c: client(ready) };
}

describe('ilo-agent simulate', () => {
  it('prints exactly one JSON ready line on stdout and logs JSON to stderr', async () => {
    const { r, ready, c } = await start();
    expect(Object.keys(ready).sort()).toEqual(['ca', 'chifSocket', 'chifTcp', 'control', 'httpUrl', 'url', 'vnicCa', 'vnicUrl']);
    expect(ready.httpUrl).toBeNull();
    expect([ready.vnicUrl, ready.vnicCa]).toEqual([null, null]); // ilo6: no vNIC
    expect(ready.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(ready.control).toMatch(/^[0-9a-f]{48}$/);
    expect(ready.chifSocket).toBeNull();
    expect(ready.chifTcp).toBeNull();

    // a full session cycle against it, watched through the control view
    const headers = { 'X-Sim-Control': ready.control };
    expect((await c.call('GET', '/__sim/state', { headers })).json.sessions).toHaveLength(0);
    const { token, location } = await c.login();
    expect((await c.call('GET', '/__sim/state', { headers })).json.sessions).toHaveLength(1);
    expect((await c.call('DELETE', new URL(location).pathname, { token })).status).toBe(200);
    expect((await c.call('GET', '/__sim/state', { headers })).json.sessions).toHaveLength(0);
    c.close();

    r.signal('SIGTERM');
    const { code } = await r.exited;
    expect(code).toBe(0);
    expect(r.stdout().trimEnd().split('\n')).toHaveLength(1);
    const logs = r.stderr().trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(logs.some((l) => l.msg === 'simulator ready')).toBe(true);
    expect(r.stderr()).not.toContain(token);
    expect(r.stderr()).not.toContain('"password"');
  });

  it('--chif-tcp: the ready line gives the loopback address and the secret, which opens a connection; the logs carry the address only', async () => {
    const { r, ready } = await start(['--chif-tcp', '0']);
    const { address, secret } = ready.chifTcp as { address: string; secret: string };
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(secret).toMatch(/^[0-9a-f]{48}$/);
    const frame = (op: number, payload = Buffer.alloc(0)) => {
      const head = Buffer.alloc(5);
      head.writeUInt32LE(1 + payload.length);
      head[4] = op;
      return Buffer.concat([head, payload]);
    };
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect({ host: '127.0.0.1', port: Number(address.split(':')[1]) });
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.write(Buffer.concat([frame(7, Buffer.from(secret)), frame(1)]));
    });
    expect([...answer]).toEqual([5, 0, 0, 0, 1, 0, 0, 0, 0]); // PING answered rc 0
    r.signal('SIGTERM');
    expect((await r.exited).code).toBe(0);
    expect(r.stderr()).toContain(address);
    expect(r.stderr()).not.toContain(secret);
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('stops cleanly on %s', async (sig) => {
    const { r, ready } = await start();
    const c = client(ready);
    await c.login();
    c.close();
    r.signal(sig);
    const { code, signal } = await r.exited;
    // the signal arrived and was handled (not the default action, which would kill the process)
    expect(signal).toBeNull();
    expect(code).toBe(0);
    const logs = r.stderr().trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'stopping on signal', signal: sig }));
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'simulator closed' }));
  });

  it('applies its options: profile, cap, limit status, users, faults', async () => {
    const { r, ready, c } = await start([
      '--profile', 'ilo7', '--max-sessions', '1', '--limit-status', '403', '--vnic-host', '127.0.0.2',
      '--users', 'alice:s3cret:with-colon,bob:pw', '--fault', 'type=status503,on=request,times=1', '--log-level', 'warn',
    ]);
    const { token } = await c.login('alice', 's3cret:with-colon');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect((await c.login('bob', 'pw')).res.status).toBe(403);
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(503);
    const root = await c.call('GET', '/redfish/v1/');
    expect(root.json.Oem.Hpe.Manager[0].ManagerType).toBe('iLO 7');
    // ilo7: the vNIC listener, its own certificate, iLOrest's account present by default
    expect(ready.vnicUrl).toMatch(/^https:\/\/127\.0\.0\.2:\d+$/);
    expect(ready.vnicCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const state = await c.call('GET', '/__sim/state', { headers: { 'X-Sim-Control': ready.control } });
    expect(state.json.app).toMatchObject({ vnicUrl: ready.vnicUrl, accounts: { tpm: [{ name: 'self_register', active: true }] } });
    c.close();
    r.signal('SIGTERM');
    expect((await r.exited).code).toBe(0);
    expect(r.stderr()).toBe(''); // --log-level warn: nothing to say
  });

  it('applies --vnic off and --app-account', async () => {
    const { r, ready, c } = await start(['--profile', 'ilo7', '--vnic', 'off', '--app-account', 'inactive']);
    expect(ready.vnicUrl).toBeNull();
    const state = await c.call('GET', '/__sim/state', { headers: { 'X-Sim-Control': ready.control } });
    expect(state.json.app.accounts.tpm).toEqual([expect.objectContaining({ active: false })]);
    c.close();
    r.signal('SIGTERM');
    expect((await r.exited).code).toBe(0);
  });

  it('expires sessions after --session-timeout', async () => {
    const { r, ready, c } = await start(['--session-timeout', '1s']);
    const { token } = await c.login();
    // Wait on the table (reading it does not touch the session), not on a clock.
    const control = { headers: { 'X-Sim-Control': ready.control } };
    while ((await c.call('GET', '/__sim/state', control)).json.sessions.length > 0) await new Promise((res) => setTimeout(res, 50));
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(401);
    expect((await c.call('GET', '/__sim/state', { headers: { 'X-Sim-Control': ready.control } })).json.sessionTimeoutSeconds).toBe(1);
    c.close();
    r.signal('SIGTERM');
    await r.exited;
  });

  it('--post-seconds: a restart keeps the host in POST that long, then FinishedPost', async () => {
    const { r, c } = await start(['--post-seconds', '3']);
    const { token } = await c.login();
    const post = async () => (await c.call('GET', '/redfish/v1/Systems/1', { token })).json.Oem.Hpe.PostState as string;
    expect((await c.call('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { token, body: { ResetType: 'ForceRestart' } })).status).toBe(200);
    const seen = new Set<string>();
    for (let state = await post(); seen.add(state) && state !== 'FinishedPost'; state = await post()) await new Promise((res) => setTimeout(res, 50));
    expect(seen.has('InPost') || seen.has('InPostDiscoveryComplete')).toBe(true);
    c.close();
    r.signal('SIGTERM');
    await r.exited;
  }, 30_000);

  it('--http-port: the ready line names the plain-HTTP listener, which redirects to url', async () => {
    const { r, ready, c } = await start(['--http-port', '0']);
    expect(ready.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${ready.httpUrl}/redfish/v1/`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe(`${ready.url}/redfish/v1/`);
    c.close();
    r.signal('SIGTERM');
    expect((await r.exited).code).toBe(0);
  });

  it.each([
    [['--http-port', '70000'], /--http-port/],
    [['--post-seconds', '-1'], /--post-seconds/],
    [['--port', 'eighty'], /--port/],
    [['--profile', 'ilo4'], /--profile/],
    [['--vnic', 'maybe'], /--vnic/],
    [['--vnic-port', '70000'], /--vnic-port/],
    [['--app-account', 'lost'], /--app-account/],
    [['--session-timeout', '5 minutes'], /duration/],
    [['--users', 'nobody'], /name:password/],
    [['--fault', 'type=explode'], /fault type must be one of/],
    [['--mockup', '/nonexistent/mockup'], /neither index.json/],
  ])('refuses %j with exit 2 and a clear message, printing nothing on stdout', async (args, message) => {
    const { code, stdout, stderr } = await runToEnd(['simulate', ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses an address it cannot listen on with a clear error', async () => {
    const { code, stdout, stderr } = await runToEnd(['simulate', '--host', '203.0.113.1', '--log-level', 'silent']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/cannot listen on 203\.0\.113\.1:0: EADDRNOTAVAIL/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
