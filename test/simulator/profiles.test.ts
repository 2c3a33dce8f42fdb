// Per-firmware differences (docs/reference/ilo-sessions.md §5): what a client must cope with across iLO 5/6/7.
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type ProfileName, type Simulator } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';

let sim: Simulator | undefined;
let c: ReturnType<typeof client> | undefined;
afterEach(async () => {
  c?.close();
  await sim?.close();
});

async function start(profile: ProfileName) {
  sim = await startSimulator({ profile, loginFailureDelayMs: 0 });
  c = client(sim);
  return c;
}

describe('ilo5-legacy (older iLO 5 firmware)', () => {
  it('answers the login with a Created envelope and writes URIs with a trailing slash', async () => {
    const c = await start('ilo5-legacy');
    const { res, token, location } = await c.login();
    expect(res.status).toBe(201);
    expect(messageIds(res.json)).toEqual(['Base.1.4.Created']);
    expect(location.endsWith('/')).toBe(true);
    expect(res.headers.link).toMatch(/\/>; rel=self$/);
    const root = await c.call('GET', '/redfish/v1/');
    expect(root.json.Links.Sessions['@odata.id']).toBe('/redfish/v1/SessionService/Sessions/');
    const collection = await c.call('GET', '/redfish/v1/SessionService/Sessions/', { token });
    expect(collection.json['@odata.id']).toBe('/redfish/v1/SessionService/Sessions/');
    expect(collection.json.Members[0]['@odata.id']).toBe(new URL(location).pathname);
    const service = await c.call('GET', '/redfish/v1/SessionService/', { token });
    expect(service.json).not.toHaveProperty('SessionTimeout');
    expect(root.json.Oem.Hpe.Manager[0].ManagerType).toBe('iLO 5');
    const bad = await c.call('GET', '/redfish/v1/Systems/1/', { token: 'f'.repeat(32) });
    expect(messageIds(bad.json)).toEqual(['Base.1.4.NoValidSession']);
    expect(res.headers.etag ?? '').toBe('');
    expect(collection.headers.etag).toMatch(/^W\/"[0-9A-F]{8}"$/);
  });
});

describe('ilo5 (3.14)', () => {
  it('has SessionTimeout, no trailing slashes and current registries, as the iLO 5 3.14 mockup', async () => {
    const c = await start('ilo5');
    const { res, token, location } = await c.login();
    expect(res.status).toBe(201);
    expect(messageIds(res.json)).toEqual(['Base.1.18.Created']);
    expect(location.endsWith('/')).toBe(false);
    const root = await c.call('GET', '/redfish/v1/');
    expect(root.json.Links.Sessions['@odata.id']).toBe('/redfish/v1/SessionService/Sessions');
    expect(root.json.Oem.Hpe.Manager[0]).toMatchObject({ ManagerType: 'iLO 5', ManagerFirmwareVersion: '3.14' });
    const service = await c.call('GET', '/redfish/v1/SessionService', { token });
    expect(service.json.SessionTimeout).toBe(30);
    expect((await c.call('GET', '/redfish/v1/AccountService', { token })).json.HTTPBasicAuth).toBe('Unadvertised');
    const bad = await c.call('GET', '/redfish/v1/Systems/1', { token: 'f'.repeat(32) });
    expect(messageIds(bad.json)).toEqual(['Base.1.18.NoValidSession']);
    const refused = await c.login('Administrator', 'wrong');
    expect(messageIds(refused.res.json)).toEqual(['iLO.2.25.UnauthorizedLoginAttempt']);
  });
});

describe('ilo6 (1.66)', () => {
  it('answers the login with the session itself, MySession false, and no trailing slashes', async () => {
    const c = await start('ilo6');
    const { res, location } = await c.login();
    expect(res.json['@odata.type']).toBe('#Session.v1_0_0.Session');
    expect(res.json.Oem.Hpe.MySession).toBe(false);
    expect(location.endsWith('/')).toBe(false);
    const { token } = await c.login();
    const service = await c.call('GET', '/redfish/v1/SessionService', { token });
    expect(service.json.SessionTimeout).toBe(30);
    expect(service.headers.etag).toMatch(/^W\/"[0-9A-F]{8}"$/);
    const root = await c.call('GET', '/redfish/v1/');
    expect(root.json.Oem.Hpe.Manager[0].ManagerType).toBe('iLO 6');
    const account = await c.call('GET', '/redfish/v1/AccountService', { token });
    expect(account.json.HTTPBasicAuth).toBe('Unadvertised');
  });
});

describe('ilo7 (1.14)', () => {
  it('uses iLO 7 wording and decimal ETags', async () => {
    const c = await start('ilo7');
    const { token } = await c.login();
    const collection = await c.call('GET', '/redfish/v1/SessionService/Sessions', { token });
    expect(collection.json.Description).toBe('Manager User and Application Sessions');
    expect(collection.headers.etag).toMatch(/^W\/"\d+"$/);
    expect(collection.json['@odata.etag']).toBe(collection.headers.etag);
    const root = await c.call('GET', '/redfish/v1/');
    expect(root.json.Oem.Hpe.Manager[0].ManagerType).toBe('iLO 7');
    const manager = await c.call('GET', '/redfish/v1/Managers/1', { token });
    expect(manager.json.GraphicalConsole.MaxConcurrentSessions).toBe(24);
    const bad = await c.call('GET', '/redfish/v1/Systems/1', { token: 'f'.repeat(32) });
    expect(messageIds(bad.json)).toEqual(['Base.1.18.NoValidSession']);
    const refused = await c.login('Administrator', 'wrong');
    expect(messageIds(refused.res.json)).toEqual(['iLO.2.31.UnauthorizedLoginAttempt']);
  });
});
