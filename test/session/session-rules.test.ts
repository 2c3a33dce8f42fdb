// The session's deletion rules, driven through a scripted transport: the blocking closeSync() a leaving
// process uses, the logout's one retry, the sessions a re-login replaced, and when the observer hears
// "released". Each case asserts what was sent (which DELETE, with what) and what the session says after.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConnectError, IloAgentError, LogoutError, RedfishError } from '../../src/errors.js';
import { deleteSession, goneByAuthority, goneByToken, isCleanPath, isSessionsCollection, Session, sessionPathOf } from '../../src/session/index.js';
import type { Transport, TransportRequest, TransportResponse } from '../../src/transport/index.js';
import { scripted, type ScriptHandler, json } from '../helpers/scripted-transport.js';
import { until } from '../helpers/wait.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';
const credentials = { username: 'admin', password: 'Zq9-canary-secret' };
const BASIC = `Basic ${Buffer.from('admin:Zq9-canary-secret').toString('base64')}`;
const login = (id: string, token = `tok-${id}`) => json(201, {}, { location: `${SESSIONS}/${id}`, 'x-auth-token': token });
const describeCall = (r: TransportRequest) => `${r.method} ${r.path} ${r.headers?.['X-Auth-Token'] ?? r.headers?.Authorization ?? '(channel)'}`;

/** A scripted transport with CHIF's blocking requestSync, answered by the same handler (synchronously). */
function withSync(handler: (r: TransportRequest) => TransportResponse, kind: Transport['kind'] = 'chif') {
  const { transport, calls } = scripted(handler, { kind });
  const sync: TransportRequest[] = [];
  const withBlocking: Transport = {
    ...transport,
    requestSync(request) {
      sync.push(request);
      return handler(request);
    },
  };
  return { transport: withBlocking, calls, sync };
}

function observed() {
  const events: string[] = [];
  return { events, observer: { released: () => events.push('released') } };
}

describe('closeSync(): the blocking DELETE of a process on its way out', () => {
  it('deletes with the token, says so, and leaves the session closed and released', async () => {
    const { transport, calls, sync } = withSync((r) => (r.method === 'POST' ? login('s1') : json(204)));
    const { events, observer } = observed();
    const session = new Session({ transport, credentials: null, observer });
    await session.open();
    expect(session.closeSync()).toBe(true);
    expect(sync.map(describeCall)).toEqual([`DELETE ${SESSIONS}/s1 tok-s1`]);
    expect(session.state).toBe('closed');
    expect(session.path).toBeNull();
    expect(events).toEqual(['released']);
    // Done once: neither a second closeSync() nor close() sends anything more.
    expect(session.closeSync()).toBe(false);
    await session.close();
    expect(sync).toHaveLength(1);
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
  });

  it('a token DELETE that is not a 2xx is confirmed by the channel\'s own trust (in-band, no credentials)', async () => {
    const { transport, sync } = withSync((r) => {
      if (r.method === 'POST') return login('s2');
      return r.headers?.['X-Auth-Token'] ? json(401) : json(404);
    });
    const session = new Session({ transport, credentials: null });
    await session.open();
    expect(session.closeSync()).toBe(true);
    expect(sync.map(describeCall)).toEqual([`DELETE ${SESSIONS}/s2 tok-s2`, `DELETE ${SESSIONS}/s2 (channel)`]);
    expect(sync[1]?.headers).toEqual({});
  });

  it('with credentials, the second DELETE carries Basic', async () => {
    const { transport, sync } = withSync((r) => {
      if (r.method === 'POST') return login('s3');
      return r.headers?.['X-Auth-Token'] ? json(405) : json(200);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    expect(session.closeSync()).toBe(true);
    expect(sync.map((r) => r.headers)).toEqual([{ 'X-Auth-Token': 'tok-s3' }, { Authorization: BASIC }]);
  });

  it('a session nobody confirmed gone is kept: false, still open, not released, and close() tries again', async () => {
    let refuse = true;
    const { transport, calls, sync } = withSync((r) => {
      if (r.method === 'POST') return login('s4');
      return refuse ? json(500) : json(204);
    });
    const { events, observer } = observed();
    const session = new Session({ transport, credentials: null, observer });
    await session.open();
    expect(session.closeSync()).toBe(false);
    expect(sync).toHaveLength(2);
    expect(session.state).toBe('open');
    expect(session.path).toBe(`${SESSIONS}/s4`);
    expect(events).toEqual([]);
    refuse = false;
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map(describeCall)).toEqual([`DELETE ${SESSIONS}/s4 tok-s4`]);
    expect(events).toEqual(['released']);
  });

  it('a blocking request that throws is a false, not a throw', async () => {
    const { transport: base } = scripted((r) => (r.method === 'POST' ? login('s5') : json(204)), { kind: 'chif' });
    const transport: Transport = {
      ...base,
      requestSync() {
        throw new ConnectError('the channel is gone');
      },
    };
    const session = new Session({ transport, credentials: null });
    await session.open();
    expect(session.closeSync()).toBe(false);
    expect(session.state).toBe('open');
  });

  it('sends nothing without a blocking transport (HTTPS) or before a session exists', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? login('s6') : json(204)));
    const session = new Session({ transport, credentials });
    expect(session.closeSync()).toBe(false);
    await session.open();
    expect(session.closeSync()).toBe(false);
    expect(calls.map((c) => c.method)).toEqual(['POST']);
    expect(session.state).toBe('open');
    await session.close();
  });

  it('after a failed logout the path and token are kept for it, and it deletes the session', async () => {
    let refuse = true;
    const { transport, sync } = withSync((r) => {
      if (r.method === 'POST') return login('s7');
      return refuse ? json(500) : json(204);
    });
    const session = new Session({ transport, credentials: null });
    await session.open();
    await expect(session.close()).rejects.toBeInstanceOf(LogoutError);
    refuse = false;
    expect(session.closeSync()).toBe(true);
    expect(sync.map(describeCall)).toEqual([`DELETE ${SESSIONS}/s7 tok-s7`]);
  });
});

describe('closeSync() over a blocking transport that is not in-band', () => {
  it('without credentials a refused token DELETE has no second try (only in-band trusts the channel)', async () => {
    const { transport, sync } = withSync((r) => (r.method === 'POST' ? login('h1') : json(401)), 'https');
    const session = new Session({ transport, credentials: null });
    await session.open();
    expect(session.closeSync()).toBe(false);
    expect(sync.map(describeCall)).toEqual([`DELETE ${SESSIONS}/h1 tok-h1`]);
  });
});

describe('a re-login replaces the session: the old one is deleted first, or at close', () => {
  /** Login 1 gets token t1; a GET with t1 is a 401 (session lost); login 2 gets t2. */
  function relogin(deleteOld: (r: TransportRequest) => TransportResponse): ScriptHandler & ((r: TransportRequest) => TransportResponse) {
    let logins = 0;
    return (r) => {
      if (r.method === 'POST') {
        logins++;
        return login(`r${logins}`, `t${logins}`);
      }
      if (r.method === 'GET') return json(r.headers?.['X-Auth-Token'] === 't1' ? 401 : 200);
      if (r.path === `${SESSIONS}/r1`) return deleteOld(r);
      return json(204);
    };
  }

  it('deletes the old session before the new login', async () => {
    const { transport, calls } = scripted(relogin(() => json(204)));
    const session = new Session({ transport, credentials });
    await session.open();
    expect((await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' })).status).toBe(200);
    expect(calls.map(describeCall)).toEqual([
      `POST ${SESSIONS} (channel)`,
      'GET /redfish/v1/Systems/1 t1',
      `DELETE ${SESSIONS}/r1 t1`,
      `POST ${SESSIONS} (channel)`,
      'GET /redfish/v1/Systems/1 t2',
    ]);
    await session.close();
    expect(calls.slice(5).map(describeCall)).toEqual([`DELETE ${SESSIONS}/r2 t2`]);
  });

  it('an old session whose DELETE failed is deleted at close, before the current one; then released', async () => {
    let refuse = true;
    const { transport, calls } = scripted(relogin(() => (refuse ? json(500) : json(204))));
    const { events, observer } = observed();
    const session = new Session({ transport, credentials, observer });
    await session.open();
    await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' });
    refuse = false;
    const before = calls.length;
    await session.close();
    expect(calls.slice(before).map(describeCall)).toEqual([`DELETE ${SESSIONS}/r1 t1`, `DELETE ${SESSIONS}/r2 t2`]);
    expect(events).toEqual(['released']);
  });

  it('an old session that still cannot be deleted at close: a LogoutError naming it, the current one deleted, not released', async () => {
    const { transport, calls } = scripted(relogin(() => json(500)));
    const { events, observer } = observed();
    const session = new Session({ transport, credentials, observer });
    await session.open();
    await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' });
    const error = await session.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LogoutError);
    expect((error as Error).message).toContain(`could not delete the iLO session ${SESSIONS}/r1 that a re-login replaced`);
    expect((error as Error).message).not.toContain('t1');
    expect(calls.filter((c) => c.method === 'DELETE' && c.path === `${SESSIONS}/r2`)).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('closeSync() deletes the replaced session too, then the current one', async () => {
    let refuse = true;
    const handler = relogin(() => (refuse ? json(500) : json(204)));
    const { transport, sync } = withSync(handler);
    const { events, observer } = observed();
    const session = new Session({ transport, credentials, observer });
    await session.open();
    await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' });
    refuse = false;
    expect(session.closeSync()).toBe(true);
    expect(sync.map(describeCall)).toEqual([`DELETE ${SESSIONS}/r1 t1`, `DELETE ${SESSIONS}/r2 t2`]);
    expect(events).toEqual(['released']);
  });

  it('closeSync() keeps a replaced session it could not delete: the current one goes, but not released', async () => {
    const { transport, sync } = withSync(relogin(() => json(500)));
    const { events, observer } = observed();
    const session = new Session({ transport, credentials, observer });
    await session.open();
    await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' });
    expect(session.closeSync()).toBe(true);
    expect(sync.filter((r) => r.path === `${SESSIONS}/r2`)).toHaveLength(1);
    expect(events).toEqual([]);
  });
});

describe('the logout: one more try only for a failure to get an answer', () => {
  it('a transport failure (ConnectError) is retried once, and the second try deletes', async () => {
    let deletes = 0;
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return login('l1');
      if (++deletes === 1) throw new ConnectError('connection reset');
      return json(204);
    });
    const { events, observer } = observed();
    const session = new Session({ transport, credentials: null, observer });
    await session.open();
    await session.close();
    expect(deletes).toBe(2);
    expect(events).toEqual(['released']);
  });

  it('two transport failures: a LogoutError that names the path and the cause, after exactly two tries', async () => {
    let deletes = 0;
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return login('l2');
      deletes++;
      throw new ConnectError('connection reset');
    });
    const session = new Session({ transport, credentials: null });
    await session.open();
    const error = await session.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LogoutError);
    expect((error as Error).message).toBe(`could not delete the iLO session ${SESSIONS}/l2: connection reset`);
    expect((error as LogoutError).cause).toBeInstanceOf(ConnectError);
    expect(deletes).toBe(2);
  });

  it('an answer that refuses (RedfishError) is not retried: one token DELETE and one Basic DELETE', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? login('l3') : json(500)));
    const session = new Session({ transport, credentials });
    await session.open();
    const error = await session.close().catch((e: unknown) => e);
    expect((error as LogoutError).cause).toBeInstanceOf(RedfishError);
    expect(calls.filter((c) => c.method === 'DELETE').map(describeCall)).toEqual([`DELETE ${SESSIONS}/l3 tok-l3`, `DELETE ${SESSIONS}/l3 ${BASIC}`]);
  });

  it('an error that is not the project\'s own is not retried', async () => {
    let deletes = 0;
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return login('l4');
      deletes++;
      throw new TypeError('a bug');
    });
    const session = new Session({ transport, credentials: null });
    await session.open();
    await expect(session.close()).rejects.toBeInstanceOf(LogoutError);
    expect(deletes).toBe(1);
  });

  it('a close cut by its signal as the DELETE fails does not try again', async () => {
    const stop = new AbortController();
    let deletes = 0;
    const { transport: base } = scripted((r) => (r.method === 'POST' ? login('l5') : json(204)));
    // The failure and the stop arrive together: the transport's answer is the failure, not the abort.
    const transport: Transport = {
      ...base,
      request(r) {
        if (r.method !== 'DELETE') return base.request(r);
        deletes++;
        stop.abort();
        return Promise.reject(new ConnectError('connection reset'));
      },
    };
    const session = new Session({ transport, credentials: null });
    await session.open();
    const error = await session.close({ signal: stop.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogoutError);
    expect((error as LogoutError).cause).toBeInstanceOf(ConnectError);
    expect(deletes).toBe(1);
  });

  it('a token DELETE refused over HTTPS without credentials: E_REDFISH with the refusal, nothing more sent', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? login('l6') : json(401)));
    const session = new Session({ transport, credentials: null });
    await session.open();
    const error = await session.close().catch((e: unknown) => e);
    expect((error as LogoutError).cause).toBeInstanceOf(RedfishError);
    expect(((error as LogoutError).cause as IloAgentError).code).toBe('E_REDFISH');
    expect(((error as LogoutError).cause as RedfishError).method).toBe('DELETE');
    expect((error as Error).message).toContain(`DELETE ${SESSIONS}/l6 answered 401`);
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });
});

describe('close(): what it deletes, and what it says after', () => {
  it('a session never opened: nothing sent, closed, released', async () => {
    const { transport, calls } = scripted(() => json(200));
    const { events, observer } = observed();
    const session = new Session({ transport, credentials, observer });
    await session.close();
    expect(calls).toEqual([]);
    expect(session.state).toBe('closed');
    expect(events).toEqual(['released']);
  });

  it('after a deleted session: no path and no id are left', async () => {
    const { transport } = scripted((r) => (r.method === 'POST' ? login('c1') : json(204)));
    const session = new Session({ transport, credentials });
    await session.open();
    await session.close();
    expect(session.path).toBeNull();
    expect(session.id).toBeNull();
  });

  it('after a failed logout the path stays known (for the blocking DELETE and the messages)', async () => {
    const { transport } = scripted((r) => (r.method === 'POST' ? login('c2') : json(500)));
    const session = new Session({ transport, credentials });
    await session.open();
    await expect(session.close()).rejects.toBeInstanceOf(LogoutError);
    expect(session.path).toBe(`${SESSIONS}/c2`);
    expect(session.state).toBe('closed');
  });

  it('is "closing" while its DELETE is in flight', async () => {
    let answer: (r: TransportResponse) => void = () => undefined;
    let sent = false;
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return login('c0');
      sent = true;
      return new Promise<TransportResponse>((resolve) => (answer = resolve));
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const closing = session.close();
    await until(() => sent, 'the DELETE was sent');
    expect(session.state).toBe('closing');
    answer(json(204));
    await closing;
    expect(session.state).toBe('closed');
  });

  it('a close signal already aborted cuts a DELETE that would hang', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? login('c3') : new Promise<TransportResponse>(() => undefined)));
    const session = new Session({ transport, credentials: null });
    await session.open();
    await expect(session.close({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(LogoutError);
    // Refused before it was sent: the scripted transport never saw it.
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
  });

  it('a close signal that fires later cuts the DELETE in flight', async () => {
    const stop = new AbortController();
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return login('c4');
      stop.abort();
      return new Promise<TransportResponse>(() => undefined);
    });
    const session = new Session({ transport, credentials: null });
    await session.open();
    const error = await session.close({ signal: stop.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogoutError);
    expect(((error as LogoutError).cause as IloAgentError).code).toBe('E_ABORTED');
  });

  it('a login answered without a token, over HTTPS without credentials: the named session cannot be deleted, and says why', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? json(201, {}, { location: `${SESSIONS}/c5` }) : json(204)));
    const { events, observer } = observed();
    const session = new Session({ transport, credentials: null, observer });
    await expect(session.open()).rejects.toThrow();
    const error = await session.close().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogoutError);
    expect((error as Error).message).toContain(`cannot delete ${SESSIONS}/c5: no token and no credentials`);
    expect(((error as LogoutError).cause as IloAgentError).code).toBe('E_REDFISH');
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(events).toEqual([]);
  });

  it('after a successful Manager.Reset the session ended with the iLO: no DELETE, released', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' && r.path === SESSIONS ? login('c6') : json(200)));
    const { events, observer } = observed();
    const session = new Session({ transport, credentials, observer });
    await session.open();
    await session.request({ method: 'POST', path: '/redfish/v1/Managers/1/Actions/Manager.Reset', body: Buffer.from('{}') });
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(events).toEqual(['released']);
    expect(session.path).toBeNull();
  });

  it('a reset refused by the iLO ended nothing: the session is deleted', async () => {
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST' && r.path === SESSIONS) return login('c7');
      return r.method === 'POST' ? json(400) : json(204);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    await session.request({ method: 'POST', path: '/redfish/v1/Managers/1/Actions/Manager.Reset', body: Buffer.from('{}') });
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/c7`]);
  });

  it('a reset, then a re-login: the new session was made after the reset and is deleted', async () => {
    let logins = 0;
    let reset = false;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST' && r.path === SESSIONS) return login(`c8-${++logins}`, `t${logins}`);
      if (r.method === 'POST') return (reset = true), json(200);
      if (r.method === 'GET') return json(reset && r.headers?.['X-Auth-Token'] === 't1' ? 401 : 200);
      return json(204);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    await session.request({ method: 'POST', path: '/redfish/v1/Managers/1/Actions/Manager.Reset', body: Buffer.from('{}') });
    expect((await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' })).status).toBe(200);
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toContain(`${SESSIONS}/c8-2`);
  });
});

describe('which session a login answer names (what close deletes)', () => {
  it('a Location outside the Sessions collection is ignored for the body\'s @odata.id', async () => {
    const { transport, calls } = scripted((r) =>
      r.method === 'POST' ? json(201, { '@odata.id': `${SESSIONS}/o1` }, { location: '/redfish/v1/Systems/1', 'x-auth-token': 'tok' }) : json(204),
    );
    const session = new Session({ transport, credentials });
    await session.open();
    expect(session.path).toBe(`${SESSIONS}/o1`);
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/o1`]);
  });

  it('with a logger: an answer with no Location at all takes the @odata.id (nothing to warn about)', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const { transport } = scripted((r) => (r.method === 'POST' ? json(201, { '@odata.id': `${SESSIONS}/o0` }, { 'x-auth-token': 'tok' }) : json(204)));
    const session = new Session({ transport, credentials, logger });
    await session.open();
    expect(session.path).toBe(`${SESSIONS}/o0`);
    expect(lines.join('')).not.toContain('Location is not a session');
    await session.close();
  });

  it('a good Location wins over the body\'s @odata.id', async () => {
    const { transport } = scripted((r) =>
      r.method === 'POST' ? json(201, { '@odata.id': `${SESSIONS}/other` }, { location: `${SESSIONS}/o2`, 'x-auth-token': 'tok' }) : json(204),
    );
    const session = new Session({ transport, credentials });
    await session.open();
    expect(session.path).toBe(`${SESSIONS}/o2`);
    await session.close();
  });

  it('neither names it: MySession does, and the observer hears the path in a second call', async () => {
    const created: unknown[] = [];
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return json(201, {}, { 'x-auth-token': 'tok' });
      if (r.method === 'GET') return json(200, { Oem: { Hpe: { Links: { MySession: { '@odata.id': `${SESSIONS}/o3` } } } }, Members: [] });
      return json(204);
    });
    const session = new Session({ transport, credentials, observer: { sessionCreated: (s) => created.push(s) } });
    await session.open();
    expect(session.path).toBe(`${SESSIONS}/o3`);
    expect(created).toEqual([
      { path: null, token: 'tok' },
      { path: `${SESSIONS}/o3`, token: 'tok' },
    ]);
    await session.close();
  });

  it('nothing names it: open succeeds, but close does not call it released (a guardian must look)', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? json(201, {}, { 'x-auth-token': 'tok' }) : json(200, { Members: [] })));
    const created: unknown[] = [];
    const { events, observer } = observed();
    const session = new Session({ transport, credentials, observer: { ...observer, sessionCreated: (s) => created.push(s) } });
    await session.open();
    expect(session.path).toBeNull();
    expect(created).toEqual([{ path: null, token: 'tok' }]);
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(events).toEqual([]);
  });
});

describe('a login answered 2xx with neither a token nor a path', () => {
  it('is an interrupted login: no session reported, not released at close, and the client may search for it', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? json(201, {}) : json(200, { Members: [] })));
    const created: unknown[] = [];
    const started: unknown[] = [];
    const { events, observer } = observed();
    const session = new Session({ transport, credentials, observer: { ...observer, loginStarted: (l) => started.push(l), sessionCreated: (s) => created.push(s) } });
    const error = await session.open().then(
      () => undefined,
      (e: unknown) => e as IloAgentError,
    );
    expect(error?.code).toBe('E_PROTOCOL');
    expect(error?.message).toMatch(/answered the login with 201 but no X-Auth-Token/);
    // The guardian's login stays pending: a report naming nothing would have ended it.
    expect(started).toHaveLength(1);
    expect(created).toEqual([]);
    expect(session.interruptedLogin).toEqual({ user: 'admin', at: (started[0] as { at: number }).at });
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(events).toEqual([]);
  });

  it('with a path but no token: reported, and deleted by its path with Basic at close', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? json(201, {}, { location: `${SESSIONS}/np` }) : json(204)));
    const created: unknown[] = [];
    const session = new Session({ transport, credentials, observer: { sessionCreated: (s) => created.push(s) } });
    await expect(session.open()).rejects.toMatchObject({ code: 'E_PROTOCOL' });
    expect(created).toEqual([{ path: `${SESSIONS}/np`, token: null }]);
    expect(session.interruptedLogin).toBeNull();
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map(describeCall)).toEqual([`DELETE ${SESSIONS}/np ${BASIC}`]);
  });
});

describe('a re-login replacing a session nobody could name', () => {
  it('the new one is deleted at close, but the old one may still be on the iLO: not released', async () => {
    let logins = 0;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') {
        logins++;
        return logins === 1 ? json(201, {}, { 'x-auth-token': 't1' }) : login('u2', 't2');
      }
      if (r.method === 'GET' && r.path === '/redfish/v1/Systems/1') return json(r.headers?.['X-Auth-Token'] === 't1' ? 401 : 200);
      if (r.method === 'GET') return json(200, { Members: [] });
      return json(204);
    });
    const { events, observer } = observed();
    const session = new Session({ transport, credentials, observer });
    await session.open();
    expect((await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' })).status).toBe(200);
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/u2`]);
    expect(events).toEqual([]);
  });
});

describe('the path and deletion rules shared with the guardian', () => {
  it.each([
    ['/redfish/v1/SessionService/Sessions/a', true],
    ['/a/.../b', true],
    ['/a/.b', true],
    ['/a%20b', true],
    ['/a//b', true],
    ['a/b', false],
    ['//host/a', false],
    ['/a/./b', false],
    ['/a/../b', false],
    ['/a/..', false],
    ['/a%2Fb', false],
    ['/a%2eb', false],
    ['/a b', false],
    ['', false],
  ])('isCleanPath(%j) is %s', (path, clean) => {
    expect(isCleanPath(path)).toBe(clean);
  });

  it.each([
    ['/redfish/v1/SessionService/Sessions', true],
    ['/redfish/v1/SessionService/Sessions/', true],
    ['/redfish/v1/Sessions', true],
    ['/redfish/v1/A/B/sessions', true],
    ['/redfish/v1/SessionService/Sessions/x', false],
    ['/redfish/v1/SessionService/SessionsX', false],
    ['/redfish/v1/MySessions', false],
    ['/redfish/v2/Sessions', false],
    ['/x/redfish/v1/Sessions', false],
    ['/redfish/v1//Sessions', false],
    ['/redfish/v1/A/../Sessions', false],
  ])('isSessionsCollection(%j) is %s', (path, collection) => {
    expect(isSessionsCollection(path)).toBe(collection);
  });

  it('sessionPathOf trims, compares the collection case-insensitively, keeps the iLO\'s spelling and its trailing slash', () => {
    expect(sessionPathOf('  /redfish/v1/SessionService/Sessions/x  ')).toBe('/redfish/v1/SessionService/Sessions/x');
    expect(sessionPathOf('/REDFISH/V1/SESSIONSERVICE/SESSIONS/Ab/')).toBe('/REDFISH/V1/SESSIONSERVICE/SESSIONS/Ab/');
    expect(sessionPathOf('/redfish/v1/Other/Sessions/y', ['/redfish/v1/Other/Sessions/'])).toBe('/redfish/v1/Other/Sessions/y');
    expect(sessionPathOf('/redfish/v1/SessionService/Sessions/y', ['/redfish/v1/Other/Sessions'])).toBeNull();
    expect(sessionPathOf('/redfish/v1/SessionService/Sessions//')).toBeNull();
    expect(sessionPathOf(42)).toBeNull();
  });

  it('a token DELETE proves gone only by a 2xx; an authorised one by a 2xx or a 404', () => {
    const gone = [199, 200, 204, 299, 300, 401, 404].map((status) => [status, goneByToken({ status }), goneByAuthority({ status })]);
    expect(gone).toEqual([
      [199, false, false],
      [200, true, true],
      [204, true, true],
      [299, true, true],
      [300, false, false],
      [401, false, false],
      [404, false, true],
    ]);
  });

  it('deleteSession: no token and no authority sends nothing and answers status 0; a token-less one goes straight to the authority', async () => {
    const sent: string[] = [];
    const send = async (path: string, headers: Record<string, string>) => (sent.push(`${path} ${JSON.stringify(headers)}`), json(204));
    const refused = await deleteSession(send, '/s/1', null, undefined);
    expect(refused?.status).toBe(0);
    expect(sent).toEqual([]);
    expect(await deleteSession(send, '/s/2', null, {})).toBeUndefined();
    expect(sent).toEqual(['/s/2 {}']);
  });
});
