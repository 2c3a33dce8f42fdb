// The resource tree: reads, PATCH as iLO answers it, actions, 405 with Allow, malformed bodies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { until } from '../helpers/wait.js';

let sim: Simulator;
let c: ReturnType<typeof client>;
let token: string;
beforeAll(async () => {
  sim = await startSimulator({ loginFailureDelayMs: 0 });
  c = client(sim);
  token = (await c.login()).token;
});
afterAll(async () => {
  c.close();
  await sim.close();
});

describe('the built-in tree', () => {
  it('looks like an iLO: service root with Oem.Hpe.Manager, a system with storage, a manager, a chassis', async () => {
    const root = await c.call('GET', '/redfish/v1/');
    expect(root.json.Oem.Hpe.Manager[0].ManagerType).toBe('iLO 6');
    expect(root.json.Vendor).toBe('HPE');
    const visit = async (path: string) => {
      const res = await c.call('GET', path, { token });
      expect(res.status, path).toBe(200);
      expect(res.json['@odata.id'].toLowerCase(), path).toBe(path.toLowerCase());
      return res.json;
    };
    const systems = await visit('/redfish/v1/Systems');
    expect(systems.Members).toEqual([{ '@odata.id': '/redfish/v1/Systems/1' }]);
    const system = await visit('/redfish/v1/Systems/1');
    const storage = await visit(system.Storage['@odata.id']);
    const controller = await visit(storage.Members[0]['@odata.id']);
    for (const drive of controller.Drives) await visit(drive['@odata.id']);
    await visit('/redfish/v1/Managers/1');
    await visit('/redfish/v1/Chassis/1');
    const accounts = await visit('/redfish/v1/AccountService/Accounts');
    const account = await visit(accounts.Members[0]['@odata.id']);
    expect(account.UserName).toBe('Administrator');
    expect(account.Password).toBeNull();
  });

  it('every link in the tree resolves', async () => {
    const seen = new Set<string>();
    const queue = ['/redfish/v1'];
    while (queue.length > 0) {
      const path = queue.shift() as string;
      if (seen.has(path.toLowerCase())) continue;
      seen.add(path.toLowerCase());
      const res = await c.call('GET', path, { token });
      expect(res.status, path).toBe(200);
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') {
          for (const [k, inner] of Object.entries(v)) {
            if (k === '@odata.id' && typeof inner === 'string') queue.push(inner);
            else walk(inner);
          }
        }
      };
      walk(res.json);
    }
    expect(seen.size).toBeGreaterThan(15);
  });

  it('matches URIs case-insensitively and tolerates trailing slashes and queries', async () => {
    for (const path of ['/redfish/v1/systems/1/', '/redfish/v1/Systems/1?$select=Id', '/REDFISH/V1/SYSTEMS/1']) {
      const res = await c.call('GET', path, { token });
      expect(res.status, path).toBe(200);
      expect(res.json.Id).toBe('1');
    }
  });

  it('answers 404 ResourceMissingAtURI for unknown paths, with the path as argument', async () => {
    const res = await c.call('GET', '/redfish/v1/Systems/2', { token });
    expect(res.status).toBe(404);
    expect(res.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.ResourceMissingAtURI', MessageArgs: ['/redfish/v1/Systems/2'] }]);
    expect((await c.call('GET', '/redfish/v1/Systems/../../etc/passwd', { token })).status).toBe(404);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await c.call('GET', '/redfish/v1/Chassis/1', { token });
    const head = await c.call('HEAD', '/redfish/v1/Chassis/1', { token });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.etag).toBe(get.headers.etag);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
  });

  it('carries the iLO header set on every answer', async () => {
    const res = await c.call('GET', '/redfish/v1/Managers/1', { token });
    expect(res.headers).toMatchObject({
      'cache-control': 'no-cache',
      'content-type': 'application/json; charset=utf-8',
      'odata-version': '4.0',
      'x-frame-options': 'sameorigin',
    });
    expect(res.json['@odata.etag']).toBe(res.headers.etag);
  });
});

describe('PATCH', () => {
  it('merges into the in-memory copy, answers Base Success, and changes the ETag', async () => {
    const before = await c.call('GET', '/redfish/v1/Systems/1', { token });
    const res = await c.call('PATCH', '/redfish/v1/Systems/1', { token, body: { AssetTag: 'rack-42', Boot: { BootSourceOverrideTarget: 'Pxe' } } });
    expect(res.status).toBe(200);
    expect(messageIds(res.json)).toEqual(['Base.1.18.Success']);
    const after = await c.call('GET', '/redfish/v1/Systems/1', { token });
    expect(after.json.AssetTag).toBe('rack-42');
    expect(after.json.Boot.BootSourceOverrideTarget).toBe('Pxe');
    expect(after.json.Boot.BootSourceOverrideMode).toBe('UEFI'); // untouched sibling kept
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('rejects unknown and read-only properties with iLO’s message, changing nothing', async () => {
    const before = await c.call('GET', '/redfish/v1/Systems/1', { token });
    const res = await c.call('PATCH', '/redfish/v1/Systems/1', { token, body: { AssetTag: 'x', Bogus: 1, Id: '7', Boot: { Nope: true } } });
    expect(res.status).toBe(400);
    expect(res.json.error['@Message.ExtendedInfo']).toEqual([
      { MessageId: 'iLO.2.30.PropertyNotWritableOrUnknown', MessageArgs: ['Bogus'] },
      { MessageId: 'iLO.2.30.PropertyNotWritableOrUnknown', MessageArgs: ['Id'] },
      { MessageId: 'iLO.2.30.PropertyNotWritableOrUnknown', MessageArgs: ['Boot/Nope'] },
    ]);
    const after = await c.call('GET', '/redfish/v1/Systems/1', { token });
    expect(after.json).toEqual(before.json);
  });

  it('rejects a value of the wrong type with PropertyValueTypeError', async () => {
    const res = await c.call('PATCH', '/redfish/v1/Systems/1', { token, body: { AssetTag: 5 } });
    expect(res.status).toBe(400);
    expect(res.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.PropertyValueTypeError', MessageArgs: ['5', 'AssetTag'] }]);
  });

  it('answers 400 MalformedJSON to a body that is not JSON', async () => {
    for (const rawBody of ['{"AssetTag": ', 'not json', '[1,2]']) {
      const res = await c.call('PATCH', '/redfish/v1/Systems/1', { token, rawBody });
      expect(res.status, rawBody).toBe(400);
      expect(messageIds(res.json)).toEqual(['Base.1.18.MalformedJSON']);
    }
  });

  it('changes SessionTimeout (minutes, as iLO) for new sessions', async () => {
    const res = await c.call('PATCH', '/redfish/v1/SessionService', { token, body: { SessionTimeout: 15 } });
    expect(res.status).toBe(200);
    expect((await c.call('GET', '/redfish/v1/SessionService', { token })).json.SessionTimeout).toBe(15);
    expect(sim.state().sessionTimeoutSeconds).toBe(900);
    const fresh = await c.login();
    const body = (await c.call('GET', new URL(fresh.location).pathname, { token: fresh.token })).json;
    expect(Date.parse(body.Oem.Hpe.UserExpires) - Date.parse(body.Oem.Hpe.AccessTime)).toBe(900_000);
    const refused = await c.call('PATCH', '/redfish/v1/SessionService', { token, body: { ServiceEnabled: false } });
    expect(refused.status).toBe(400);
    expect(messageIds(refused.json)).toEqual(['iLO.2.30.PropertyNotWritableOrUnknown']);
    await c.call('PATCH', '/redfish/v1/SessionService', { token, body: { SessionTimeout: 30 } });
    await c.call('DELETE', new URL(fresh.location).pathname, { token: fresh.token });
  });
});

describe('methods', () => {
  it.each([
    ['DELETE', '/redfish/v1/Systems/1', 'GET, HEAD, PATCH'],
    ['POST', '/redfish/v1/Systems', 'GET, HEAD'],
    ['PATCH', '/redfish/v1/Systems', 'GET, HEAD'],
    ['PUT', '/redfish/v1/Chassis/1', 'GET, HEAD, PATCH'],
    ['PATCH', '/redfish/v1/SessionService/Sessions', 'GET, HEAD, POST'],
    ['GET', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', 'POST'],
    ['PATCH', '/redfish/v1/Registries/Base', 'GET, HEAD'],
    ['POST', '/redfish/v1/', 'GET, HEAD'],
  ])('%s %s answers 405 with Allow: %s', async (method, path, allow) => {
    const res = await c.call(method, path, { token, body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.text).toBe('');
  });

  it('runs an action listed by the resource, validating its parameters', async () => {
    const target = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
    const off = await c.call('POST', target, { token, body: { ResetType: 'ForceOff' } });
    expect(off.status).toBe(200);
    expect(messageIds(off.json)).toEqual(['Base.1.18.Success']);
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).json.PowerState).toBe('Off');
    await c.call('POST', target, { token, body: { ResetType: 'On' } });
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).json.PowerState).toBe('On');

    const invalid = await c.call('POST', target, { token, body: { ResetType: 'Explode' } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.PropertyValueNotInList', MessageArgs: ['Explode', 'ResetType'] }]);
    const missing = await c.call('POST', target, { token, body: {} });
    expect(missing.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.ActionParameterMissing', MessageArgs: ['ComputerSystem.Reset', 'ResetType'] }]);
    const unknown = await c.call('POST', target, { token, body: { ResetType: 'On', Force: true } });
    expect(messageIds(unknown.json)).toEqual(['Base.1.18.ActionParameterUnknown']);
    const malformed = await c.call('POST', target, { token, rawBody: '{' });
    expect(messageIds(malformed.json)).toEqual(['Base.1.18.MalformedJSON']);
    expect((await c.call('POST', '/redfish/v1/Systems/1/Actions/Nothing', { token, body: {} })).status).toBe(404);
  });

  it('takes the iLO 4 form HPE\'s ilorest still sends ({"Action": "<name>"}, parameters optional), not another name', async () => {
    const reset = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
    const legacy = await c.call('POST', reset, { token, body: { Action: 'ComputerSystem.Reset', ResetType: 'Nmi' } });
    expect(messageIds(legacy.json)).toEqual(['Base.1.18.Success']);
    expect(messageIds((await c.call('POST', reset, { token, body: { Action: 'ComputerSystem.Reset' } })).json)).toEqual(['Base.1.18.Success']);
    const wrong = await c.call('POST', reset, { token, body: { Action: 'Manager.Reset', ResetType: 'Nmi' } });
    expect(wrong.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.ActionParameterUnknown', MessageArgs: ['ComputerSystem.Reset', 'Action'] }]);
    const bad = await c.call('POST', reset, { token, body: { Action: 'ComputerSystem.Reset', ResetType: 'Sideways' } });
    expect(messageIds(bad.json)).toEqual(['Base.1.18.PropertyValueNotInList']);
  });

  it('ilorest\'s iloreset body ({"Action": "Manager.Reset"}) resets the iLO', async () => {
    const other = await startSimulator({ loginFailureDelayMs: 0 });
    const oc = client(other);
    try {
      const a = await oc.login();
      const res = await oc.call('POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', { token: a.token, body: { Action: 'Manager.Reset' } });
      expect(res.status).toBe(200);
      await until(() => other.sessions().length === 0, 'the iLO reset ended the session');
    } finally {
      oc.close();
      await other.close();
    }
  });

  it('an iLO reset (Manager.Reset) ends every session', async () => {
    const other = await startSimulator({ loginFailureDelayMs: 0 });
    const oc = client(other);
    try {
      const a = await oc.login();
      await oc.login();
      const res = await oc.call('POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', { token: a.token, body: { ResetType: 'ForceRestart' } });
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 20));
      expect(other.sessions()).toHaveLength(0);
      expect((await oc.call('GET', '/redfish/v1/Systems/1', { token: a.token })).status).toBe(401);
    } finally {
      oc.close();
      await other.close();
    }
  });
});
