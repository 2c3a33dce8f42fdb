// Session edge cases that no simulator fault produces, driven through a scripted transport.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LogoutError, ProtocolError, RedfishError } from '../../src/errors.js';
import { sessionPathOf, Session } from '../../src/session/index.js';
import type { TransportRequest, TransportResponse } from '../../src/transport/index.js';
import { json, scripted } from '../helpers/scripted-transport.js';

const credentials = { username: 'admin', password: 'Zq9-canary-secret' };
const TOKEN = 'c3c5f437f94bc24428fe930bbf50904f';
const basicOf = (r: TransportRequest) => r.headers?.Authorization;

describe('sessionPathOf (a Location or @odata.id, checked once)', () => {
  it.each([
    ['https://10.0.0.5/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4/', '/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4/'],
    ['https://ilo.example.com:8443/redfish/v1/SessionService/Sessions/x', '/redfish/v1/SessionService/Sessions/x'],
    // IPv6 link-local with a zone id: python-ilorest-library#176
    ['https://[fe80::1%25eth0]/redfish/v1/SessionService/Sessions/x', '/redfish/v1/SessionService/Sessions/x'],
    // reached through a port-forward, Location names the iLO's own address: #114
    ['https://192.168.1.10/redfish/v1/SessionService/Sessions/y', '/redfish/v1/SessionService/Sessions/y'],
    ['/redfish/v1/SessionService/Sessions/z', '/redfish/v1/SessionService/Sessions/z'],
    ['/redfish/v1/sessionservice/sessions/z', '/redfish/v1/sessionservice/sessions/z'],
    ['/redfish/v1/SessionService/Sessions/system%20administrator000000005b76e3a1849ba511/', '/redfish/v1/SessionService/Sessions/system%20administrator000000005b76e3a1849ba511/'],
  ])('%s → %s', (location, path) => {
    expect(sessionPathOf(location)).toBe(path);
  });

  it.each([
    '',
    'not a url',
    'https://host-only',
    '::::',
    // a network-path reference: the authority would be another host
    '//evil.example/redfish/v1/SessionService/Sessions/x',
    // dot segments, literal or encoded, and encoded separators
    '/redfish/v1/SessionService/Sessions/x/..',
    '/redfish/v1/SessionService/Sessions/x/../../../AccountService/Accounts/1',
    '/redfish/v1/SessionService/Sessions/./x',
    '/redfish/v1/SessionService/Sessions/x%2F..%2F..',
    '/redfish/v1/SessionService/Sessions/%2e%2e',
    '/redfish/v1/SessionService/Sessions/x%5C..',
    '/redfish/v1/SessionService/Sessions/x%00',
    '/redfish/v1/SessionService/Sessions/x%zz',
    // outside the Sessions collection, or the collection itself
    '/redfish/v1/Systems/1',
    '/redfish/v1/SessionService/Sessions',
    '/redfish/v1/SessionService/Sessions/',
    '/redfish/v1/SessionService/Sessions/a/b',
    '/redfish/v1/SessionService/SessionsX/a',
    // query, fragment, odd characters, other schemes
    'https://h/redfish/v1/SessionService/Sessions/q?x=1',
    '/redfish/v1/SessionService/Sessions/q#f',
    '/redfish/v1/SessionService/Sessions/a b',
    '/redfish/v1/SessionService/Sessions/a\\b',
    '\\\\evil/redfish/v1/SessionService/Sessions/x',
    'ftp://evil/redfish/v1/SessionService/Sessions/x',
    'evil/redfish/v1/SessionService/Sessions/x',
  ])('%j → null, never a throw', (location) => {
    expect(sessionPathOf(location)).toBeNull();
  });

  it('accepts a session of another collection only when that collection is given', () => {
    expect(sessionPathOf('/redfish/v1/Other/Sessions/d4')).toBeNull();
    expect(sessionPathOf('/redfish/v1/Other/Sessions/d4', ['/redfish/v1/Other/Sessions'])).toBe('/redfish/v1/Other/Sessions/d4');
  });
});

describe('Session', () => {
  it('a 2xx login without a token: deletes the session it was told of with Basic, then fails', async () => {
    const { transport, calls } = scripted((r) =>
      r.method === 'POST' ? json(201, {}, { location: '/redfish/v1/SessionService/Sessions/a1' }) : json(200, {}),
    );
    const session = new Session({ transport, credentials });
    await expect(session.open()).rejects.toBeInstanceOf(ProtocolError);
    await session.close();
    const del = calls.find((c) => c.method === 'DELETE');
    expect(del?.path).toBe('/redfish/v1/SessionService/Sessions/a1');
    expect(basicOf(del as TransportRequest)).toBe(`Basic ${Buffer.from('admin:Zq9-canary-secret').toString('base64')}`);
  });

  it('a DELETE refused with 405 (seen on real iLOs) is retried with Basic credentials', async () => {
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') return json(201, {}, { location: '/redfish/v1/SessionService/Sessions/b2', 'x-auth-token': TOKEN });
      if (r.method === 'DELETE' && r.headers?.['X-Auth-Token']) return { status: 405, headers: { allow: 'GET' }, body: new Uint8Array() };
      return json(200, {});
    });
    const session = new Session({ transport, credentials });
    await session.open();
    await session.close();
    const deletes = calls.filter((c) => c.method === 'DELETE');
    expect(deletes).toHaveLength(2);
    expect(basicOf(deletes[1] as TransportRequest)).toMatch(/^Basic /);
    expect(session.state).toBe('closed');
  });

  it('a DELETE that keeps failing is a LogoutError, without token or password in its message', async () => {
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return json(201, {}, { location: '/redfish/v1/SessionService/Sessions/c3', 'x-auth-token': TOKEN });
      return json(500, { error: { '@Message.ExtendedInfo': [{ MessageId: 'Base.1.18.InternalError' }] } });
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const error = await session.close().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogoutError);
    const message = (error as Error).message;
    expect(message).toContain('/redfish/v1/SessionService/Sessions/c3');
    expect(message).toContain('InternalError');
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain('Zq9-canary-secret');
  });

  it('falls back to the service root\'s Links.Sessions when the documented URI is missing', async () => {
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST' && r.path === '/redfish/v1/SessionService/Sessions') return json(404, {});
      if (r.method === 'GET' && r.path === '/redfish/v1/') return json(200, { Links: { Sessions: { '@odata.id': '/redfish/v1/Other/Sessions' } } });
      if (r.method === 'POST') return json(201, {}, { location: '/redfish/v1/Other/Sessions/d4', 'x-auth-token': TOKEN });
      return json(200, {});
    });
    const session = new Session({ transport, credentials });
    await session.open();
    expect(session.path).toBe('/redfish/v1/Other/Sessions/d4');
    await session.close();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /redfish/v1/SessionService/Sessions',
      'GET /redfish/v1/',
      'POST /redfish/v1/Other/Sessions',
      'DELETE /redfish/v1/Other/Sessions/d4',
    ]);
  });

  it('a one-shot cycle costs three round trips: login, request, logout', async () => {
    const { transport, calls } = scripted((r) =>
      r.method === 'POST' ? json(201, {}, { location: 'https://x/redfish/v1/SessionService/Sessions/e5', 'x-auth-token': TOKEN }) : json(200, { ok: true }),
    );
    const session = new Session({ transport, credentials });
    await session.open();
    await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' });
    await session.close();
    expect(calls).toHaveLength(3);
    expect(calls[1]?.headers?.['X-Auth-Token']).toBe(TOKEN);
  });

  it('logs in with null credentials when none are given (in-band, as HPE\'s tools do)', async () => {
    const { transport, calls } = scripted((r) =>
      r.method === 'POST' ? json(201, {}, { location: '/redfish/v1/SessionService/Sessions/f6', 'x-auth-token': TOKEN }) : json(200, {}),
    );
    const session = new Session({ transport, credentials: null });
    await session.open();
    expect(JSON.parse(Buffer.from(calls[0]?.body as Uint8Array).toString())).toEqual({ UserName: null, Password: null });
    await session.close();
  });

  it('close() is idempotent and later requests are refused', async () => {
    const { transport, calls } = scripted((r) =>
      r.method === 'POST' ? json(201, {}, { location: '/redfish/v1/SessionService/Sessions/g7', 'x-auth-token': TOKEN }) : json(200, {}),
    );
    const session = new Session({ transport, credentials });
    await session.open();
    await Promise.all([session.close(), session.close()]);
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
    await expect(session.request({ method: 'GET', path: '/redfish/v1' })).rejects.toMatchObject({ code: 'E_CLOSED' });
  });
  it('in-band without credentials: a token DELETE answered 404 is confirmed on the channel\'s own trust', async () => {
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') return json(201, {}, { location: '/redfish/v1/SessionService/Sessions/h8', 'x-auth-token': TOKEN });
      if (r.method === 'DELETE' && r.headers?.['X-Auth-Token']) return json(404, {});
      return json(200, {});
    }, { kind: 'chif' });
    const released: string[] = [];
    const session = new Session({ transport, credentials: null, observer: { released: () => released.push('released') } });
    await session.open();
    await session.close();
    const deletes = calls.filter((c) => c.method === 'DELETE');
    expect(deletes).toHaveLength(2);
    expect(deletes[1]?.headers).toEqual({});
    expect(released).toEqual(['released']);
  });

  it('a 401 to the token that the channel cannot confirm either: a LogoutError, and not released', async () => {
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return json(201, {}, { location: '/redfish/v1/SessionService/Sessions/i9', 'x-auth-token': TOKEN });
      return json(401, {});
    }, { kind: 'chif' });
    const released: string[] = [];
    const session = new Session({ transport, credentials: null, observer: { released: () => released.push('released') } });
    await session.open();
    await expect(session.close()).rejects.toBeInstanceOf(LogoutError);
    expect(released).toEqual([]);
  });

  it('a service root whose Links.Sessions is not a Sessions collection gets no credentials', async () => {
    const { transport, calls } = scripted((r) => {
      if (r.method === 'GET' && r.path === '/redfish/v1/') return json(200, { Links: { Sessions: { '@odata.id': '/redfish/v1/AccountService/Accounts' } } });
      return json(404, {});
    });
    const session = new Session({ transport, credentials });
    await expect(session.open()).rejects.toBeInstanceOf(RedfishError);
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/redfish/v1/SessionService/Sessions']);
    await session.close();
  });
  it('401s that arrive while the re-login they call for is on its way wait for it: one login, every request answered', async () => {
    let logins = 0;
    let gets = 0;
    const { transport } = scripted(async (r) => {
      if (r.method === 'POST') {
        logins++;
        if (logins > 1) await sleep(100);
        return json(201, {}, { location: `/redfish/v1/SessionService/Sessions/j${logins}`, 'x-auth-token': `t${logins}` });
      }
      if (r.method === 'GET' && r.headers?.['X-Auth-Token'] === 't1') {
        await sleep(20 * gets++);
        return json(401, {});
      }
      return json(200, {});
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const answers = await Promise.all([1, 2, 3].map(() => session.request({ method: 'GET', path: '/redfish/v1/Systems/1' })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(logins).toBe(2);
    await session.close();
  });
});

/**
 * closeSync(), the blocking last resort of a process that is leaving, follows deleteSession's rule:
 * only a 2xx to the token, or a 2xx/404 to Basic or the in-band channel's trust, means gone.
 */
describe('Session.closeSync (after a failed logout)', () => {
  const LOCATION = '/redfish/v1/SessionService/Sessions/s1';
  /** A transport of `kind` with a blocking requestSync answered by `answerSync`; the async DELETEs all fail with 500. */
  function withSync(kind: 'https' | 'chif', answerSync: (r: TransportRequest) => TransportResponse) {
    const { transport } = scripted((r) => (r.method === 'POST' ? json(201, {}, { location: LOCATION, 'x-auth-token': TOKEN }) : json(500, {})), { kind });
    const syncCalls: TransportRequest[] = [];
    // As on the CHIF transport, requestSync is a method that needs its `this`.
    const withSyncTransport = {
      ...transport,
      syncCalls,
      requestSync(this: { syncCalls: TransportRequest[] }, r: TransportRequest): TransportResponse {
        this.syncCalls.push(r);
        return answerSync(r);
      },
    };
    return { transport: withSyncTransport, syncCalls };
  }

  it('in-band: a 401 to the token is confirmed gone by a 404 on the channel\'s trust; released once', async () => {
    const { transport, syncCalls } = withSync('chif', (r) => (r.headers?.['X-Auth-Token'] ? json(401, {}) : json(404, {})));
    const released: string[] = [];
    const session = new Session({ transport, credentials: null, observer: { released: () => released.push('released') } });
    await session.open();
    await expect(session.close()).rejects.toBeInstanceOf(LogoutError);
    expect(session.path).toBe(LOCATION);
    expect(released).toEqual([]);
    expect(session.closeSync()).toBe(true);
    expect(syncCalls.map((c) => [c.method, c.path, c.headers])).toEqual([
      ['DELETE', LOCATION, { 'X-Auth-Token': TOKEN }],
      ['DELETE', LOCATION, {}],
    ]);
    expect(released).toEqual(['released']);
    expect(session.path).toBeNull();
    expect(session.closeSync()).toBe(false); // nothing left: no second DELETE
    expect(syncCalls).toHaveLength(2);
  });

  it('in-band, the password is forgotten at close: the fallback is the channel\'s trust, whose 401 is no proof; the session is kept for another try', async () => {
    let channelAnswer = 401;
    const { transport, syncCalls } = withSync('chif', (r) => (r.headers?.['X-Auth-Token'] ? json(404, {}) : json(channelAnswer, {})));
    const session = new Session({ transport, credentials });
    await session.open();
    await expect(session.close()).rejects.toBeInstanceOf(LogoutError);
    expect(session.closeSync()).toBe(false);
    expect(syncCalls.map((c) => c.headers)).toEqual([{ 'X-Auth-Token': TOKEN }, {}]);
    expect(session.path).toBe(LOCATION);
    channelAnswer = 204;
    expect(session.closeSync()).toBe(true);
    expect(session.path).toBeNull();
  });

  it('without credentials over HTTPS, a 404 or 401 to the token leaves the session unconfirmed: not deleted', async () => {
    const { transport, syncCalls } = withSync('https', () => json(404, {}));
    const released: string[] = [];
    const session = new Session({ transport, credentials: null, observer: { released: () => released.push('released') } });
    await session.open();
    await expect(session.close()).rejects.toBeInstanceOf(LogoutError);
    expect(session.closeSync()).toBe(false);
    expect(syncCalls).toHaveLength(1);
    expect(session.path).toBe(LOCATION);
    expect(released).toEqual([]);
  });
});
