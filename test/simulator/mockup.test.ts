// Serving a DMTF-layout mockup: the captured resources as they are, the sessions always live.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { client } from '../helpers/https-client.js';
import { sharedPath, skipReason } from '../helpers/shared.js';

const MOCKUP = 'mockups/ilo6-dl380a';
const dir = sharedPath(MOCKUP);

function withoutEtag(json: Record<string, unknown>) {
  const { '@odata.etag': _e, ...rest } = json;
  void _e;
  return rest;
}

describe.skipIf(!dir)(dir ? 'the iLO 6 DL380a mockup from ../shared' : skipReason(MOCKUP), () => {
  let sim: Simulator;
  let c: ReturnType<typeof client>;
  let token: string;
  const file = (uri: string) => JSON.parse(readFileSync(join(dir as string, uri.replace(/^\/redfish\/v1\/?/, ''), 'index.json'), 'utf8'));

  beforeAll(async () => {
    sim = await startSimulator({ mockupDir: dir, loginFailureDelayMs: 0 });
    c = client(sim);
    token = (await c.login()).token;
  });
  afterAll(async () => {
    c?.close();
    await sim?.close();
  });

  it.each([
    '/redfish/v1',
    '/redfish/v1/Systems',
    '/redfish/v1/Systems/1',
    '/redfish/v1/Managers',
    '/redfish/v1/Managers/1',
    '/redfish/v1/Registries',
    '/redfish/v1/Registries/Base',
    '/redfish/v1/RegistryStore/registries/en/Base.json',
    '/redfish/v1/RegistryStore/registries/en/iLO.json',
  ])('serves %s as captured (ETag recomputed)', async (uri) => {
    const res = await c.call('GET', uri, { token });
    expect(res.status).toBe(200);
    expect(withoutEtag(res.json)).toEqual(withoutEtag(file(uri)));
    expect(res.json['@odata.etag']).toBe(res.headers.etag);
  });

  it('follows iLO’s lower-case links into the mockup', async () => {
    const system = await c.call('GET', '/redfish/v1/Systems/1', { token });
    const bios = await c.call('GET', system.json.Bios['@odata.id'], { token });
    expect(bios.status).toBe(200);
    expect(bios.json['@odata.id']).toMatch(/^\/redfish\/v1\/systems\/1\/bios\/?$/);
  });

  it('serves $metadata as XML', async () => {
    const res = await c.call('GET', '/redfish/v1/$metadata', { token });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/xml');
    expect(res.text).toContain('<edmx:Edmx');
  });

  it('keeps SessionService/Sessions live, never the captured sessions', async () => {
    const captured = file('/redfish/v1/SessionService/Sessions').Members.map((m: { '@odata.id': string }) => m['@odata.id']);
    const live = await c.call('GET', '/redfish/v1/SessionService/Sessions', { token });
    const members = live.json.Members.map((m: { '@odata.id': string }) => m['@odata.id']);
    expect(members).toHaveLength(1);
    expect(members).toEqual([`/redfish/v1/SessionService/Sessions/${sim.sessions()[0]?.id}`]);
    for (const uri of captured) {
      expect(members).not.toContain(uri);
      expect((await c.call('GET', uri, { token })).status).toBe(404);
    }
    const service = await c.call('GET', '/redfish/v1/SessionService', { token });
    expect(service.json.SessionTimeout).toBe(30);
  });

  it('PATCHes the in-memory copy only', async () => {
    const res = await c.call('PATCH', '/redfish/v1/Systems/1', { token, body: { AssetTag: 'simulated' } });
    expect(res.status).toBe(200);
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).json.AssetTag).toBe('simulated');
    expect(file('/redfish/v1/Systems/1').AssetTag).not.toBe('simulated');
  });
});

describe('mockup layouts', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ilo-agent-mockup-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const write = (path: string, json: unknown) => {
    mkdirSync(join(root, path), { recursive: true });
    writeFileSync(join(root, path, 'index.json'), JSON.stringify(json));
  };

  it('reads the <dir>/redfish/v1/... layout', async () => {
    write('redfish/v1', { '@odata.id': '/redfish/v1', Name: 'Tiny', Systems: { '@odata.id': '/redfish/v1/Systems' }, Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } } });
    write('redfish/v1/Systems', { '@odata.id': '/redfish/v1/Systems', Members: [{ '@odata.id': '/redfish/v1/Systems/7' }] });
    write('redfish/v1/Systems/7', { '@odata.id': '/redfish/v1/Systems/7', Id: '7' });
    write('redfish/v1/SessionService/Sessions/captured0000000011111111abcdef0', { '@odata.id': 'captured' });
    const sim = await startSimulator({ mockupDir: root, loginFailureDelayMs: 0 });
    const c = client(sim);
    try {
      expect((await c.call('GET', '/redfish/v1')).json.Name).toBe('Tiny');
      const { token } = await c.login();
      expect((await c.call('GET', '/redfish/v1/Systems/7', { token })).json.Id).toBe('7');
      expect((await c.call('GET', '/redfish/v1/SessionService/Sessions/captured0000000011111111abcdef0', { token })).status).toBe(404);
    } finally {
      c.close();
      await sim.close();
    }
  });

  it('refuses a folder that is not a mockup', async () => {
    await expect(startSimulator({ mockupDir: join(root, 'nothing-here') })).rejects.toThrow(/neither index.json nor redfish\/v1\/index.json/);
  });
});

const ILO5 = 'mockups/ilo5-dl365-gen10plus';
const ilo5 = sharedPath(ILO5);
describe.skipIf(!ilo5)(ilo5 ? 'the iLO 5 3.14 DL365 mockup from ../shared' : skipReason(ILO5), () => {
  it('is served with the ilo5 profile it names, live sessions shaped as its captured ones', async () => {
    const sim = await startSimulator({ mockupDir: ilo5, loginFailureDelayMs: 0 });
    const c = client(sim);
    try {
      expect(sim.state().profile).toBe('ilo5');
      const { res, token, location } = await c.login();
      expect(res.status).toBe(201);
      expect(location).toMatch(/\/redfish\/v1\/SessionService\/Sessions\/administrator[0-9a-f]+$/);
      const root = await c.call('GET', '/redfish/v1', { token });
      const sessions = await c.call('GET', root.json.Links.Sessions['@odata.id'], { token });
      expect(sessions.json['@odata.id']).toBe(root.json.Links.Sessions['@odata.id']); // string-equal, no slash
      expect(sessions.json.Members).toEqual([{ '@odata.id': new URL(location).pathname }]);
      expect(typeof (await c.call('GET', '/redfish/v1/SessionService', { token })).json.SessionTimeout).toBe('number');
      expect((await c.call('DELETE', new URL(location).pathname, { token })).status).toBe(200);
      sim.assertNoSessions();
    } finally {
      c.close();
      await sim.close();
    }
  });
});
