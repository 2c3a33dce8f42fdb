// RedfishClient, openSession and withSession against the simulator: checks made before
// sending, iLO envelopes as typed errors, collections, and the one session always deleted.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSession, RedfishClient, withSession, type ConnectOptions, type IloClient } from '../../src/client/index.js';
import {
  AbortedError,
  AuthError,
  ClosedError,
  IloAgentError,
  InvalidInputError,
  LogoutError,
  ProtocolError,
  RedfishError,
  SessionLimitError,
} from '../../src/errors.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { openHttpsTransport, type Transport, type TransportRequest, type TransportResponse } from '../../src/transport/index.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { client as httpsClient } from '../helpers/https-client.js';
import { until, rejectionOf } from '../helpers/wait.js';

// ---- helpers ---------------------------------------------------------------------------------

const SESSIONS = '/redfish/v1/SessionService/Sessions';
const sims: Simulator[] = [];
const clients: IloClient[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const s of sims) s.faults.release();
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const c of cleanups.splice(0)) await c();
  for (const s of sims.splice(0)) {
    s.faults.release();
    await s.close();
  }
});

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ loginFailureDelayMs: 0, ...options });
  sims.push(s);
  return s;
}

const login = (s: Simulator, extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
  url: s.url,
  ca: s.ca,
  username: 'Administrator',
  password: 'password',
  ...extra,
});

async function open(s: Simulator, extra: Partial<ConnectOptions> = {}): Promise<IloClient> {
  const c = await openSession(login(s, extra));
  clients.push(c);
  return c;
}



/** An HTTPS transport that remembers every token the iLO handed out. */
function tokenSpy(s: Simulator): { transport: Transport; tokens: Set<string>; sent: TransportRequest[] } {
  const inner = openHttpsTransport({ url: s.url, ca: s.ca });
  const tokens = new Set<string>();
  const sent: TransportRequest[] = [];
  const transport: Transport = {
    kind: inner.kind,
    description: inner.description,
    async request(request: TransportRequest): Promise<TransportResponse> {
      sent.push(request);
      const response = await inner.request(request);
      const token = response.headers['x-auth-token'];
      if (token) tokens.add(token);
      return response;
    },
    close: () => inner.close(),
  };
  return { transport, tokens, sent };
}

const sessionPath = (s: Simulator, profileSlash = false) => {
  const [only] = s.sessions();
  return `${SESSIONS}/${only?.id}${profileSlash ? '/' : ''}`;
};

// ---- checks before sending -----------------------------------------------------------------------

describe('client.request: checks made before anything is sent', () => {
  let s: Simulator;
  let c: IloClient;
  beforeAll(async () => {
    s = await startSimulator({ loginFailureDelayMs: 0 });
    c = await openSession(login(s));
  });
  afterAll(async () => {
    await c?.close();
    s?.assertNoSessions();
    await s?.close();
  });

  const refused = async (method: string, path: string, body?: unknown) => {
    const before = s.state().counters;
    const error = await rejectionOf(c.request(method, path, body === undefined ? {} : { body }));
    expect(error, `${method} ${path}`).toBeInstanceOf(InvalidInputError);
    expect(error.code).toBe('E_INPUT');
    expect(s.state().counters, `${method} ${path}`).toEqual(before);
    expect(s.sessions()).toHaveLength(1);
    return error;
  };

  it.each([
    ['not under /redfish', '/etc/passwd'],
    ['a look-alike prefix', '/redfishx/v1'],
    ['relative', 'redfish/v1/Systems'],
    ['empty', ''],
    ['a full URL', 'https://127.0.0.1/redfish/v1/Systems'],
    ['a protocol-relative URL', '//evil.example/redfish/v1'],
    ['a .. segment', '/redfish/v1/../../etc/passwd'],
    ['a trailing .. segment', '/redfish/v1/Systems/..'],
    ['a . segment', '/redfish/v1/./Systems'],
    ['a space', '/redfish/v1/Systems 1'],
    ['a tab', '/redfish/v1/Systems\t1'],
    ['a newline (header injection)', '/redfish/v1/Systems\r\nX-Evil: 1'],
    ['a NUL', '/redfish/v1/Systems\u00001'],
    ['DEL', '/redfish/v1/Systems\u007f'],
    ['a fragment', '/redfish/v1/Systems#Members'],
    ['an over-long path', `/redfish/v1/${'a'.repeat(2100)}`],
    // What serve and crawl pass on as given: refused as E_INPUT, never an internal error.
    ['a non-Latin-1 character', '/redfish/v1/Σ'],
    ['a non-ASCII query', '/redfish/v1/Systems?x=Σ'],
    ['a Latin-1 character (it would go out as a raw byte)', '/redfish/v1/Syst\u00e9ms'],
    ['an emoji', '/redfish/v1/\u{1F600}'],
    ['a lone surrogate', '/redfish/v1/\ud800'],
    ['a no-break space', '/redfish/v1/a\u00a0b'],
  ])('refuses a path that is %s', async (_what, path) => {
    await refused('GET', path);
  });

  it('refuses unknown methods, and accepts known ones in any case', async () => {
    for (const method of ['FOO', 'TRACE', 'CONNECT', 'OPTIONS', '']) await refused(method, '/redfish/v1/');
    const res = await c.request('get', '/redfish/v1/');
    expect(res.status).toBe(200);
  });

  it.each([
    ['a name with a space', { 'Bad Name': 'x' }],
    ['a name with a colon', { 'X:Y': 'x' }],
    ['a value with a line break (header injection)', { 'X-A': 'a\r\nX-Injected: 1' }],
    ['a value with NUL', { 'X-A': 'a\u0000b' }],
  ])('refuses a request header with %s: E_INPUT above the transports, so HTTPS and CHIF agree', async (_what, headers) => {
    const before = s.state().counters;
    const error = await rejectionOf(c.request('GET', '/redfish/v1/', { headers }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.code).toBe('E_INPUT');
    expect(s.state().counters).toEqual(before);
  });

  it('refuses a body on GET, HEAD and DELETE', async () => {
    await refused('GET', '/redfish/v1/Systems/1', { a: 1 });
    await refused('HEAD', '/redfish/v1/Systems/1', { a: 1 });
    await refused('DELETE', '/redfish/v1/Systems/1', { a: 1 });
    await refused('GET', '/redfish/v1/Systems/1', new Uint8Array([1]));
  });

  it.each([
    SESSIONS,
    `${SESSIONS}/`,
    '/redfish/v1/Sessions',
    '/redfish/v1/Sessions/',
    '/redfish/v1/sessionservice/sessions',
    '/redfish/v1/SESSIONSERVICE/SESSIONS/',
    '/redfish/v1/Sessions?x=1',
    '/redfish/v1/Sessions//',
  ])('refuses a POST to the Sessions collection (%s): it would make a second session', async (path) => {
    const error = await refused('POST', path, { UserName: 'Administrator', Password: 'password' });
    expect(error.message).toMatch(/session/i);
    await refused('post', path, { UserName: 'Administrator', Password: 'password' });
  });

  it('lets through a GET of the Sessions collection, a query and /redfish itself', async () => {
    expect((await c.request('GET', SESSIONS)).status).toBe(200);
    expect((await c.request('GET', '/redfish/v1/Systems?$expand=.')).status).toBe(200);
    expect((await c.request('GET', '/redfish')).status).toBe(200);
  });
});

// Spellings the simulator (like iLO: case-insensitive, %-decoding, tolerant of doubled slashes)
// resolves to a forbidden target. Each test has its own simulator: a miss leaves a session behind.
describe('client.request: equivalent spellings of forbidden targets', () => {
  const refused = async (method: string, path: string, body?: unknown) => {
    const s = await sim();
    const c = await open(s);
    const before = s.state().counters;
    const outcome: unknown = await c.request(method, path, body === undefined ? {} : { body }).then(
      (res) => res,
      (error: unknown) => error,
    );
    const sent = outcome instanceof Error ? '' : ` (it was sent: ${(outcome as { status: number }).status}, sessions now ${s.sessions().length})`;
    expect(outcome, `${method} ${path}${sent}`).toBeInstanceOf(InvalidInputError);
    expect((outcome as IloAgentError).code).toBe('E_INPUT');
    expect(s.state().counters, `${method} ${path}`).toEqual(before);
    expect(s.sessions()).toHaveLength(1);
  };

  it('refuses a %-encoded .. segment (%2e%2e is .. once decoded: it climbs out of /redfish)', async () => {
    await refused('GET', '/redfish/v1/%2e%2e/%2E%2E/etc/passwd');
  });

  it.each([
    ['a doubled slash', '/redfish/v1/SessionService//Sessions'],
    ['a doubled slash before v1', '/redfish//v1/Sessions'],
    ['a %-encoded letter', '/redfish/v1/%53essionService/Sessions'],
  ])('refuses a POST to the Sessions collection spelled with %s (the iLO/simulator still logs in)', async (_what, path) => {
    await refused('POST', path, { UserName: 'Administrator', Password: 'password' });
  });
});

// ---- verbs ------------------------------------------------------------------------------------------

describe('RedfishClient verbs', () => {
  it('get() returns the JSON', async () => {
    const s = await sim();
    const c = await open(s);
    const system = await c.get('/redfish/v1/Systems/1');
    expect(system['@odata.id']).toBe('/redfish/v1/Systems/1');
    expect(system.Id).toBe('1');
  });

  it('get() of a missing path throws RedfishError with the iLO MessageIds', async () => {
    const s = await sim();
    const c = await open(s);
    const path = '/redfish/v1/Systems/42';
    const error = (await rejectionOf(c.get(path))) as RedfishError;
    expect(error).toBeInstanceOf(RedfishError);
    expect(error.code).toBe('E_REDFISH');
    expect(error.status).toBe(404);
    expect(error.method).toBe('GET');
    expect(error.path).toBe(path);
    expect(error.messageIds).toEqual(['Base.1.18.ResourceMissingAtURI']);
    expect(error.messages[0]?.MessageArgs).toEqual([path]);
    expect(error.message).toContain('404');
    expect(error.message).toContain('ResourceMissingAtURI');
  });

  it('patch() of an unknown property throws RedfishError PropertyNotWritableOrUnknown', async () => {
    const s = await sim();
    const c = await open(s);
    const error = (await rejectionOf(c.patch('/redfish/v1/Systems/1', { NoSuchProperty: 1 }))) as RedfishError;
    expect(error).toBeInstanceOf(RedfishError);
    expect(error.status).toBe(400);
    expect(error.method).toBe('PATCH');
    expect(error.messages[0]?.MessageId).toBe('iLO.2.30.PropertyNotWritableOrUnknown');
    expect(error.messages[0]?.MessageArgs).toEqual(['NoSuchProperty']);
  });

  it('patch() returns the Success envelope and the change is visible', async () => {
    const s = await sim();
    const c = await open(s);
    const result = await c.patch('/redfish/v1/Systems/1', { AssetTag: 'rack-7' });
    expect(result).toMatchObject({ error: { '@Message.ExtendedInfo': [{ MessageId: 'Base.1.18.Success' }] } });
    expect((await c.get('/redfish/v1/Systems/1')).AssetTag).toBe('rack-7');
  });

  it('post() runs an action', async () => {
    const s = await sim();
    const c = await open(s);
    expect((await c.get('/redfish/v1/Systems/1')).PowerState).toBe('On');
    const result = await c.post('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'ForceOff' });
    expect(result).toMatchObject({ error: { '@Message.ExtendedInfo': [{ MessageId: 'Base.1.18.Success' }] } });
    expect((await c.get('/redfish/v1/Systems/1')).PowerState).toBe('Off');
    const bad = (await rejectionOf(c.post('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'Explode' }))) as RedfishError;
    expect(bad).toBeInstanceOf(RedfishError);
    expect(bad.messageIds).toEqual(['Base.1.18.PropertyValueNotInList']);
  });

  it('request() resolves with any status and sends JSON with its Content-Type', async () => {
    const s = await sim();
    const { transport, sent } = tokenSpy(s);
    const c = await open(s, { transport });
    expect((await c.request('GET', '/redfish/v1/Systems/42')).status).toBe(404);
    expect((await c.request('DELETE', '/redfish/v1/Systems/1')).status).toBe(405);
    expect((await c.request('PATCH', '/redfish/v1/Systems/1', { body: { Nope: 1 } })).status).toBe(400);
    const last = sent.at(-1);
    expect(last?.headers?.['Content-Type']).toBe('application/json');
    expect(Buffer.from(last?.body ?? new Uint8Array()).toString()).toBe('{"Nope":1}');
  });

  it('head() returns the headers; a body that is not JSON is a ProtocolError for get()', async () => {
    const s = await sim();
    const c = await open(s);
    const headers = await c.head('/redfish/v1/Systems/1');
    expect(headers.etag).toMatch(/^W\//);
    s.faults.inject({ type: 'garble', on: 'request', path: '/redfish/v1/Systems/1' });
    const error = await rejectionOf(c.get('/redfish/v1/Systems/1'));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe('E_PROTOCOL');
  });

  it('after close(), requests reject with ClosedError and nothing is sent', async () => {
    const s = await sim();
    const c = await open(s);
    await c.close();
    const before = s.state().counters.requests;
    const error = await rejectionOf(c.get('/redfish/v1/'));
    expect(error).toBeInstanceOf(ClosedError);
    expect(error.code).toBe('E_CLOSED');
    expect(s.state().counters.requests).toBe(before);
  });

  it('an aborted request rejects with AbortedError and the client stays usable', async () => {
    const s = await sim();
    const c = await open(s);
    s.faults.inject({ type: 'hang', path: '/redfish/v1/Chassis' });
    const controller = new AbortController();
    const pending = rejectionOf(c.get('/redfish/v1/Chassis', { signal: controller.signal }));
    await until(() => s.faults.held === 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(AbortedError);
    expect((await c.get('/redfish/v1/Chassis'))['@odata.id']).toBe('/redfish/v1/Chassis');
    s.faults.release();
  });
});

// ---- collections ---------------------------------------------------------------------------------

describe('members()', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ilo-agent-members-'));
    const put = (uri: string, body: unknown) => {
      const folder = join(dir, ...uri.split('/').filter(Boolean));
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'index.json'), JSON.stringify(body));
    };
    const ref = (id: string) => ({ '@odata.id': id });
    put('/redfish/v1', {
      '@odata.id': '/redfish/v1/',
      '@odata.type': '#ServiceRoot.v1_13_0.ServiceRoot',
      Links: { Sessions: ref(SESSIONS) },
      Things: ref('/redfish/v1/Things'),
    });
    put('/redfish/v1/Things', {
      '@odata.id': '/redfish/v1/Things',
      Members: [ref('/redfish/v1/Things/A'), ref('/redfish/v1/Things/B')],
      'Members@odata.count': 5,
      'Members@odata.nextLink': '/redfish/v1/Things/Page2',
    });
    put('/redfish/v1/Things/Page2', {
      '@odata.id': '/redfish/v1/Things/Page2',
      Members: [ref('/redfish/v1/Things/C'), ref('/redfish/v1/Things/D')],
      'Members@odata.count': 5,
      'Members@odata.nextLink': '/redfish/v1/Things/Page3',
    });
    put('/redfish/v1/Things/Page3', { '@odata.id': '/redfish/v1/Things/Page3', Members: [ref('/redfish/v1/Things/E')], 'Members@odata.count': 5 });
    put('/redfish/v1/Loop', { '@odata.id': '/redfish/v1/Loop', Members: [ref('/redfish/v1/Loop/A')], 'Members@odata.nextLink': '/redfish/v1/Loop/Page2' });
    put('/redfish/v1/Loop/Page2', { '@odata.id': '/redfish/v1/Loop/Page2', Members: [ref('/redfish/v1/Loop/B')], 'Members@odata.nextLink': '/redfish/v1/Loop' });
    put('/redfish/v1/Self', { '@odata.id': '/redfish/v1/Self', Members: [], 'Members@odata.nextLink': '/redfish/v1/Self' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists /redfish/v1/Systems', async () => {
    const s = await sim();
    const c = await open(s);
    expect(await c.members('/redfish/v1/Systems')).toEqual(['/redfish/v1/Systems/1']);
  });

  it('follows Members@odata.nextLink through every page, in order', async () => {
    const s = await sim({ mockupDir: dir });
    const c = await open(s);
    expect(await c.members('/redfish/v1/Things')).toEqual([
      '/redfish/v1/Things/A',
      '/redfish/v1/Things/B',
      '/redfish/v1/Things/C',
      '/redfish/v1/Things/D',
      '/redfish/v1/Things/E',
    ]);
  });

  it('a nextLink loop is a ProtocolError, not an endless walk', async () => {
    const s = await sim({ mockupDir: dir });
    const c = await open(s);
    for (const path of ['/redfish/v1/Loop', '/redfish/v1/Self']) {
      const error = await rejectionOf(c.members(path));
      expect(error, path).toBeInstanceOf(ProtocolError);
      expect(error.code).toBe('E_PROTOCOL');
    }
  });

  // The iLO's own links, answered by a made-up session: whatever they say, only a path of this
  // iLO is ever requested; anything else is the iLO's fault (ProtocolError, exit 6), not the user's.
  const pages = (bodies: Record<string, object>) => {
    const asked: string[] = [];
    const session = {
      request: async (request: TransportRequest): Promise<TransportResponse> => {
        asked.push(request.path);
        const body = bodies[request.path];
        return { status: body ? 200 : 404, headers: {}, body: Buffer.from(JSON.stringify(body ?? {})) };
      },
    };
    return { client: new RedfishClient(session, { origin: 'https://ilo.example:8443' }), asked };
  };

  it('an absolute nextLink (or member) of this very iLO is followed by its path', async () => {
    const { client, asked } = pages({
      '/redfish/v1/Things': { Members: [{ '@odata.id': 'https://ILO.example:8443/redfish/v1/Things/A' }], 'Members@odata.nextLink': 'https://ilo.example:8443/redfish/v1/Things?page=2' },
      '/redfish/v1/Things?page=2': { Members: [{ '@odata.id': '/redfish/v1/Things/B' }] },
    });
    expect(await client.members('/redfish/v1/Things')).toEqual(['/redfish/v1/Things/A', '/redfish/v1/Things/B']);
    expect(asked).toEqual(['/redfish/v1/Things', '/redfish/v1/Things?page=2']);
  });

  it.each([
    ['another host', 'https://evil.example/redfish/v1/Things/2', /not on this iLO/],
    ['another port of the same host', 'https://ilo.example/redfish/v1/Things/2', /not on this iLO/],
    ['a protocol-relative URL', '//evil.example/redfish/v1/Things/2', /odd link/],
    ['a path with ..', '/redfish/v1/Things/../../x', /odd link.*"\." or "\.\." segments/],
    ['a path with a space', '/redfish/v1/Things 2', /odd link/],
    ['a non-ASCII path', '/redfish/v1/Σ', /odd link.*outside printable ASCII/],
    ['a relative reference', 'Page2', /odd link/],
  ])('a nextLink to %s is a ProtocolError, and nothing is sent for it', async (_what, next, message) => {
    const { client, asked } = pages({ '/redfish/v1/Things': { Members: [], 'Members@odata.nextLink': next } });
    const error = await rejectionOf(client.members('/redfish/v1/Things'));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(message);
    expect(asked).toEqual(['/redfish/v1/Things']);
  });

  it('an odd member is a ProtocolError too; in-band (no origin), an absolute URL is never followed', async () => {
    const odd = pages({ '/redfish/v1/Things': { Members: [{ '@odata.id': '/redfish/v1/a b' }] } });
    expect(await rejectionOf(odd.client.members('/redfish/v1/Things'))).toBeInstanceOf(ProtocolError);
    const inband = new RedfishClient({
      request: async () => ({ status: 200, headers: {}, body: Buffer.from(JSON.stringify({ Members: [], 'Members@odata.nextLink': 'https://ilo.example/redfish/v1/Things?page=2' })) }),
    });
    expect((await rejectionOf(inband.members('/redfish/v1/Things'))).message).toMatch(/not on this iLO \(in-band\)/);
  });

  it('members() of something that is not a collection is a ProtocolError', async () => {
    const s = await sim();
    const c = await open(s);
    const error = await rejectionOf(c.members('/redfish/v1/Systems/1'));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe('E_PROTOCOL');
    expect(await rejectionOf(c.members('/redfish/v1/Systems/42'))).toBeInstanceOf(RedfishError);
  });
});

// ---- the one session ---------------------------------------------------------------------------------

describe('withSession', () => {
  it('deletes the session after the work succeeds', async () => {
    const s = await sim();
    let during = -1;
    const result = await withSession(login(s), async (c) => {
      during = s.sessions().length;
      expect(c.session.state).toBe('open');
      return (await c.get('/redfish/v1/Systems/1')).Id;
    });
    expect(result).toBe('1');
    expect(during).toBe(1);
    expect(s.sessions()).toHaveLength(0);
  });

  it('deletes the session when the work throws, and rethrows that very error', async () => {
    const s = await sim();
    const mine = new Error('work failed');
    const error = await rejectionOf(
      withSession(login(s), async (c) => {
        await c.get('/redfish/v1/');
        throw mine;
      }),
    );
    expect(error).toBe(mine);
    expect(s.sessions()).toHaveLength(0);
  });

  it('a RedfishError from the work is rethrown unchanged too', async () => {
    const s = await sim();
    let inside: unknown;
    const error = await rejectionOf(
      withSession(login(s), async (c) => {
        try {
          return await c.get('/redfish/v1/Nope');
        } catch (e) {
          inside = e;
          throw e;
        }
      }),
    );
    expect(error).toBe(inside);
    expect(error).toBeInstanceOf(RedfishError);
    expect(s.sessions()).toHaveLength(0);
  });
});

describe('openSession and close()', () => {
  it('holds one session while open and none after close(); close() twice is fine', async () => {
    const s = await sim();
    const c = await open(s);
    expect(s.sessions()).toHaveLength(1);
    expect(c.session.path).toBe(sessionPath(s));
    expect(c.session.id).toBe(s.sessions()[0]?.id);
    expect(c.session.state).toBe('open');
    expect(c.transportDescription).toBe(`https ${s.url}`);
    await c.close();
    expect(s.sessions()).toHaveLength(0);
    expect(c.session.state).toBe('closed');
    await expect(c.close()).resolves.toBeUndefined();
    expect(s.state().counters.logins).toBe(1);
  });

  it('Symbol.asyncDispose (await using) deletes the session', async () => {
    const s = await sim();
    const c = await open(s);
    expect(s.sessions()).toHaveLength(1);
    await c[Symbol.asyncDispose]();
    expect(s.sessions()).toHaveLength(0);
  });

  it('logs in again once when the session expired: concurrent requests share one re-login', async () => {
    const s = await sim();
    const c = await open(s);
    const oldPath = c.session.path;
    expect(s.expireSessions()).toBe(1);
    const logins = s.state().counters.logins;
    const results = await Promise.all(Array.from({ length: 5 }, () => c.get('/redfish/v1/Systems/1')));
    expect(results.map((r) => r.Id)).toEqual(['1', '1', '1', '1', '1']);
    expect(s.state().counters.logins).toBe(logins + 1);
    expect(s.sessions()).toHaveLength(1);
    expect(c.session.path).toBe(sessionPath(s));
    expect(c.session.path).not.toBe(oldPath);
    await c.close();
    expect(s.sessions()).toHaveLength(0);
  });

  it('close() resolves when the session has already expired (a 401 is confirmed with Basic, not taken as proof)', async () => {
    const s = await sim();
    const c = await open(s);
    s.expireSessions();
    const requests = s.state().counters.requests;
    await expect(c.close()).resolves.toBeUndefined();
    // the token's DELETE (401), then the confirming one with Basic (404): two requests, not one
    expect(s.state().counters.requests - requests).toBe(2);
    expect(s.endedSessions().map((e) => e.how)).toEqual(['expired']);
  });
});

describe('logout failures', () => {
  it('a logout whose connection drops is tried again and the session is deleted', async () => {
    const s = await sim();
    const c = await open(s);
    s.faults.inject({ type: 'drop', on: 'logout', times: 1 });
    await expect(c.close()).resolves.toBeUndefined();
    expect(s.sessions()).toHaveLength(0);
  });

  it('a session that cannot be deleted is never a success: close() and withSession reject with LogoutError', async () => {
    const s = await sim();
    const c = await open(s);
    const id = c.session.id as string;
    s.faults.inject({ type: 'status503', on: 'logout', times: 0 });
    const error = await rejectionOf(c.close());
    expect(error).toBeInstanceOf(LogoutError);
    expect(error.code).toBe('E_REDFISH');
    expect(error.message).toContain(id);
    expect(s.sessions()).toHaveLength(1);

    const failed = await rejectionOf(withSession(login(s, { closeTimeoutMs: 2000 }), async () => 'done'));
    expect(failed).toBeInstanceOf(LogoutError);
    s.faults.clear();
  });
});

describe('login fallbacks', () => {
  it('without a Location, takes the body’s @odata.id (iLO 6), and deletes that session', async () => {
    const s = await sim();
    s.faults.inject({ type: 'strip-location', on: 'login' });
    const c = await open(s);
    expect(s.sessions()).toHaveLength(1);
    expect(c.session.path).toBe(sessionPath(s));
    await c.close();
    expect(s.sessions()).toHaveLength(0);
  });

  it('without a Location on iLO 5 (envelope body), finds the session through Oem.Hpe.Links.MySession', async () => {
    const s = await sim({ profile: 'ilo5-legacy' });
    s.faults.inject({ type: 'strip-location', on: 'login' });
    const c = await open(s);
    expect(s.sessions()).toHaveLength(1);
    expect(c.session.path).toBe(sessionPath(s, true));
    expect(c.session.id).toBe(s.sessions()[0]?.id);
    expect((await c.get('/redfish/v1/Systems/1/')).Id).toBe('1');
    await c.close();
    expect(s.sessions()).toHaveLength(0);
  });

  it('a login answer whose body is not JSON still works (token and Location are headers)', async () => {
    const s = await sim();
    s.faults.inject({ type: 'garble', on: 'login' });
    const c = await open(s);
    expect(c.session.path).toBe(sessionPath(s));
    expect((await c.get('/redfish/v1/Systems/1')).Id).toBe('1');
    await c.close();
    expect(s.sessions()).toHaveLength(0);
  });

  it('retries a login answered with a transient 503', async () => {
    const s = await sim();
    s.faults.inject({ type: 'status503', on: 'login', times: 1 });
    const c = await open(s);
    expect(s.state().counters.logins).toBe(2);
    expect(s.sessions()).toHaveLength(1);
    await c.close();
    expect(s.sessions()).toHaveLength(0);
  });
});

describe('login errors', () => {
  it('a wrong password is an AuthError that names the MessageId, never the password', async () => {
    const s = await sim();
    const error = await rejectionOf(openSession(login(s, { password: 'Wr0ng-canary-pw' })));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toContain('UnauthorizedLoginAttempt');
    expect(error.message).not.toContain('Wr0ng-canary-pw');
    expect(String(error)).not.toContain('Wr0ng-canary-pw');
    expect(s.sessions()).toHaveLength(0);
  });

  it('a full session table is a SessionLimitError that points to "sessions prune"', async () => {
    const s = await sim({ maxSessions: 1 });
    const other = httpsClient(s);
    cleanups.push(() => other.close());
    expect((await other.login()).res.status).toBe(201);
    const error = await rejectionOf(openSession(login(s)));
    expect(error).toBeInstanceOf(SessionLimitError);
    expect(error.code).toBe('E_SESSION_LIMIT');
    expect(error.message).toContain('sessions prune');
    expect(s.sessions()).toHaveLength(1); // only the other tool's
  });

  it('a full session table answered with 403 (limitStatus 403) is a SessionLimitError too', async () => {
    const s = await sim({ maxSessions: 1, limitStatus: 403 });
    const other = httpsClient(s);
    cleanups.push(() => other.close());
    expect((await other.login()).res.status).toBe(201);
    const error = await rejectionOf(openSession(login(s)));
    expect(error).toBeInstanceOf(SessionLimitError);
    expect(s.sessions()).toHaveLength(1);
  });
});

describe('secrets stay out of error messages', () => {
  it('no session token (nor any 32-hex string) appears in any error message', async () => {
    const s = await sim();
    const { transport, tokens } = tokenSpy(s);
    const c = await open(s, { transport, password: 'password' });
    const errors: unknown[] = [];
    const collect = async (p: Promise<unknown>) => errors.push(await rejectionOf(p));
    await collect(c.get('/redfish/v1/Systems/42'));
    await collect(c.patch('/redfish/v1/Systems/1', { Bogus: true, AssetTag: 5 }));
    await collect(c.post('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'Nope' }));
    await collect(c.members('/redfish/v1/Systems/1'));
    await collect(c.request('GET', '/etc/passwd'));
    s.expireSessions(); // a re-login: a second token
    await collect(c.get('/redfish/v1/Nothing'));
    const bad = await rejectionOf(openSession(login(s, { password: 'Wr0ng-canary-pw' })));
    errors.push(bad);
    expect(tokens.size).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeGreaterThanOrEqual(7);
    for (const error of errors) {
      const text = `${String((error as Error).message)} ${String(error)}`;
      for (const token of tokens) expect(text).not.toContain(token);
      expect(text).not.toMatch(/[0-9a-f]{32}/);
      expect(text).not.toContain('Wr0ng-canary-pw');
    }
    await c.close();
  });
});

describe('a login in flight', () => {
  it('the login answer is awaited: a session the iLO made while its answer was held is deleted on close', async () => {
    const s = await sim();
    s.faults.inject({ type: 'hang', on: 'login', stage: 'after' });
    const opening = openSession(login(s));
    await until(() => s.faults.held === 1 && s.sessions().length === 1);
    expect(s.faults.release()).toBe(1);
    const c = await opening;
    clients.push(c);
    expect(c.session.path).toBe(sessionPath(s));
    await c.close();
    expect(s.sessions()).toHaveLength(0);
  });

  it('an abort during the login is not a leak: openSession rejects with AbortedError once the answer is in, and the session is deleted', async () => {
    const s = await sim();
    s.faults.inject({ type: 'hang', on: 'login', stage: 'after' });
    const controller = new AbortController();
    const opening = rejectionOf(openSession(login(s, { signal: controller.signal })));
    await until(() => s.faults.held === 1 && s.sessions().length === 1);
    controller.abort();
    expect(s.sessions()).toHaveLength(1); // the login was not cut: its answer says what to delete
    s.faults.release();
    const error = await opening;
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.code).toBe('E_ABORTED');
    expect(s.sessions()).toHaveLength(0);
    // deleted with the token its answer brought, not found again by a search (a cut login's path)
    expect(s.endedSessions().map((e) => e.how)).toEqual(['own-token']);
  });
});

describe('connections to the iLO', () => {
  async function heldWith(extra: Partial<ConnectOptions>): Promise<number> {
    const s = await sim();
    const c = await open(s, extra);
    s.faults.inject({ type: 'hang', method: 'GET', path: '/redfish/v1/Systems/1', times: 0 });
    const gets = Array.from({ length: 10 }, () => c.get('/redfish/v1/Systems/1'));
    await until(() => s.faults.held >= 4, 'the first GETs are held');
    await sleep(150); // time for any further connection to open and send
    const held = s.faults.held;
    s.faults.clear();
    // hung answers go on as they are released; the rest were never held
    while (s.faults.held > 0) s.faults.release();
    const bodies = await Promise.all(gets);
    expect(bodies.every((b) => b.Id === '1')).toBe(true);
    return held;
  }

  it('at most 4 at once by default: the other requests wait for a connection', async () => {
    expect(await heldWith({})).toBe(4);
  });

  it('maxConnections raises it (crawl and list --expand pass their --concurrency)', async () => {
    expect(await heldWith({ maxConnections: 8 })).toBe(8);
  });
});

// ---- an iLO that answers oddly: the session is deleted all the same (issue 12: #5, #6, #8, #12) ----

/** Every DELETE the client sent, by path. */
const deletesOf = (sent: TransportRequest[]) => sent.filter((r) => r.method === 'DELETE').map((r) => r.path);

describe('a session counts as gone only when the iLO proves it', () => {
  it.each(['status401', 'status404'] as const)('a token DELETE answered %s while the session lives: Basic deletes and confirms it', async (type) => {
    const s = await sim();
    const { transport, sent } = tokenSpy(s);
    const c = await open(s, { transport });
    const path = c.session.path as string;
    s.faults.inject({ type, on: 'logout', times: 1 });
    await c.close();
    expect(s.sessions()).toHaveLength(0);
    const deletes = sent.filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.path)).toEqual([path, path]);
    expect(deletes[1]?.headers?.Authorization).toMatch(/^Basic /);
  });

  it('a DELETE that Basic cannot confirm either is a LogoutError, not a silent success', async () => {
    const s = await sim();
    const c = await open(s);
    s.faults.inject({ type: 'status401', on: 'logout', times: 2 });
    const error = await rejectionOf(c.close());
    expect(error).toBeInstanceOf(LogoutError);
    expect(s.sessions()).toHaveLength(1);
    s.faults.clear();
  });

  it('an expired session still closes cleanly: Basic confirms the 401 with a 404', async () => {
    const s = await sim();
    const c = await open(s);
    s.expireSessions();
    await expect(c.close()).resolves.toBeUndefined();
    expect(s.sessions()).toHaveLength(0);
  });
});

describe('the session path is checked once, when the login answer gives it', () => {
  it.each([
    ['a network-path reference to another host', '//evil.example{path}'],
    ['a trailing .. segment', '{path}/..'],
    ['dot segments that climb out of Sessions', '{path}/../../../AccountService/Accounts/1'],
    ['encoded separators and dots', '{path}%2F..%2F..'],
    ['a path outside the Sessions collection', '/redfish/v1/Systems/1'],
    ['the collection itself', '/redfish/v1/SessionService/Sessions/'],
    ['a query', '{path}?x=1'],
  ])('a Location that is %s falls back to the body\'s @odata.id; only the session is ever deleted', async (_what, location) => {
    const s = await sim();
    s.faults.inject({ type: 'rewrite-location', on: 'login', location });
    const { transport, sent } = tokenSpy(s);
    const c = await open(s, { transport });
    const path = sessionPath(s);
    expect(c.session.path).toBe(path);
    await c.close();
    expect(s.sessions()).toHaveLength(0);
    expect(deletesOf(sent)).toEqual([path]);
  });

  it('iLO 5 (no @odata.id in the login body) with a bad Location: found through MySession, and deleted', async () => {
    const s = await sim({ profile: 'ilo5-legacy' });
    s.faults.inject({ type: 'rewrite-location', on: 'login', location: '/redfish/v1/Systems/1/' });
    const { transport, sent } = tokenSpy(s);
    const c = await open(s, { transport });
    expect(c.session.path).toBe(sessionPath(s, true));
    await c.close();
    expect(s.sessions()).toHaveLength(0);
    expect(deletesOf(sent).every((p) => p.toLowerCase().startsWith(`${SESSIONS.toLowerCase()}/`))).toBe(true);
  });
});

describe('a 401 on a live session never leaves it behind', () => {
  it('the old session is deleted before the re-login: in a full table the re-login then finds its slot', async () => {
    const s = await sim({ maxSessions: 2 });
    const other = httpsClient(s);
    cleanups.push(() => other.close());
    const foreign = await other.login();
    const c = await open(s);
    expect(s.sessions()).toHaveLength(2); // the table is full
    s.faults.inject({ type: 'status401', on: 'request', times: 1 });
    expect((await c.get('/redfish/v1/Systems/1')).Id).toBe('1');
    expect(s.state().counters.logins).toBe(3); // the other tool's, ours, our re-login
    await c.close();
    expect(s.sessions().map((x) => x.id)).toEqual([foreign.location.split('/').filter(Boolean).at(-1)]);
  });

  it('an old session that cannot be deleted and a re-login that fails: the old one is kept, and deleted at close', async () => {
    const s = await sim();
    const c = await open(s);
    s.faults.inject({ type: 'status401', on: 'request', times: 1 });
    s.faults.inject({ type: 'status503', on: 'logout', times: 2 }); // token and Basic DELETE
    s.faults.inject({ type: 'status401', on: 'login', times: 1 });
    const error = await rejectionOf(c.get('/redfish/v1/Systems/1'));
    expect(error).toBeInstanceOf(AuthError);
    expect(s.sessions()).toHaveLength(1);
    await c.close();
    expect(s.sessions()).toHaveLength(0);
  });
});

describe('re-logins back off', () => {
  /** Re-logins a backoff of 1, 2, 4… s allows in `ms` (the first is at once). */
  const allowed = (ms: number) => Math.floor(Math.log2(ms / 1000 + 1)) + 1;

  it('an iLO that answers 401 to every request: not one login per request', async () => {
    const s = await sim();
    const c = await open(s);
    s.faults.inject({ type: 'status401', on: 'request', times: 0 });
    const started = Date.now();
    for (let i = 0; i < 50; i++) expect((await c.request('GET', '/redfish/v1/Systems/1')).status).toBe(401);
    const relogins = s.state().counters.logins - 1;
    expect(relogins).toBeGreaterThanOrEqual(1);
    expect(relogins).toBeLessThanOrEqual(allowed(Date.now() - started));
    await c.close();
    expect(s.sessions()).toHaveLength(0);
  });

  it('a password that stopped working: requests fail with the auth error without a login each, and work again once it does', async () => {
    const s = await sim();
    const c = await open(s);
    s.faults.inject({ type: 'status401', on: 'request', times: 1 });
    s.faults.inject({ type: 'status401', on: 'login', times: 0 });
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      const error = await rejectionOf(c.get('/redfish/v1/Systems/1'));
      expect(error.code).toBe('E_AUTH');
      expect(error.message).toContain('UnauthorizedLoginAttempt');
    }
    const failedLogins = s.state().counters.logins - 1;
    expect(failedLogins).toBeLessThanOrEqual(allowed(Date.now() - started));
    expect(s.sessions()).toHaveLength(0); // the old session was deleted before the first try
    s.faults.clear();
    // the next login comes once its backoff has passed
    let system: Record<string, unknown> | undefined;
    const end = Date.now() + 30_000;
    while (!system && Date.now() < end) {
      system = await c.get('/redfish/v1/Systems/1').catch(async (error: IloAgentError) => {
        expect(error.message).toMatch(/no new login for \d+ s/);
        await sleep(200);
        return undefined;
      });
    }
    expect(system?.Id).toBe('1');
    await c.close();
    expect(s.sessions()).toHaveLength(0);
  });
});

describe('without a guardian, a login whose answer never came', () => {
  it('the agent itself finds the session the iLO made and deletes it; the error names no CLI flag', async () => {
    const s = await sim();
    s.faults.inject({ type: 'hang', on: 'login', stage: 'after' });
    const error = await rejectionOf(withSession(login(s, { timeoutMs: 1_000 }), async () => 'never'));
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toMatch(/within 1 s$/);
    expect(error.message).not.toContain('--timeout');
    expect(s.sessions()).toHaveLength(0);
    expect(s.state().counters.logins).toBe(1);
    s.faults.release();
  });

  it('leaves another client\'s session alone, even of the same user', async () => {
    const s = await sim();
    const other = httpsClient(s);
    cleanups.push(() => other.close());
    const { token } = await other.login();
    // Logged in more than 2 s before ours, and used 2 s after its login: not the one we look for.
    await sleep(2_100);
    expect((await other.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    s.faults.inject({ type: 'hang', on: 'login', stage: 'after' });
    await rejectionOf(withSession(login(s, { timeoutMs: 1_000 }), async () => 'never'));
    expect(s.sessions()).toHaveLength(1);
    expect((await other.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    s.faults.release();
  });
});

describe('answers as an iLO frames them, and a 412', () => {
  it.each([
    ['chunked (iLO 5 and later)', false, 'chunked'],
    ['with Content-Length', true, undefined],
  ] as const)('reads a large answer %s whole', async (_name, contentLength, transferEncoding) => {
    const s = await sim({ contentLength });
    const c = await open(s);
    const tag = 'y'.repeat(20_000);
    await c.patch('/redfish/v1/Systems/1', { AssetTag: tag });
    const raw = await c.request('GET', '/redfish/v1/Systems/1');
    expect(raw.headers['transfer-encoding']).toBe(transferEncoding);
    expect((await c.get('/redfish/v1/Systems/1')).AssetTag).toBe(tag);
  });

  it('a stale If-Match is a RedfishError 412 naming PreconditionFailed (exit 6); nothing applied, the session goes on', async () => {
    const s = await sim();
    const c = await open(s);
    const etag = (await c.head('/redfish/v1/Systems/1')).etag as string;
    await c.patch('/redfish/v1/Systems/1', { AssetTag: 'first' });
    const error = await rejectionOf(c.patch('/redfish/v1/Systems/1', { AssetTag: 'second' }, { headers: { 'If-Match': etag } }));
    expect(error).toBeInstanceOf(RedfishError);
    expect((error as RedfishError).status).toBe(412);
    expect((error as RedfishError).messageIds).toEqual(['Base.1.18.PreconditionFailed']);
    expect(error.message).toBe('PATCH /redfish/v1/Systems/1 answered 412 (Base.1.18.PreconditionFailed)');
    expect(exitCodeFor(error)).toBe(6);
    expect((await c.get('/redfish/v1/Systems/1')).AssetTag).toBe('first');
    const fresh = (await c.head('/redfish/v1/Systems/1')).etag as string;
    await c.patch('/redfish/v1/Systems/1', { AssetTag: 'second' }, { headers: { 'If-Match': fresh } });
    expect((await c.get('/redfish/v1/Systems/1')).AssetTag).toBe('second');
    expect(s.state().counters.logins).toBe(1);
  });
});

describe('an iLO reset from the session’s own requests', () => {
  it('an accepted Manager.Reset ended the session: close() sends no DELETE and resolves', async () => {
    const s = await sim({ resetSeconds: 30 });
    const c = await open(s);
    expect(await c.post('/redfish/v1/Managers/1/Actions/Manager.Reset', { ResetType: 'GracefulRestart' })).toMatchObject({ error: expect.anything() });
    await until(() => s.resetting, 'the reset to start');
    const before = s.state().counters.requests;
    await c.close();
    expect(s.state().counters.requests).toBe(before);
    expect(s.sessions()).toEqual([]);
  });

  it('a refused Manager.Reset (or ComputerSystem.Reset) changes nothing: the session is deleted as usual', async () => {
    const s = await sim();
    const c = await open(s);
    const error = await rejectionOf(c.post('/redfish/v1/Managers/1/Actions/Manager.Reset', { ResetType: 'Explode' }));
    expect(error).toBeInstanceOf(RedfishError);
    await c.post('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'On' });
    const deletes = s.state().counters.requests;
    await c.close();
    expect(s.state().counters.requests).toBeGreaterThan(deletes);
    expect(s.sessions()).toEqual([]);
  });
});
