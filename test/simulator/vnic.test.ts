// The iLO 7 profile's virtual NIC listener and application accounts (the Redfish side): a second
// HTTPS port serving the same service with its own certificate, the per-instance app-account
// store under AccountService/Oem/Hpe/AppAccounts, and the vNIC fault knobs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { sharedPath, skipReason } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

let sims: Simulator[] = [];
const clients: Array<ReturnType<typeof client>> = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function start(options: SimulatorOptions = {}) {
  const sim = await startSimulator({ profile: 'ilo7', loginFailureDelayMs: 0, ...options });
  sims.push(sim);
  return sim;
}

/** A client of the vNIC that checks the certificate against iLO's name, not the address dialled. */
function vnicClient(sim: Simulator) {
  const c = client({ url: sim.vnicUrl as string, ca: sim.vnicCa as string });
  const agent = new Agent({ ca: sim.vnicCa as string, servername: 'ilo-simulator.local', keepAlive: false });
  clients.push(c);
  return {
    call: (method: string, path: string, options: Parameters<typeof c.call>[2] = {}) => c.call(method, path, { agent, ...options }),
    login: async (user = 'Administrator', password = 'password') => {
      const res = await c.call('POST', '/redfish/v1/SessionService/Sessions', { agent, body: { UserName: user, Password: password } });
      return { res, token: String(res.headers['x-auth-token'] ?? ''), location: String(res.headers.location ?? '') };
    },
  };
}

/** Resolves with the error code of a TCP connect, or 'connected'. */
function tcpConnect(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('the vNIC listener (ilo7)', () => {
  it('serves the same Redfish service on its own port, named in info and state', async () => {
    const sim = await start();
    expect(sim.vnicUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.vnicUrl).not.toBe(sim.url);
    expect(sim.info.vnicUrl).toBe(sim.vnicUrl);
    expect(sim.info.vnicCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(sim.vnicCa).not.toBe(sim.ca);
    expect(sim.state().app.vnicUrl).toBe(sim.vnicUrl);
    const v = vnicClient(sim);
    const root = await v.call('GET', '/redfish/v1');
    expect(root.status).toBe(200);
    expect(root.json.Oem.Hpe.Manager[0].ManagerType).toBe('iLO 7');
  });

  it('presents a certificate that does not name the address it listens on', async () => {
    const sim = await start();
    const strict = client({ url: sim.vnicUrl as string, ca: sim.vnicCa as string });
    clients.push(strict);
    await expect(strict.call('GET', '/redfish/v1')).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    // the main listener's certificate does name it
    const main = client(sim);
    clients.push(main);
    expect((await main.call('GET', '/redfish/v1')).status).toBe(200);
    // and the vNIC's names iLO
    expect((await vnicClient(sim).call('GET', '/redfish/v1')).status).toBe(200);
  });

  it('needs authentication for everything but the service root; accepts sessions and Basic', async () => {
    const sim = await start();
    const v = vnicClient(sim);
    expect((await v.call('GET', '/redfish/v1/')).status).toBe(200);
    const anonymous = await v.call('GET', '/redfish/v1/Systems/1');
    expect(anonymous.status).toBe(401);
    expect(messageIds(anonymous.json)).toEqual(['Base.1.18.NoValidSession']);
    expect((await v.call('GET', '/redfish/v1/Systems/1', { basic: ['Administrator', 'password'] })).status).toBe(200);
    expect((await v.call('GET', '/redfish/v1/Systems/1', { basic: ['Administrator', 'wrong'] })).status).toBe(401);

    const { res, token, location } = await v.login();
    expect(res.status).toBe(201);
    // Location carries the vNIC origin, as iLO writes its own address
    expect(location.startsWith(`${sim.vnicUrl}/redfish/v1/SessionService/Sessions/`)).toBe(true);
    expect((await v.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    const [session] = sim.sessions();
    expect(session).toMatchObject({ user: 'Administrator', transport: 'vnic', transient: false });
    expect((await v.call('DELETE', new URL(location).pathname, { token })).status).toBe(200);
    sim.assertNoSessions();
  });

  it('shares the one session table: global cap, visible from both listeners, expiry', async () => {
    const sim = await start({ maxSessions: 2 });
    const v = vnicClient(sim);
    const main = client(sim);
    clients.push(main);
    const a = await v.login();
    const b = await main.login();
    expect([a.res.status, b.res.status]).toEqual([201, 201]);
    expect((await v.login()).res.status).toBe(503);
    expect((await main.login()).res.status).toBe(503);
    // a vNIC session is an ordinary one: seen and deleted over the other listener
    const list = await main.call('GET', '/redfish/v1/SessionService/Sessions', { token: b.token });
    expect(list.json.Members).toHaveLength(2);
    expect(sim.sessions().map((s) => s.transport).sort()).toEqual(['https', 'vnic']);
    expect(sim.expireSessions()).toBe(2);
    expect((await v.call('GET', '/redfish/v1/Systems/1', { token: a.token })).status).toBe(401);
  });

  it('is absent on ilo6 and with vnic off', async () => {
    const ilo6 = await startSimulator({ profile: 'ilo6' });
    sims.push(ilo6);
    expect([ilo6.vnicUrl, ilo6.vnicCa, ilo6.info.vnicUrl]).toEqual([null, null, null]);
    const off = await start({ vnic: 'off' });
    expect([off.vnicUrl, off.info.vnicUrl, off.state().app.vnicUrl]).toEqual([null, null, null]);
    await expect(startSimulator({ profile: 'ilo7', vnic: 'maybe' as 'on' })).rejects.toThrow(/vnic must be on or off/);
  });

  it('vnicDown refuses connections and cuts open ones; clearing it listens again on the same port', async () => {
    const sim = await start();
    const url = sim.vnicUrl as string;
    expect(await tcpConnect(url)).toBe('connected');
    await sim.app.setFaults({ vnicDown: true });
    expect(await tcpConnect(url)).toBe('ECONNREFUSED');
    expect(sim.state().app.vnicListening).toBe(false);
    expect(sim.app.faults()).toEqual({ vnicDown: true });
    await sim.app.setFaults({ vnicDown: null });
    expect(await tcpConnect(url)).toBe('connected');
    expect((await vnicClient(sim).call('GET', '/redfish/v1')).status).toBe(200);
    // through the control API too
    const main = client(sim);
    clients.push(main);
    const headers = { 'X-Sim-Control': sim.controlToken };
    expect((await main.call('PUT', '/__sim/app-faults', { headers, body: { vnicDown: true } })).json).toEqual({ vnicDown: true });
    expect(await tcpConnect(url)).toBe('ECONNREFUSED');
    expect((await main.call('DELETE', '/__sim/app-faults', { headers })).status).toBe(200);
    expect(await tcpConnect(url)).toBe('connected');
    expect((await main.call('PUT', '/__sim/app-faults', { headers, body: { vnicDwn: true } })).status).toBe(400);
  });

  it('vnicHang accepts the connection and never answers', async () => {
    const sim = await start({ appFaults: { vnicHang: true } });
    const { hostname, port } = new URL(sim.vnicUrl as string);
    const outcome = await new Promise<string>((resolve) => {
      const req = request({ host: hostname, port, path: '/redfish/v1', ca: sim.vnicCa as string, servername: 'ilo-simulator.local', timeout: 1500 });
      req.on('socket', (s) => s.once('connect', () => (req as unknown as { tcp?: boolean }).tcp = true));
      req.on('timeout', () => {
        resolve((req as unknown as { tcp?: boolean }).tcp ? 'tcp-connected-then-silent' : 'no-tcp');
        req.destroy();
      });
      req.on('response', () => resolve('answered'));
      req.on('error', () => undefined);
      req.end();
    });
    expect(outcome).toBe('tcp-connected-then-silent');
    await sim.app.setFaults({ vnicHang: false });
    expect((await vnicClient(sim).call('GET', '/redfish/v1')).status).toBe(200);
  });

  it('vnicTlsFail answers the handshake with bytes that are not TLS', async () => {
    const sim = await start({ appFaults: { vnicTlsFail: true } });
    const error = await vnicClient(sim).call('GET', '/redfish/v1').then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(error?.code ?? error?.message).toMatch(/^ERR_SSL_|EPROTO|ECONNRESET/);
    await sim.app.setFaults({ vnicTlsFail: null });
    expect((await vnicClient(sim).call('GET', '/redfish/v1')).status).toBe(200);
  });

  it('vnicTlsRefuse speaks TLS and refuses the client\'s offer with an alert', async () => {
    const sim = await start({ appFaults: { vnicTlsRefuse: true } });
    const error = await vnicClient(sim).call('GET', '/redfish/v1').then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(error?.code).toMatch(/^EPROTO$|^ERR_SSL_/);
    expect(error?.message).toMatch(/alert protocol version/);
    await sim.app.setFaults({ vnicTlsRefuse: null });
    expect((await vnicClient(sim).call('GET', '/redfish/v1')).status).toBe(200);
  });

  it('validates app fault knobs: a bad one changes nothing', async () => {
    const sim = await start();
    await sim.app.setFaults({ sessionContention: 2 });
    for (const bad of [
      { sessionContention: -1 },
      { sessionCreateThenFail: 0 },
      { sessionCreateThenFail: { rc: -1, times: 0 } },
      { sessionCreateThenFail: { rc: -1, extra: 1 } },
      { vnicDown: 'yes' },
      { generateRc: 1.5 },
      { sessionDelayMs: 10_000_000 },
      { sessionHold: 'during' },
      { ipAddress: 7 },
      { vnicDown: true, nonsense: 1 },
    ]) {
      await expect(sim.app.setFaults(bad as never), JSON.stringify(bad)).rejects.toThrow(/app fault/);
    }
    expect(sim.app.faults()).toEqual({ sessionContention: 2 });
    expect(sim.state().app.vnicListening).toBe(true);
    await sim.app.clearFaults();
    expect(sim.app.faults()).toEqual({});
  });

  it('listens where vnicHost and vnicPort say', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const sim = await start({ vnicHost: '127.0.0.1', vnicPort: port });
    expect(sim.vnicUrl).toBe(`https://127.0.0.1:${port}`);
  });
});

describe('application accounts in Redfish (ilo7)', () => {
  it("lists iLOrest's account (present by default) with a masked id and the creator's privileges", async () => {
    const sim = await start();
    const v = vnicClient(sim);
    const { token } = await v.login();
    const collection = await v.call('GET', '/redfish/v1/AccountService/Oem/Hpe/AppAccounts', { token });
    expect(collection.status).toBe(200);
    expect(collection.json).toMatchObject({ Description: 'iLO Application Accounts', 'Members@odata.count': 1 });
    const uri = collection.json.Members[0]['@odata.id'] as string;
    expect(uri).toMatch(/^\/redfish\/v1\/AccountService\/Oem\/Hpe\/AppAccounts\/\d+$/);
    const member = await v.call('GET', uri, { token });
    expect(member.json).toMatchObject({ '@odata.type': '#HpeiLOAppAccount.v1_0_0.HpeiLOAppAccount', HostAppName: 'iLORest' });
    expect(member.json.HostAppId).toMatch(/^\*{30}00b5$/);
    expect(Object.keys(member.json.Privileges)).toHaveLength(10);
    expect(member.json.Privileges.UserConfigPriv).toBe(true);
    expect((await v.call('GET', uri)).status).toBe(401);
    expect((await v.call('POST', '/redfish/v1/AccountService/Oem/Hpe/AppAccounts', { token, body: {} })).status).toBe(405);

    // DELETE removes iLO's side only: the TPM token stays (an orphan the other way round)
    expect((await v.call('DELETE', uri, { token })).status).toBe(200);
    expect((await v.call('GET', uri, { token })).status).toBe(404);
    expect(sim.app.accounts()).toMatchObject({ ilo: [], tpm: [{ name: 'self_register', active: true }] });
    expect(sim.app.accounts().tpm[0]?.id).toMatch(/^[0-9a-f]{30}00b5$/);
  });

  it.each([
    ['absent', 0, 0],
    ['inactive', 1, 1],
    ['orphan', 0, 1],
  ] as const)('--app-account %s: %i in the TPM, %i in iLO', async (state, tpm, ilo) => {
    const sim = await start({ appAccount: state });
    const accounts = sim.app.accounts();
    expect([accounts.tpm.length, accounts.ilo.length]).toEqual([tpm, ilo]);
    if (state === 'inactive') expect(accounts.tpm[0]?.active).toBe(false);
  });

  it('changes state at run time (control API) and keeps one store per instance', async () => {
    const a = await start();
    const b = await start({ appAccount: 'absent' });
    expect(a.app.accounts().tpm).toHaveLength(1);
    expect(b.app.accounts().tpm).toHaveLength(0);
    const main = client(a);
    clients.push(main);
    const headers = { 'X-Sim-Control': a.controlToken };
    const res = await main.call('PUT', '/__sim/app-account', { headers, body: { state: 'inactive' } });
    expect(res.json.tpm[0].active).toBe(false);
    expect((await main.call('PUT', '/__sim/app-account', { headers, body: { state: 'gone' } })).status).toBe(400);
    expect(b.app.accounts().tpm).toHaveLength(0);
    expect(a.app.accounts().tpm[0]?.id).not.toBe(b.app.accounts().tpm[0]?.id);
  });

  it('is not served on ilo6', async () => {
    const sim = await startSimulator({ profile: 'ilo6' });
    sims.push(sim);
    const c = client(sim);
    clients.push(c);
    const { token } = await c.login();
    expect((await c.call('GET', '/redfish/v1/AccountService/Oem/Hpe/AppAccounts', { token })).status).toBe(404);
  });
});

describe('iLO 7 resources', () => {
  it('the built-in tree has the vNIC host interface, its Ethernet interface, SecureStandard and the AppAccounts link', async () => {
    const sim = await start();
    const v = vnicClient(sim);
    const { token } = await v.login();
    const get = async (path: string) => (await v.call('GET', path, { token })).json;
    const manager = await get('/redfish/v1/Managers/1');
    expect(manager.Oem.Hpe.VirtualNICEnabled).toBe(true);
    expect(manager.HostInterfaces['@odata.id']).toBe('/redfish/v1/Managers/1/HostInterfaces');
    const hostInterface = await get('/redfish/v1/Managers/1/HostInterfaces/1');
    expect(hostInterface).toMatchObject({ HostInterfaceType: 'NetworkHostInterface', InterfaceEnabled: true, ExternallyAccessible: false });
    const nic = await get(hostInterface.ManagerEthernetInterface['@odata.id']);
    expect(nic).toMatchObject({ Id: '3', MACAddress: '0A:CA:FE:F0:0D:04', Oem: { Hpe: { InterfaceType: 'HostInterface' } } });
    expect(nic.IPv4Addresses[0]).toEqual({ Address: '16.1.15.1', AddressOrigin: 'DHCP', SubnetMask: '255.255.255.252' });
    expect((await get('/redfish/v1/Managers/1/SecurityService')).SecurityState).toBe('SecureStandard');
    expect((await get('/redfish/v1/AccountService')).Oem.Hpe.AppAccounts['@odata.id']).toBe('/redfish/v1/AccountService/Oem/Hpe/AppAccounts');
    const root = await get('/redfish/v1');
    expect([root.Oem.Hpe.Manager[0].ManagerType, root.Oem.Hpe.Moniker.PRODGEN]).toEqual(['iLO 7', 'iLO 7']);
  });

  it('with the vNIC off the resources say so; ilo6 has none of them', async () => {
    const off = await start({ vnic: 'off' });
    const c = client(off);
    clients.push(c);
    const { token } = await c.login();
    expect((await c.call('GET', '/redfish/v1/Managers/1', { token })).json.Oem.Hpe.VirtualNICEnabled).toBe(false);
    expect((await c.call('GET', '/redfish/v1/Managers/1/HostInterfaces/1', { token })).json.InterfaceEnabled).toBe(false);
    const ilo6 = await startSimulator({ profile: 'ilo6' });
    sims.push(ilo6);
    const c6 = client(ilo6);
    clients.push(c6);
    const t6 = (await c6.login()).token;
    expect((await c6.call('GET', '/redfish/v1/Managers/1/HostInterfaces', { token: t6 })).status).toBe(404);
  });

  it("--mockup picks the profile from the tree's own service root unless one is given", async () => {
    const root = mkdtempSync(join(tmpdir(), 'sim-gen-'));
    try {
      const tree = (type: string | undefined, prodgen?: string) => {
        const d = mkdtempSync(join(root, 'm-'));
        mkdirSync(d, { recursive: true });
        const hpe: Record<string, unknown> = {};
        if (type) hpe.Manager = [{ ManagerType: type }];
        if (prodgen) hpe.Moniker = { PRODGEN: prodgen };
        writeFileSync(join(d, 'index.json'), JSON.stringify({ '@odata.id': '/redfish/v1', Oem: { Hpe: hpe } }));
        return d;
      };
      const profileOf = async (options: SimulatorOptions) => {
        const s = await startSimulator(options);
        sims.push(s);
        return [s.state().profile, s.vnicUrl === null ? 'no vnic' : 'vnic'];
      };
      expect(await profileOf({ mockupDir: tree('iLO 7') })).toEqual(['ilo7', 'vnic']);
      expect(await profileOf({ mockupDir: tree('iLO 5') })).toEqual(['ilo5', 'no vnic']);
      expect(await profileOf({ mockupDir: tree(undefined, 'iLO 7') })).toEqual(['ilo7', 'vnic']);
      expect(await profileOf({ mockupDir: tree('iLO 9') })).toEqual(['ilo6', 'no vnic']); // unknown: the default
      expect(await profileOf({ mockupDir: tree(undefined) })).toEqual(['ilo6', 'no vnic']);
      expect(await profileOf({ mockupDir: tree('iLO 7'), profile: 'ilo6' })).toEqual(['ilo6', 'no vnic']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  const ILO7 = 'mockups/ilo7-dl340e';
  const ilo7Mockup = sharedPath(ILO7);
  it.skipIf(!ilo7Mockup)(ilo7Mockup ? 'serves the iLO 7 DL340e mockup as ilo7, with live app accounts over the vNIC' : skipReason(ILO7), async () => {
    const sim = await startSimulator({ mockupDir: ilo7Mockup, loginFailureDelayMs: 0 });
    sims.push(sim);
    expect(sim.state().profile).toBe('ilo7');
    const v = vnicClient(sim);
    const { token } = await v.login();
    expect((await v.call('GET', '/redfish/v1/Managers/1/HostInterfaces/1', { token })).json.InterfaceEnabled).toBe(true);
    const apps = await v.call('GET', '/redfish/v1/AccountService/Oem/Hpe/AppAccounts', { token });
    expect(apps.json['Members@odata.count']).toBe(1); // iLOrest's, live (the capture has none)
  });
});

describe('enabling and disabling the vNIC (PATCH, then iLO reset)', () => {
  it('a PATCH answers ResetRequired and changes nothing until Manager.Reset; then the listener follows, on the same port', async () => {
    const sim = await start();
    const main = client(sim);
    clients.push(main);
    const basic: [string, string] = ['Administrator', 'password'];
    const url = sim.vnicUrl as string;
    const patch = await main.call('PATCH', '/redfish/v1/Managers/1', { basic, body: { Oem: { Hpe: { VirtualNICEnabled: false } } } });
    expect(patch.status).toBe(200);
    expect(messageIds(patch.json)).toEqual(['iLO.2.31.ResetRequired']);
    // one setting, shown in both places
    expect((await main.call('GET', '/redfish/v1/Managers/1/HostInterfaces/1', { basic })).json.InterfaceEnabled).toBe(false);
    expect(sim.vnicUrl).toBe(url);
    expect(await tcpConnect(url)).toBe('connected');

    const reset = { ResetType: 'ForceRestart' };
    expect((await main.call('POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', { basic, body: reset })).status).toBe(200);
    await until(() => sim.vnicUrl === null, 'the vNIC to go');
    expect(await tcpConnect(url)).toBe('ECONNREFUSED');
    expect(sim.info.vnicUrl).toBeNull();

    const enable = await main.call('PATCH', '/redfish/v1/Managers/1/HostInterfaces/1', { basic, body: { InterfaceEnabled: true } });
    expect(messageIds(enable.json)).toEqual(['iLO.2.31.ResetRequired']);
    expect((await main.call('GET', '/redfish/v1/Managers/1', { basic })).json.Oem.Hpe.VirtualNICEnabled).toBe(true);
    await main.call('POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', { basic, body: reset });
    await until(() => sim.vnicUrl !== null, 'the vNIC to come back');
    expect(sim.vnicUrl).toBe(url);
    expect((await vnicClient(sim).call('GET', '/redfish/v1')).status).toBe(200);
  });

  it('a simulator started with the vNIC off gets one after enable + reset', async () => {
    const sim = await start({ vnic: 'off' });
    const main = client(sim);
    clients.push(main);
    const basic: [string, string] = ['Administrator', 'password'];
    await main.call('PATCH', '/redfish/v1/Managers/1', { basic, body: { Oem: { Hpe: { VirtualNICEnabled: true } } } });
    expect(sim.vnicUrl).toBeNull();
    await main.call('POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', { basic, body: { ResetType: 'GracefulRestart' } });
    await until(() => sim.vnicUrl !== null, 'the vNIC to start');
    expect(sim.vnicCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect((await vnicClient(sim).call('GET', '/redfish/v1')).status).toBe(200);
  });
});
