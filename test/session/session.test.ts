// Session edge cases that no simulator fault produces, driven through a scripted transport.
import { describe, expect, it } from 'vitest';
import { LogoutError, ProtocolError } from '../../src/errors.js';
import { pathOfLocation, Session } from '../../src/session/index.js';
import type { Transport, TransportRequest, TransportResponse } from '../../src/transport/index.js';

type Handler = (request: TransportRequest) => TransportResponse | Promise<TransportResponse>;

function scripted(handler: Handler) {
  const calls: TransportRequest[] = [];
  const transport: Transport = {
    kind: 'https',
    description: 'https://scripted',
    async request(request) {
      calls.push(request);
      return handler(request);
    },
    async close() {},
  };
  return { transport, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): TransportResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});
const credentials = { username: 'admin', password: 'Zq9-canary-secret' };
const TOKEN = 'c3c5f437f94bc24428fe930bbf50904f';
const basicOf = (r: TransportRequest) => r.headers?.Authorization;

describe('pathOfLocation', () => {
  it.each([
    ['https://10.0.0.5/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4/', '/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4/'],
    ['https://ilo.example.com:8443/redfish/v1/SessionService/Sessions/x', '/redfish/v1/SessionService/Sessions/x'],
    // IPv6 link-local with a zone id: python-ilorest-library#176
    ['https://[fe80::1%25eth0]/redfish/v1/SessionService/Sessions/x', '/redfish/v1/SessionService/Sessions/x'],
    // reached through a port-forward, Location names the iLO's own address: #114
    ['https://192.168.1.10/redfish/v1/SessionService/Sessions/y', '/redfish/v1/SessionService/Sessions/y'],
    ['/redfish/v1/SessionService/Sessions/z', '/redfish/v1/SessionService/Sessions/z'],
    ['/redfish/v1/SessionService/Sessions/system%20administrator000000005b76e3a1849ba511/', '/redfish/v1/SessionService/Sessions/system%20administrator000000005b76e3a1849ba511/'],
    ['https://h/redfish/v1/SessionService/Sessions/q?x=1', '/redfish/v1/SessionService/Sessions/q'],
  ])('%s → %s', (location, path) => {
    expect(pathOfLocation(location)).toBe(path);
  });

  it.each(['', 'not a url', 'https://host-only', '::::'])('%j → null, never a throw', (location) => {
    expect(pathOfLocation(location)).toBeNull();
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
});
