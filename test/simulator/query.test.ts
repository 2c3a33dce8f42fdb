// OData query options as HPE documents iLO implementing them: $expand (one level, never Links),
// only, $filter on collections, $top/$skip, $select; an unreadable value is 400.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { sharedPath, skipReason } from '../helpers/shared.js';

let sim: Simulator;
let c: ReturnType<typeof client>;
let token: string;
beforeAll(async () => {
  sim = await startSimulator({ loginFailureDelayMs: 0, users: { Administrator: 'password', ops: 'secret1', audit: 'secret2' } });
  c = client(sim);
  token = (await c.login()).token;
});
afterAll(async () => {
  c.close();
  await sim.close();
});
const get = async (path: string) => {
  const res = await c.call('GET', path, { token });
  expect(res.status, `${path}: ${res.text}`).toBe(200);
  return res;
};

describe('$expand', () => {
  it.each(['.', '*', '.($levels=2)', '*($levels=3)', '($levels=1)'])('$expand=%s: members and own links expanded one level, Links never', async (form) => {
    const plain = (await get('/redfish/v1/Systems/1')).json;
    const res = await get(`/redfish/v1/Systems/1?$expand=${encodeURIComponent(form)}`);
    // Own links become the resources, without their own @odata.etag…
    expect(res.json.Bios).toMatchObject({ '@odata.id': '/redfish/v1/systems/1/bios', Name: 'BIOS Current Settings' });
    expect(res.json.Bios['@odata.etag']).toBeUndefined();
    expect(res.json.Storage.Members).toEqual([{ '@odata.id': '/redfish/v1/Systems/1/Storage/DE00A000' }]); // one level only
    // …Links stay links, everything else as it was.
    expect(res.json.Links).toEqual(plain.Links);
    expect(res.json.PowerState).toBe(plain.PowerState);
    expect(res.headers.etag).not.toBe(plain['@odata.etag']);
  });

  it('a collection: its members in full', async () => {
    const res = await get('/redfish/v1/AccountService/Accounts?$expand=.');
    expect(res.json.Members.map((m: { UserName: string }) => m.UserName).sort()).toEqual(['Administrator', 'audit', 'ops']);
    expect(res.json['Members@odata.count']).toBe(3);
  });

  it('~ (Links only) is not implemented by iLO: discarded, the plain answer', async () => {
    const res = await get('/redfish/v1/AccountService/Accounts?$expand=~');
    expect(res.json.Members[0]).toEqual({ '@odata.id': expect.any(String) });
  });

  it('the service root read without credentials is never expanded', async () => {
    const res = await c.call('GET', '/redfish/v1/?$expand=.');
    expect(res.status).toBe(200);
    expect(res.json.Systems).toEqual({ '@odata.id': '/redfish/v1/Systems' });
  });
});

describe('only', () => {
  it('a collection of one member answers the member; of several, the collection', async () => {
    const systems = await get('/redfish/v1/Systems?only');
    expect(systems.json).toMatchObject({ '@odata.id': '/redfish/v1/Systems/1', Id: '1' });
    expect(systems.headers.etag).toBe((await get('/redfish/v1/Systems/1')).headers.etag);
    const accounts = await get('/redfish/v1/AccountService/Accounts?only');
    expect(accounts.json['Members@odata.count']).toBe(3);
  });
});

describe('$filter, $top, $skip on collections', () => {
  it("UserName eq 'ops': the matching member in full, counted", async () => {
    const res = await get(`/redfish/v1/AccountService/Accounts?$filter=${encodeURIComponent("UserName eq 'ops'")}`);
    expect(res.json.Members).toHaveLength(1);
    expect(res.json.Members[0]).toMatchObject({ UserName: 'ops' });
    expect(res.json['Members@odata.count']).toBe(1);
  });

  it('ne, and a nested path with . or /', async () => {
    expect((await get(`/redfish/v1/AccountService/Accounts?$filter=${encodeURIComponent("UserName ne 'ops'")}`)).json['Members@odata.count']).toBe(2);
    const byRole = (await get(`/redfish/v1/AccountService/Accounts?$filter=${encodeURIComponent("UserName gt 'b'")}`)).json;
    expect(byRole.Members.map((m: { UserName: string }) => m.UserName).sort()).toEqual(['ops']);
    const nested = await get(`/redfish/v1/Systems?$filter=${encodeURIComponent("Oem.Hpe.PostState eq 'FinishedPost'")}`);
    expect(nested.json['Members@odata.count']).toBe(1);
    const slashed = await get(`/redfish/v1/Systems?$filter=${encodeURIComponent("Oem/Hpe/PostState eq 'InPost'")}`);
    expect(slashed.json['Members@odata.count']).toBe(0);
  });

  it('$top and $skip slice the members', async () => {
    const all = (await get('/redfish/v1/AccountService/Accounts')).json.Members;
    expect((await get('/redfish/v1/AccountService/Accounts?$top=2')).json).toMatchObject({ Members: all.slice(0, 2), 'Members@odata.count': 2 });
    expect((await get('/redfish/v1/AccountService/Accounts?$skip=2')).json).toMatchObject({ Members: all.slice(2), 'Members@odata.count': 1 });
  });

  it('a value that cannot be read is 400 QueryParameterValueFormatError; $filter on a single resource is discarded', async () => {
    for (const [query, value, option] of [
      [`$filter=${encodeURIComponent('UserName contains ops')}`, 'UserName contains ops', '$filter'],
      ['$top=many', 'many', '$top'],
    ]) {
      const res = await c.call('GET', `/redfish/v1/AccountService/Accounts?${query}`, { token });
      expect(res.status).toBe(400);
      expect(res.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.QueryParameterValueFormatError', MessageArgs: [value, option] }]);
    }
    expect((await get(`/redfish/v1/Systems/1?$filter=${encodeURIComponent("Id eq '2'")}`)).json.Id).toBe('1');
  });
});

describe('$select', () => {
  it('keeps the selected properties (paths with /) and the @odata identity, with an ETag of its own', async () => {
    const full = await get('/redfish/v1/Systems/1');
    const res = await get('/redfish/v1/Systems/1?$select=PowerState,Oem/Hpe/PostState,Nope');
    const { '@odata.etag': etag, ...rest } = res.json;
    expect(rest).toEqual({
      '@odata.context': full.json['@odata.context'],
      '@odata.id': '/redfish/v1/Systems/1',
      '@odata.type': full.json['@odata.type'],
      PowerState: 'On',
      Oem: { Hpe: { PostState: 'FinishedPost' } },
    });
    expect(etag).toBe(res.headers.etag);
    expect(etag).not.toBe(full.headers.etag);
  });

  it('works on the service root without credentials', async () => {
    const res = await c.call('GET', '/redfish/v1/?$select=RedfishVersion');
    expect(Object.keys(res.json).sort()).toEqual(['@odata.context', '@odata.etag', '@odata.id', '@odata.type', 'RedfishVersion']);
  });

  it('with $expand: select applies to the expanded answer', async () => {
    const res = await get('/redfish/v1/Systems/1?$expand=.&$select=Bios/Name');
    expect(res.json.Bios).toEqual({ Name: 'BIOS Current Settings' });
  });
});

const MOCKUP = 'mockups/ilo6-dl380a';
const dir = sharedPath(MOCKUP);
describe.skipIf(!dir)(dir ? 'on the iLO 6 mockup' : skipReason(MOCKUP), () => {
  it('advertises what is implemented; Systems?only is the system, Chassis?only (three) the collection; $expand=. expands members', async () => {
    const m = await startSimulator({ mockupDir: dir as string, loginFailureDelayMs: 0 });
    const mc = client(m);
    try {
      const t = (await mc.login()).token;
      const root = (await mc.call('GET', '/redfish/v1/', { token: t })).json;
      expect(root.ProtocolFeaturesSupported).toMatchObject({ ExpandQuery: { Levels: true, MaxLevels: 1, Links: false }, FilterQuery: true, OnlyMemberQuery: true, SelectQuery: true });
      expect((await mc.call('GET', '/redfish/v1/Systems/?only', { token: t })).json['@odata.type']).toMatch(/^#ComputerSystem\.v/);
      expect((await mc.call('GET', '/redfish/v1/Chassis/?only', { token: t })).json['Members@odata.count']).toBe(3);
      const expanded = await mc.call('GET', '/redfish/v1/Chassis/?$expand=.', { token: t });
      expect(expanded.json.Members[0]['@odata.type']).toMatch(/^#Chassis\.v/);
      expect(messageIds(expanded.json)).toEqual([]);
    } finally {
      mc.close();
      await m.close();
    }
  });
});
