// HTTP as iLO speaks it, beyond sessions: ETags and conditional requests, Allow, what a PATCH may
// write, chunked answers, Location without a default port, LoginFailureDelay, unknown methods
// and a ResourceDirectory that lists what exists.
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { requireRoot } from '../helpers/planted-library.js';
import { sharedPath, skipReason } from '../helpers/shared.js';

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

const SYSTEM = '/redfish/v1/Systems/1';
const info = (json: { error: { '@Message.ExtendedInfo': unknown } }) => json.error['@Message.ExtendedInfo'];

describe('ETags', () => {
  it('are stable for an unchanged resource (header and @odata.etag alike) and new after a change', async () => {
    const a = await c.call('GET', SYSTEM, { token });
    const b = await c.call('GET', SYSTEM, { token });
    expect(a.headers.etag).toMatch(/^W\/"[0-9A-F]{8}"$/);
    expect(b.headers.etag).toBe(a.headers.etag);
    expect(a.json['@odata.etag']).toBe(a.headers.etag);
    expect((await c.call('PATCH', SYSTEM, { token, body: { AssetTag: 'etag-1' } })).status).toBe(200);
    const after = await c.call('GET', SYSTEM, { token });
    expect(after.headers.etag).not.toBe(a.headers.etag);
    expect(after.json['@odata.etag']).toBe(after.headers.etag);
  });

  it('of a session and of the Sessions collection stay put across reads (AccessTime moves, the ETag does not)', async () => {
    const me = await c.login();
    const path = new URL(me.location).pathname;
    const first = await c.call('GET', path, { token: me.token });
    const second = await c.call('GET', path, { token });
    expect(second.json.Oem.Hpe.MySession).toBe(false);
    expect(second.headers.etag).toBe(first.headers.etag);
    const list1 = await c.call('GET', '/redfish/v1/SessionService/Sessions', { token });
    const list2 = await c.call('GET', '/redfish/v1/SessionService/Sessions', { token: me.token });
    expect(list2.headers.etag).toBe(list1.headers.etag);
    // A member gone is a change of the collection.
    const ifMatch = { 'If-Match': String(first.headers.etag) };
    expect((await c.call('DELETE', path, { token, headers: ifMatch })).status).toBe(200);
    expect((await c.call('GET', '/redfish/v1/SessionService/Sessions', { token })).headers.etag).not.toBe(list1.headers.etag);
  });

  it('iLO 7 writes them as decimals', async () => {
    const seven = await startSimulator({ profile: 'ilo7', loginFailureDelayMs: 0 });
    const c7 = client(seven);
    try {
      const t = (await c7.login()).token;
      const res = await c7.call('GET', SYSTEM, { token: t });
      expect(res.headers.etag).toMatch(/^W\/"\d+"$/);
      expect((await c7.call('GET', SYSTEM, { token: t })).headers.etag).toBe(res.headers.etag);
      await c7.call('DELETE', new URL((await c7.call('GET', '/redfish/v1/SessionService/Sessions', { token: t })).json.Oem.Hpe.Links.MySession['@odata.id'], seven.url).pathname, { token: t });
    } finally {
      c7.close();
      await seven.close();
    }
  });
});

describe('If-Match and If-None-Match', () => {
  it('a stale If-Match on PATCH is 412 PreconditionFailed in iLO’s envelope, and nothing is applied', async () => {
    const before = await c.call('GET', SYSTEM, { token });
    const stale = String(before.headers.etag);
    expect((await c.call('PATCH', SYSTEM, { token, body: { AssetTag: 'moved-on' } })).status).toBe(200);
    const refused = await c.call('PATCH', SYSTEM, { token, body: { AssetTag: 'lost-update' }, headers: { 'If-Match': stale } });
    expect(refused.status).toBe(412);
    expect(info(refused.json)).toEqual([{ MessageId: 'Base.1.18.PreconditionFailed' }]);
    expect(refused.json.error.code).toBe('iLO.0.10.ExtendedInfo');
    expect((await c.call('GET', SYSTEM, { token })).json.AssetTag).toBe('moved-on');
  });

  it('the current ETag (with or without W/, or *) lets the PATCH through', async () => {
    for (const form of ['as sent', 'strong', 'star', 'in a list'] as const) {
      const etag = String((await c.call('GET', SYSTEM, { token })).headers.etag);
      const header = form === 'as sent' ? etag : form === 'strong' ? etag.slice(2) : form === 'star' ? '*' : `W/"00000000", ${etag}`;
      const res = await c.call('PATCH', SYSTEM, { token, body: { AssetTag: `if-match-${form}` }, headers: { 'If-Match': header } });
      expect(res.status, form).toBe(200);
      expect((await c.call('GET', SYSTEM, { token })).json.AssetTag).toBe(`if-match-${form}`);
    }
  });

  it('PUT and DELETE are checked too: a stale tag is 412 and the session lives on', async () => {
    const other = await c.login();
    const path = new URL(other.location).pathname;
    const refused = await c.call('DELETE', path, { token, headers: { 'If-Match': 'W/"DEADBEEF"' } });
    expect(refused.status).toBe(412);
    expect(sim.sessions().some((s) => path.endsWith(s.id))).toBe(true);
    const current = String((await c.call('GET', path, { token })).headers.etag);
    expect((await c.call('DELETE', path, { token, headers: { 'If-Match': current } })).status).toBe(200);

    const settings = '/redfish/v1/Systems/1/Bios/Settings';
    const put = await c.call('PUT', settings, { token, body: { Attributes: { AdminName: 'x' } }, headers: { 'If-Match': 'W/"DEADBEEF"' } });
    expect(put.status).toBe(412);
    expect((await c.call('GET', settings, { token })).json.Attributes.AdminName).toBe('');
  });

  it('If-None-Match: 304 with the ETag and no body on a read that matches, 412 on a write, 200 otherwise', async () => {
    const got = await c.call('GET', '/redfish/v1/Managers/1', { token });
    const etag = String(got.headers.etag);
    const notModified = await c.call('GET', '/redfish/v1/Managers/1', { token, headers: { 'If-None-Match': etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe(etag);
    expect((await c.call('HEAD', '/redfish/v1/Managers/1', { token, headers: { 'If-None-Match': '*' } })).status).toBe(304);
    expect((await c.call('GET', '/redfish/v1/Managers/1', { token, headers: { 'If-None-Match': 'W/"00000000"' } })).status).toBe(200);
    const write = await c.call('PATCH', '/redfish/v1/Managers/1', { token, body: { Oem: { Hpe: {} } }, headers: { 'If-None-Match': etag } });
    expect(write.status).toBe(412);
    expect(messageIds(write.json)).toEqual(['Base.1.18.PreconditionFailed']);
  });

  it('a stale If-Match on a GET is 412 as well; on a missing resource the 404 stands', async () => {
    expect((await c.call('GET', '/redfish/v1/Chassis/1', { token, headers: { 'If-Match': 'W/"00000000"' } })).status).toBe(412);
    expect((await c.call('GET', '/redfish/v1/Chassis/9', { token, headers: { 'If-Match': 'W/"00000000"' } })).status).toBe(404);
  });

  it('an ETag over 63 bytes is 400 iLO ETagTooLong, nothing applied', async () => {
    const res = await c.call('PATCH', SYSTEM, { token, body: { AssetTag: 'too-long' }, headers: { 'If-Match': `"${'A'.repeat(62)}"` } });
    expect(res.status).toBe(400);
    expect(messageIds(res.json)).toEqual(['iLO.2.30.ETagTooLong']);
    expect((await c.call('GET', SYSTEM, { token })).json.AssetTag).not.toBe('too-long');
  });

  it('are checked after authentication: without a session, 401 whatever the tag', async () => {
    expect((await c.call('GET', SYSTEM, { headers: { 'If-None-Match': '*' } })).status).toBe(401);
  });
});

describe('Allow, and what a PATCH may write', () => {
  it.each([
    ['/redfish/v1/', 'GET, HEAD'],
    ['/redfish/v1/Systems', 'GET, HEAD'],
    [SYSTEM, 'GET, HEAD, PATCH'],
    ['/redfish/v1/Systems/1/Bios', 'GET, HEAD'],
    ['/redfish/v1/Systems/1/Bios/Settings', 'GET, HEAD, PUT, PATCH'],
    ['/redfish/v1/SessionService/Sessions', 'GET, HEAD, POST'],
    ['/redfish/v1/Registries/Base', 'GET, HEAD'],
  ])('GET and HEAD %s carry Allow: %s', async (path, allow) => {
    expect((await c.call('GET', path, { token })).headers.allow).toBe(allow);
    expect((await c.call('HEAD', path, { token })).headers.allow).toBe(allow);
  });

  it('a session’s reads say GET, HEAD, DELETE', async () => {
    const me = await c.login();
    const path = new URL(me.location).pathname;
    expect((await c.call('GET', path, { token: me.token })).headers.allow).toBe('GET, HEAD, DELETE');
    await c.call('DELETE', path, { token: me.token });
  });

  it('a resource with @Redfish.Settings refuses PATCH (405, Allow: GET, HEAD); its settings object takes it', async () => {
    const refused = await c.call('PATCH', '/redfish/v1/Systems/1/Bios', { token, body: { Attributes: { AdminName: 'a' } } });
    expect(refused.status).toBe(405);
    expect(refused.headers.allow).toBe('GET, HEAD');
    const ok = await c.call('PATCH', '/redfish/v1/Systems/1/Bios/Settings', { token, body: { Attributes: { AdminName: 'a' } } });
    expect(ok.status).toBe(200);
    expect((await c.call('GET', '/redfish/v1/Systems/1/Bios', { token })).json.Attributes.AdminName).toBe('');
    expect((await c.call('GET', '/redfish/v1/Systems/1/Bios/Settings', { token })).json.Attributes.AdminName).toBe('a');
  });

  it('read-only properties of the documented list and annotations are PropertyNotWritableOrUnknown, nothing applied', async () => {
    const before = await c.call('GET', SYSTEM, { token });
    const res = await c.call('PATCH', SYSTEM, {
      token,
      body: { AssetTag: 'never', SerialNumber: 'X', PowerState: 'Off', Status: { Health: 'OK' }, Boot: { 'BootSourceOverrideTarget@Redfish.AllowableValues': [] } },
    });
    expect(res.status).toBe(400);
    expect(info(res.json)).toEqual([
      { MessageId: 'iLO.2.30.PropertyNotWritableOrUnknown', MessageArgs: ['SerialNumber'] },
      { MessageId: 'iLO.2.30.PropertyNotWritableOrUnknown', MessageArgs: ['PowerState'] },
      { MessageId: 'iLO.2.30.PropertyNotWritableOrUnknown', MessageArgs: ['Status'] },
      { MessageId: 'iLO.2.30.PropertyNotWritableOrUnknown', MessageArgs: ['Boot/BootSourceOverrideTarget@Redfish.AllowableValues'] },
    ]);
    const after = await c.call('GET', SYSTEM, { token });
    expect(after.json).toEqual(before.json);
    expect(after.headers.etag).toBe(before.headers.etag);
  });
});

describe('framing', () => {
  it('answers are chunked by default, HEAD framed as its GET, an empty body Content-Length: 0', async () => {
    const get = await c.call('GET', SYSTEM, { token });
    expect(get.headers['transfer-encoding']).toBe('chunked');
    expect(get.headers['content-length']).toBeUndefined();
    const head = await c.call('HEAD', SYSTEM, { token });
    expect(head.headers['transfer-encoding']).toBe('chunked');
    const notAllowed = await c.call('DELETE', SYSTEM, { token });
    expect(notAllowed.headers['content-length']).toBe('0');
    expect(notAllowed.headers['transfer-encoding']).toBeUndefined();
  });

  it('several chunks for a large body, read back whole', async () => {
    const tag = 'x'.repeat(10_000);
    expect((await c.call('PATCH', SYSTEM, { token, body: { AssetTag: tag } })).status).toBe(200);
    const raw = await rawExchange(sim, `GET ${SYSTEM} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}\r\nConnection: close\r\n\r\n`);
    const [head, framed = ''] = raw.split('\r\n\r\n', 2).length === 2 ? [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)] : [raw];
    expect(head).toMatch(/\r\nTransfer-Encoding: chunked/i);
    const sizes: number[] = [];
    let body = '';
    for (let at = 0; ; ) {
      const eol = framed.indexOf('\r\n', at);
      const size = parseInt(framed.slice(at, eol), 16);
      sizes.push(size);
      if (size === 0) break;
      body += framed.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
    expect(sizes.length).toBeGreaterThan(3);
    expect(JSON.parse(body).AssetTag).toBe(tag);
  });

  it('contentLength: true frames with Content-Length instead', async () => {
    const other = await startSimulator({ loginFailureDelayMs: 0, contentLength: true });
    const oc = client(other);
    try {
      const res = await oc.call('GET', '/redfish/v1/');
      expect(res.headers['transfer-encoding']).toBeUndefined();
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
    } finally {
      oc.close();
      await other.close();
    }
  });
});

describe('the rest of iLO’s HTTP', () => {
  it('a method Node does not know gets 405 with Allow, not Node’s 400', async () => {
    const raw = await rawExchange(sim, 'FROB /redfish/v1/ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 405 /);
    expect(raw).toMatch(/\r\nAllow: GET, HEAD, POST, PATCH, DELETE\r\n/);
    const options = await c.call('OPTIONS', SYSTEM, { token });
    expect(options.status).toBe(405);
    expect(options.headers.allow).toBe('GET, HEAD, PATCH');
  });

  it('Oem.Hpe.Sessions.LoginFailureDelay shows the delay the next refused login gets, 0 after a good login', async () => {
    const other = await startSimulator({ loginFailureDelayMs: 2_000, loginFailuresBeforeDelay: 1 });
    const oc = client(other);
    try {
      const delay = async () => (await oc.call('GET', '/redfish/v1/')).json.Oem.Hpe.Sessions.LoginFailureDelay;
      expect(await delay()).toBe(0);
      expect((await oc.login('Administrator', 'wrong')).res.status).toBe(401);
      expect(await delay()).toBe(2);
      const good = await oc.login();
      expect(await delay()).toBe(0);
      await oc.call('DELETE', new URL(good.location).pathname, { token: good.token });
    } finally {
      oc.close();
      await other.close();
    }
  });
});

describe.runIf(requireRoot('listening on port 443'))('on port 443 (SKIPPED when not root: the port is privileged)', () => {
  it('Location carries no :443, as an iLO on 443 writes it', async () => {
    // A loopback address of its own, so that parallel runs do not fight over 127.0.0.1:443.
    const host = `127.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    const s = await startSimulator({ host, port: 443, loginFailureDelayMs: 0 });
    const sc = client(s);
    try {
      expect(s.url).toBe(`https://${host}`);
      const { res, token: t } = await sc.login();
      expect(res.headers.location).toMatch(new RegExp(`^https://${host.replaceAll('.', '\\.')}/redfish/v1/SessionService/Sessions/[^/:]+$`));
      await sc.call('DELETE', new URL(String(res.headers.location)).pathname, { token: t });
    } finally {
      sc.close();
      await s.close();
    }
  });
});

const MOCKUP = 'mockups/ilo6-dl380a';
const dir = sharedPath(MOCKUP);
describe.skipIf(!dir)(dir ? 'with the iLO 6 mockup: its ResourceDirectory and schemas' : skipReason(MOCKUP), () => {
  let m: Simulator;
  let mc: ReturnType<typeof client>;
  let mt: string;
  beforeAll(async () => {
    m = await startSimulator({ mockupDir: dir, loginFailureDelayMs: 0 });
    mc = client(m);
    mt = (await mc.login()).token;
  });
  afterAll(async () => {
    mc.close();
    await m.close();
  });

  it('ResourceDirectory lists the live sessions only, with the ETags GETs carry', async () => {
    const res = await mc.call('GET', '/redfish/v1/ResourceDirectory', { token: mt });
    expect(res.status).toBe(200);
    const instances: Array<{ '@odata.id': string; ETag?: string; HttpMethods: string[] }> = res.json.Instances;
    const sessions = instances.filter((i) => /\/Sessions\/[^/]+$/.test(i['@odata.id']));
    expect(sessions.map((i) => i['@odata.id'].split('/').pop())).toEqual(m.sessions().map((s) => s.id));
    expect(sessions[0]?.HttpMethods).toEqual(['GET', 'HEAD', 'DELETE']);
    const system = instances.find((i) => i['@odata.id'] === '/redfish/v1/Systems/1');
    expect(system?.ETag).toBe((await mc.call('GET', '/redfish/v1/Systems/1', { token: mt })).headers.etag);
  });

  it('Allow follows the directory’s HttpMethods (bios read-only, its settings PUT and PATCH)', async () => {
    expect((await mc.call('GET', '/redfish/v1/systems/1/bios', { token: mt })).headers.allow).toBe('GET, HEAD');
    expect((await mc.call('GET', '/redfish/v1/systems/1/bios/settings', { token: mt })).headers.allow).toBe('GET, HEAD, PUT, PATCH');
    expect((await mc.call('PATCH', '/redfish/v1/systems/1/bios', { token: mt, body: {} })).status).toBe(405);
  });

  it('HPE’s schema decides what is writable: a property it marks read-only is refused, a writable one applied', async () => {
    // ComputerSystem.json: AssetTag readonly false, HostingRole has no readonly (not writable), SystemType readonly true.
    const refused = await mc.call('PATCH', '/redfish/v1/Systems/1', { token: mt, body: { AssetTag: 'schema', SystemType: 'Virtual' } });
    expect(refused.status).toBe(400);
    expect(info(refused.json)).toEqual([{ MessageId: 'iLO.2.30.PropertyNotWritableOrUnknown', MessageArgs: ['SystemType'] }]);
    expect((await mc.call('PATCH', '/redfish/v1/Systems/1', { token: mt, body: { AssetTag: 'schema' } })).status).toBe(200);
    expect((await mc.call('GET', '/redfish/v1/Systems/1', { token: mt })).json.AssetTag).toBe('schema');
  });
});

/** One request as raw bytes over TLS (what no HTTP client library would send); the raw answer. */
function rawExchange(s: Simulator, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL(s.url);
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: s.ca }, () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}
