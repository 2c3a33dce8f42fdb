// The login POST's answer rules, driven through Session with a scripted transport: which answers are
// a session, which send the login to the Sessions path the service root names (once), which are
// "busy" (paused by Retry-After and retried), which are refused credentials, a full table, or
// another error. Each case asserts the error (class, code, exact message, status) and which
// requests went out in which order. Pauses run on a fake clock (setTimeout and Date), so that how
// long a pause is shows as "no POST yet" one millisecond before it ends, without a real wait.
import { getEventListeners } from 'node:events';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, AuthError, ProtocolError, RedfishError, SessionLimitError } from '../../src/errors.js';
import { Session } from '../../src/session/index.js';
import { pause } from '../../src/session/login.js';
import type { TransportRequest, TransportResponse } from '../../src/transport/index.js';
import { scripted, type ScriptHandler, json } from '../helpers/scripted-transport.js';
import { rejectionOf } from '../helpers/wait.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';
const ROOT = '/redfish/v1/';
const ALT = '/redfish/v1/Alt/Sessions';
const credentials = { username: 'admin', password: 'Zq9-canary-secret' };
const created = (path: string, token = 'tok') => json(201, {}, { location: path, 'x-auth-token': token });
const envelope = (...ids: string[]) => ({ error: { code: 'iLO.0.10.ExtendedInfo', '@Message.ExtendedInfo': ids.map((MessageId) => ({ MessageId })) } });
const rootNaming = (sessions: string) => json(200, { Links: { Sessions: { '@odata.id': sessions } } });
const sent = (calls: TransportRequest[]) => calls.map((c) => `${c.method} ${c.path}`);

function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, logger, said: (text: string) => lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(text)) };
}

/** A session over `handler`, opened; the open()'s error, if any. */
async function openWith(handler: ScriptHandler, withCredentials = true) {
  const { transport, calls } = scripted(handler);
  const log = captured();
  const session = new Session({ transport, credentials: withCredentials ? credentials : null, logger: log.logger });
  const error = await session.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { session, calls, error, ...log };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('which answers are a session', () => {
  it('sends the credentials as JSON with a JSON content type', async () => {
    const { calls, error } = await openWith(() => created(`${SESSIONS}/s1`));
    expect(error).toBeUndefined();
    expect(calls[0]?.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(JSON.parse(Buffer.from(calls[0]?.body ?? []).toString())).toEqual({ UserName: 'admin', Password: 'Zq9-canary-secret' });
  });

  it('a 200 is a session as much as a 201', async () => {
    const { session, error } = await openWith(() => json(200, {}, { location: `${SESSIONS}/s2`, 'x-auth-token': 't2' }));
    expect(error).toBeUndefined();
    expect(session.path).toBe(`${SESSIONS}/s2`);
  });

  it('nor is a 1xx', async () => {
    const { error } = await openWith(() => json(101, {}, { location: `${SESSIONS}/s0`, 'x-auth-token': 't0' }));
    expect((error as RedfishError).message).toBe(`POST ${SESSIONS} answered 101 ({})`);
  });

  it('a 300 is not: it is a RedfishError naming the POST', async () => {
    const { calls, error } = await openWith(() => json(300, {}, { location: `${SESSIONS}/s3`, 'x-auth-token': 't3' }));
    expect(error).toBeInstanceOf(RedfishError);
    expect((error as RedfishError).message).toBe(`POST ${SESSIONS} answered 300 ({})`);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`]);
  });
});

describe('404/405: the Sessions path the service root names, tried once', () => {
  it('a 404 asks the service root and logs in once at the path it names', async () => {
    const { session, calls, error } = await openWith((r) => {
      if (r.method === 'GET') return rootNaming(ALT);
      return r.path === ALT ? created(`${ALT}/a1`) : json(404);
    });
    expect(error).toBeUndefined();
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `GET ${ROOT}`, `POST ${ALT}`]);
    expect(session.path).toBe(`${ALT}/a1`);
  });

  it('a 405 does too', async () => {
    const { calls, error } = await openWith((r) => {
      if (r.method === 'GET') return rootNaming(ALT);
      return r.path === ALT ? created(`${ALT}/a2`) : json(405);
    });
    expect(error).toBeUndefined();
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `GET ${ROOT}`, `POST ${ALT}`]);
  });

  it('a 404 at the discovered path too is the error: no second discovery', async () => {
    const { calls, error } = await openWith((r) => (r.method === 'GET' ? rootNaming(ALT) : json(404)));
    expect(error).toBeInstanceOf(RedfishError);
    expect((error as RedfishError).message).toBe(`POST ${ALT} answered 404 ({})`);
    expect((error as RedfishError).code).toBe('E_REDFISH');
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `GET ${ROOT}`, `POST ${ALT}`]);
  });

  it('the root naming the same path: no second POST', async () => {
    const { calls, error } = await openWith((r) => (r.method === 'GET' ? rootNaming(`${SESSIONS}`) : json(405)));
    expect((error as RedfishError).message).toBe(`POST ${SESSIONS} answered 405 ({})`);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `GET ${ROOT}`]);
  });

  it.each([
    ['not a Sessions collection', '/redfish/v1/AccountService/Accounts'],
    ['a path that climbs', '/redfish/v1/Alt/../Sessions'],
    ['not a string', 7],
  ])('credentials never go to a discovered path that is %s', async (_what, named) => {
    const { calls, error } = await openWith((r) => (r.method === 'GET' ? json(200, { Links: { Sessions: { '@odata.id': named } } }) : json(404)));
    expect((error as RedfishError).message).toBe(`POST ${SESSIONS} answered 404 ({})`);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `GET ${ROOT}`]);
  });

  it('other refusals do not ask the service root', async () => {
    const { calls, error } = await openWith(() => json(401));
    expect(error).toBeInstanceOf(AuthError);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`]);
  });
});

describe('refusals: credentials, a full table, anything else', () => {
  it('a 401 is an AuthError naming the user, with the iLO\'s messages', async () => {
    const { error } = await openWith(() => json(401, envelope('Base.1.4.NoValidSession')));
    expect(error).toBeInstanceOf(AuthError);
    const auth = error as AuthError;
    expect(auth.message).toBe('the iLO refused the login of admin (Base.1.4.NoValidSession)');
    expect(auth.code).toBe('E_AUTH');
    expect(auth.status).toBe(401);
    expect(auth.messages).toEqual([{ MessageId: 'Base.1.4.NoValidSession' }]);
  });

  it('with null credentials, it names nobody', async () => {
    const { calls, error } = await openWith(() => json(401), false);
    expect((error as AuthError).message).toBe('the iLO refused the login');
    expect(JSON.parse(Buffer.from(calls[0]?.body ?? []).toString())).toEqual({ UserName: null, Password: null });
  });

  it('a 403 InsufficientPrivilege is an AuthError with status 403', async () => {
    const { error } = await openWith(() => json(403, envelope('Base.1.4.InsufficientPrivilege')));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).message).toBe('the iLO refused the login of admin (Base.1.4.InsufficientPrivilege)');
    expect((error as AuthError).status).toBe(403);
  });

  it('InsufficientPrivilege on another status is not an AuthError', async () => {
    const { error } = await openWith(() => json(400, envelope('Base.1.4.InsufficientPrivilege')));
    expect(error).toBeInstanceOf(RedfishError);
    expect((error as RedfishError).message).toBe(`POST ${SESSIONS} answered 400 (Base.1.4.InsufficientPrivilege)`);
  });

  it.each([403, 503])('a bare %i is a full session table', async (status) => {
    const { calls, error } = await openWith(() => json(status));
    expect(error).toBeInstanceOf(SessionLimitError);
    const full = error as SessionLimitError;
    expect(full.code).toBe('E_SESSION_LIMIT');
    expect(full.status).toBe(status);
    expect(full.messages).toEqual([]);
    expect(full.message).toMatch(/^the iLO refused a new session: its session table is full\. /);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`]);
  });

  it('SessionLimitExceeded is a full table whatever the status, with its messages', async () => {
    const { calls, error } = await openWith(() => json(400, envelope('Base.1.4.SessionLimitExceeded')));
    expect(error).toBeInstanceOf(SessionLimitError);
    const full = error as SessionLimitError;
    expect(full.status).toBe(400);
    expect(full.messages).toEqual([{ MessageId: 'Base.1.4.SessionLimitExceeded' }]);
    expect(full.message).toMatch(/^the iLO refused a new session: its session table is full \(Base\.1\.4\.SessionLimitExceeded\)\. /);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`]);
  });

  it('a 503 with another message is a full table at once, not a retry', async () => {
    const { calls, error } = await openWith(() => json(503, envelope('Base.1.4.InternalError')));
    expect(error).toBeInstanceOf(SessionLimitError);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`]);
  });

  it('a ServiceTemporarilyUnavailable on a 500 is not retried', async () => {
    const { calls, error } = await openWith(() => json(500, envelope('Base.1.4.ServiceTemporarilyUnavailable')));
    expect(error).toBeInstanceOf(RedfishError);
    const failed = error as RedfishError;
    expect(failed.message).toBe(`POST ${SESSIONS} answered 500 (Base.1.4.ServiceTemporarilyUnavailable)`);
    expect([failed.code, failed.status, failed.method, failed.path]).toEqual(['E_REDFISH', 500, 'POST', SESSIONS]);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`]);
  });
});

describe('503 ServiceTemporarilyUnavailable: paused by Retry-After, three POSTs at most', () => {
  const busy = (retryAfter?: string) => json(503, envelope('Base.1.4.ServiceTemporarilyUnavailable'), retryAfter === undefined ? {} : { 'Retry-After': retryAfter });

  it('busy three times is a full table; a fourth POST is never sent', async () => {
    let posts = 0;
    const { calls, error } = await openWith(() => (++posts <= 3 ? busy('0') : created(`${SESSIONS}/late`)));
    expect(error).toBeInstanceOf(SessionLimitError);
    expect((error as SessionLimitError).status).toBe(503);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `POST ${SESSIONS}`, `POST ${SESSIONS}`]);
  });

  it('busy twice, then a session', async () => {
    let posts = 0;
    const { session, calls, error } = await openWith(() => (++posts <= 2 ? busy('0') : created(`${SESSIONS}/third`)));
    expect(error).toBeUndefined();
    expect(session.path).toBe(`${SESSIONS}/third`);
    expect(calls).toHaveLength(3);
  });

  // The pause, on the fake clock: no second POST a millisecond before it ends, one when it does.
  it.each([
    ['0', 0],
    ['2', 2_000],
    ['30', 5_000],
    [undefined, 1_000],
    ['-1', 1_000],
    ['soon', 1_000],
    ['Infinity', 1_000],
  ])('Retry-After %s pauses %i ms', async (retryAfter, ms) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let posts = 0;
    const { transport, calls } = scripted(() => (++posts === 1 ? busy(retryAfter) : created(`${SESSIONS}/after`)));
    const session = new Session({ transport, credentials });
    const opened = session.open();
    if (ms > 0) {
      await vi.advanceTimersByTimeAsync(ms - 1);
      expect(calls).toHaveLength(1);
    }
    await vi.advanceTimersByTimeAsync(1);
    // Checked before awaiting open(): a longer pause would otherwise never end on the fake clock.
    expect(calls).toHaveLength(2);
    await opened;
    expect(session.path).toBe(`${SESSIONS}/after`);
  });

  it('a deadline during the pause ends it at once: AbortedError, no further POST', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { transport, calls } = scripted(() => busy('5'));
    const deadline = new AbortController();
    const session = new Session({ transport, credentials });
    const error = rejectionOf(session.open({ deadline: deadline.signal }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(1);
    deadline.abort();
    // Were the abort not heard, the pause would end here and the next POST be refused as aborted.
    await vi.advanceTimersByTimeAsync(5_000);
    const stopped = await error;
    expect(stopped).toBeInstanceOf(AbortedError);
    expect(stopped.message).toBe('stopped');
    expect(calls).toHaveLength(1);
  });

  it('a deadline that fired before the pause starts: AbortedError without pausing', async () => {
    const deadline = new AbortController();
    const { transport, calls } = scripted(() => busy('0'));
    // The refusal is announced after the answer is in and before the pause: the deadline fires there.
    const session = new Session({ transport, credentials, observer: { loginRefused: () => deadline.abort() } });
    const stopped = await rejectionOf(session.open({ deadline: deadline.signal }));
    expect(stopped).toBeInstanceOf(AbortedError);
    expect(stopped.message).toBe('stopped');
    expect(stopped.code).toBe('E_ABORTED');
    expect(calls).toHaveLength(1);
  });
});

describe('the notice of a slow login', () => {
  it('said once the POST has had no answer for 2 s, not before; never for an answered login', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let answer!: (r: TransportResponse) => void;
    const { transport } = scripted(() => new Promise<TransportResponse>((resolve) => (answer = resolve)));
    const log = captured();
    const session = new Session({ transport, credentials, logger: log.logger });
    const opened = session.open();
    const notice = 'the login has had no answer for 2 s: the iLO delays logins after failed attempts; waiting';
    await vi.advanceTimersByTimeAsync(1_999);
    expect(log.said('no answer')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const said = log.said('no answer');
    expect(said.map((l) => [l.msg, l.waitedMs, l.level])).toEqual([[notice, 2_000, 40]]);
    answer(created(`${SESSIONS}/slow`));
    await opened;
    expect(session.path).toBe(`${SESSIONS}/slow`);
  });

  it('without a logger, the 2 s pass without a throw', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let answer!: (r: TransportResponse) => void;
    const { transport } = scripted(() => new Promise<TransportResponse>((resolve) => (answer = resolve)));
    const session = new Session({ transport, credentials });
    const opened = session.open();
    await vi.advanceTimersByTimeAsync(2_000);
    answer(created(`${SESSIONS}/quiet`));
    await opened;
    expect(session.path).toBe(`${SESSIONS}/quiet`);
  });

  it('an answer in time clears it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { transport } = scripted(() => created(`${SESSIONS}/quick`));
    const log = captured();
    const session = new Session({ transport, credentials, logger: log.logger });
    const opened = session.open();
    await vi.advanceTimersByTimeAsync(0);
    await opened;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(log.said('no answer')).toEqual([]);
  });
});

describe('a login answer that names no session: MySession', () => {
  const tokenOnly = () => json(201, {}, { 'x-auth-token': 'tk' });

  it('the collection\'s MySession link, with one GET', async () => {
    const { session, calls, error, said } = await openWith((r) =>
      r.method === 'POST' ? tokenOnly() : json(200, { Members: [{ '@odata.id': `${SESSIONS}/m0` }], Oem: { Hpe: { Links: { MySession: { '@odata.id': `${SESSIONS}/m1` } } } } }),
    );
    expect(error).toBeUndefined();
    expect(session.path).toBe(`${SESSIONS}/m1`);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `GET ${SESSIONS}`]);
    expect(calls[1]?.headers).toEqual({ 'X-Auth-Token': 'tk' });
    expect(said('found it through Oem.Hpe.Links.MySession')).toHaveLength(1);
    expect(said('session created').map((l) => l.session)).toEqual([`${SESSIONS}/m1`]);
  });

  it('else the member whose body says MySession, only with a 200', async () => {
    const { session, calls, error } = await openWith((r) => {
      if (r.method === 'POST') return tokenOnly();
      if (r.path === SESSIONS) return json(200, { Members: ['a', 'b', 'c'].map((id) => ({ '@odata.id': `${SESSIONS}/${id}` })) });
      if (r.path.endsWith('/a')) return json(200, { Oem: { Hpe: { MySession: false } } });
      if (r.path.endsWith('/b')) return json(404, { Oem: { Hpe: { MySession: true } } });
      return json(200, { Oem: { Hpe: { MySession: true } } });
    });
    expect(error).toBeUndefined();
    expect(session.path).toBe(`${SESSIONS}/c`);
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `GET ${SESSIONS}`, `GET ${SESSIONS}/a`, `GET ${SESSIONS}/b`, `GET ${SESSIONS}/c`]);
  });

  it('a listing that is not a 200: no path, said as an error, and the session is still open with its token', async () => {
    const { session, calls, error, lines } = await openWith((r) => (r.method === 'POST' ? tokenOnly() : json(500)));
    expect(error).toBeUndefined();
    expect(session.path).toBeNull();
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `GET ${SESSIONS}`]);
    const errors = lines.filter((l) => l.level === 50).map((l) => l.msg);
    expect(errors).toEqual(['the iLO gave no way to find this session (no usable Location, @odata.id or MySession); it cannot be deleted and stays until its idle timeout']);
    expect(lines.filter((l) => l.msg === 'session created').map((l) => [l.session, l.level])).toEqual([[null, 30]]);
  });

  it('members none of which is ours: no path', async () => {
    const { session, error } = await openWith((r) => {
      if (r.method === 'POST') return tokenOnly();
      return r.path === SESSIONS ? json(200, { Members: [{ '@odata.id': `${SESSIONS}/x` }] }) : json(200, {});
    });
    expect(error).toBeUndefined();
    expect(session.path).toBeNull();
  });
});

describe('the external login', () => {
  it('an answer without a token is a ProtocolError naming who logged in', async () => {
    const { transport } = scripted(() => json(204));
    const session = new Session({ transport, credentials: null, externalLogin: { label: 'iLORest', acquire: async () => ({ token: '', location: '' }) } });
    const error = await rejectionOf(session.open());
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toBe('the iLORest login answered no session token');
  });
});

// pause() is login.ts's export that logout.ts uses too: a sleep the signal cuts, which leaves no
// listener on the signal however it ends (a serve's session signal lives for many pauses).
describe('pause()', () => {
  it('ends by its time and takes its abort listener away', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const controller = new AbortController();
    let done = false;
    const paused = pause(300, controller.signal).then(() => (done = true));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(299);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await paused;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an abort during it rejects at once and leaves no listener', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const controller = new AbortController();
    const paused = rejectionOf(pause(300, controller.signal));
    controller.abort();
    const error = await paused;
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe('stopped');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
