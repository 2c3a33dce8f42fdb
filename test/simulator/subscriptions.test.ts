// Event subscriptions: created by POST (201, iLO's Created envelope, Location), listed, read,
// deleted; a bad body refused whole; the methods each answers.
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { sharedPath, skipReason } from '../helpers/shared.js';
import { until } from '../helpers/wait.js';

const COLLECTION = '/redfish/v1/EventService/Subscriptions';
let s: Simulator | undefined;
let c: ReturnType<typeof client> | undefined;
afterEach(async () => {
  c?.close();
  await s?.close();
  s = undefined;
});

async function start(options: SimulatorOptions = {}) {
  s = await startSimulator({ loginFailureDelayMs: 0, ...options });
  c = client(s);
  const { token } = await c.login();
  return (method: string, path: string, body?: unknown) => (c as ReturnType<typeof client>).call(method, path, { token, ...(body === undefined ? {} : { body }) });
}

const BODY = { Destination: 'https://listener.example:8443/events', EventTypes: ['Alert'], Context: 'ops', HttpHeaders: [{ Authorization: 'Bearer secret' }] };

describe('event subscriptions', () => {
  it('POST creates one: 201 Created with Location; it is listed, readable (HttpHeaders never shown), and DELETE ends it', async () => {
    const call = await start();
    const created = await call('POST', COLLECTION, BODY);
    expect(created.status).toBe(201);
    expect(messageIds(created.json)).toEqual(['Base.1.18.Created']);
    const location = new URL(String(created.headers.location), (s as Simulator).url).pathname;
    expect(location).toBe(`${COLLECTION}/1`);
    const list = (await call('GET', COLLECTION)).json;
    expect(list).toMatchObject({ Members: [{ '@odata.id': location }], 'Members@odata.count': 1, Description: 'iLO User Event Subscriptions' });
    const member = await call('GET', location);
    expect(member.json).toMatchObject({ Id: '1', Destination: BODY.Destination, EventTypes: ['Alert'], Context: 'ops', HttpHeaders: [], Protocol: 'Redfish', Name: 'Event Subscription' });
    expect(member.text).not.toContain('secret');
    expect(member.headers.allow).toBe('GET, HEAD, DELETE');
    expect((await call('PATCH', location, { Context: 'x' })).status).toBe(405);
    expect(messageIds((await call('DELETE', location)).json)).toEqual(['Base.1.18.Success']);
    expect((await call('GET', location)).status).toBe(404);
    expect((await call('GET', COLLECTION)).json['Members@odata.count']).toBe(0);
    // Ids are not reused.
    const again = await call('POST', COLLECTION, BODY);
    expect(new URL(String(again.headers.location), (s as Simulator).url).pathname).toBe(`${COLLECTION}/2`);
  });

  it('a bad body is 400 with every problem named, nothing created', async () => {
    const call = await start();
    const res = await call('POST', COLLECTION, { EventTypes: 'Alert', Color: 'red' });
    expect(res.status).toBe(400);
    expect(res.json.error['@Message.ExtendedInfo']).toEqual([
      { MessageId: 'iLO.2.30.PropertyNotWritableOrUnknown', MessageArgs: ['Color'] },
      { MessageId: 'Base.1.18.PropertyMissing', MessageArgs: ['Destination'] },
      { MessageId: 'Base.1.18.PropertyValueTypeError', MessageArgs: ['"Alert"', 'EventTypes'] },
    ]);
    expect(messageIds((await call('POST', COLLECTION, { Destination: 'listener' })).json)).toEqual(['Base.1.18.PropertyValueFormatError']);
    expect((await call('POST', COLLECTION, '{not json')).status).toBe(400);
    expect((await call('GET', COLLECTION)).json['Members@odata.count']).toBe(0);
  });

  it('outlive an iLO reset (which ends every session)', async () => {
    const call = await start();
    expect((await call('POST', COLLECTION, BODY)).status).toBe(201);
    (s as Simulator).resetIlo(0);
    await until(() => (s as Simulator).sessions().length === 0, 'the reset ended the session');
    const cc = c as ReturnType<typeof client>;
    const list = await cc.call('GET', COLLECTION, { basic: ['Administrator', 'password'] });
    expect(list.json['Members@odata.count']).toBe(1);
  });

  it('the collection allows GET, HEAD, POST; an unknown member is 404', async () => {
    const call = await start();
    expect((await call('GET', COLLECTION)).headers.allow).toBe('GET, HEAD, POST');
    const del = await call('DELETE', COLLECTION);
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, HEAD, POST');
    expect((await call('DELETE', `${COLLECTION}/9`)).status).toBe(404);
  });

  const MOCKUP = 'mockups/ilo6-dl380a';
  const dir = sharedPath(MOCKUP);
  it.skipIf(!dir)(dir ? 'on the iLO 6 mockup: created, and listed in the ResourceDirectory' : skipReason(MOCKUP), async () => {
    const call = await start({ mockupDir: dir as string });
    expect((await call('POST', COLLECTION, BODY)).status).toBe(201);
    const directory = (await call('GET', '/redfish/v1/ResourceDirectory')).json;
    const listed = directory.Instances.find((i: { '@odata.id': string }) => i['@odata.id'] === `${COLLECTION}/1`);
    expect(listed).toMatchObject({ HttpMethods: ['GET', 'HEAD', 'DELETE'] });
    expect(listed.ETag).toBe((await call('GET', `${COLLECTION}/1`)).headers.etag);
  });
});
