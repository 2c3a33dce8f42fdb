// Session's own rules around the login and the close, driven through a scripted transport: what the
// constructor refuses, open()'s signal and deadline, the state while a close waits for a login, the
// Basic mode's headers and refusals, the observer that lacks a method or throws, and what a close
// leaves on the caller's signal. Each case asserts what was sent and what the session says after.
import { getEventListeners } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AbortedError, AuthError, ClosedError, UsageError } from '../../src/errors.js';
import { Session } from '../../src/session/index.js';
import type { Transport, TransportRequest, TransportResponse } from '../../src/transport/index.js';
import { scripted, json } from '../helpers/scripted-transport.js';
import { rejectionOf, thrownBy, until } from '../helpers/wait.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';
const credentials = { username: 'admin', password: 'Zq9-canary-secret' };
const BASIC = `Basic ${Buffer.from('admin:Zq9-canary-secret').toString('base64')}`;
const login = (id: string) => json(201, {}, { location: `${SESSIONS}/${id}`, 'x-auth-token': `tok-${id}` });
const sent = (calls: TransportRequest[]) => calls.map((c) => `${c.method} ${c.path}`);

function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, logger, said: (text: string) => lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(text)) };
}

function held<T>() {
  let release!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (release = resolve));
  return { promise, release };
}

describe('the constructor', () => {
  it('Basic needs credentials', () => {
    const { transport } = scripted(() => json(200));
    const error = thrownBy(() => new Session({ transport, credentials: null, basic: true }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe('Basic authentication needs a user name and password');
  });

  it('Basic and an external login do not go together', () => {
    const { transport } = scripted(() => json(200));
    const externalLogin = { label: 'iLORest', acquire: async () => ({ token: 't', location: `${SESSIONS}/x` }) };
    expect(thrownBy(() => new Session({ transport, credentials, basic: true, externalLogin }))).toBeInstanceOf(UsageError);
  });
});

describe('open()', () => {
  it('a second open() is a ClosedError naming the state', async () => {
    const { transport } = scripted(() => login('o1'));
    const session = new Session({ transport, credentials });
    await session.open();
    const error = await rejectionOf(session.open());
    expect(error).toBeInstanceOf(ClosedError);
    expect(error.message).toBe('open() on a session that is open');
  });

  it('an aborted signal: nothing sent, and the AbortedError carries a signal name given as the reason', async () => {
    const { transport, calls } = scripted(() => login('o2'));
    const session = new Session({ transport, credentials });
    const controller = new AbortController();
    controller.abort('SIGTERM');
    const error = (await rejectionOf(session.open({ signal: controller.signal }))) as AbortedError;
    expect(error).toBeInstanceOf(AbortedError);
    expect([error.message, error.code, error.signal]).toEqual(['stopped', 'E_ABORTED', 'SIGTERM']);
    expect(calls).toEqual([]);
    expect(session.state).toBe('new');
  });

  it('a reason that is an AbortedError is the rejection itself; any other reason names no signal', async () => {
    const { transport } = scripted(() => login('o3'));
    const reason = new AbortedError('interrupted', 'SIGINT');
    const mine = new AbortController();
    mine.abort(reason);
    expect(await rejectionOf(new Session({ transport, credentials }).open({ signal: mine.signal }))).toBe(reason);
    const plain = new AbortController();
    plain.abort();
    const error = (await rejectionOf(new Session({ transport, credentials }).open({ signal: plain.signal }))) as AbortedError;
    expect([error.message, error.signal]).toEqual(['stopped', undefined]);
  });

  it('a signal that fires during the login does not cut it: the answer is waited for, then AbortedError', async () => {
    const answer = held<TransportResponse>();
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? answer.promise : json(204)));
    const session = new Session({ transport, credentials });
    const controller = new AbortController();
    const opened = rejectionOf(session.open({ signal: controller.signal }));
    await until(() => calls.length === 1, 'the POST');
    controller.abort('SIGTERM');
    answer.release(login('o4'));
    const error = (await opened) as AbortedError;
    expect(error.signal).toBe('SIGTERM');
    expect(session.path).toBe(`${SESSIONS}/o4`);
  });

  it('a deadline already past: the POST is never sent', async () => {
    const { transport, calls } = scripted(() => login('o5'));
    const session = new Session({ transport, credentials });
    const deadline = new AbortController();
    deadline.abort();
    const error = await rejectionOf(session.open({ deadline: deadline.signal }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(calls).toEqual([]);
  });

  it('a deadline during the login cuts it: the session may hold a login nobody can name', async () => {
    const { transport, calls } = scripted(() => new Promise<TransportResponse>(() => undefined));
    const log = captured();
    const session = new Session({ transport, credentials, logger: log.logger });
    const deadline = new AbortController();
    const opened = rejectionOf(session.open({ deadline: deadline.signal }));
    await until(() => calls.length === 1, 'the POST');
    deadline.abort();
    const error = await opened;
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe(`POST ${SESSIONS} aborted`);
    expect(session.interruptedLogin).toMatchObject({ user: 'admin' });
    await session.close();
    // No guardian option: nobody else looks for it.
    expect(log.said('the login was cut off').map((l) => l.msg)).toEqual(['the login was cut off before the iLO answered; if the iLO made a session, it stays until its idle timeout']);
  });
});

describe('close() while the login is in flight', () => {
  it('stays "closing" once the login is in, until its DELETE is done', async () => {
    const answer = held<TransportResponse>();
    const deleted = held<TransportResponse>();
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? answer.promise : deleted.promise));
    const session = new Session({ transport, credentials });
    const opened = session.open();
    await until(() => calls.length === 1, 'the POST');
    const closed = session.close();
    answer.release(login('c1'));
    await opened;
    await until(() => calls.length === 2, 'the DELETE');
    expect(session.state).toBe('closing');
    expect(await rejectionOf(session.request({ method: 'GET', path: '/redfish/v1/' }))).toBeInstanceOf(ClosedError);
    deleted.release(json(204));
    await closed;
    expect(session.state).toBe('closed');
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `DELETE ${SESSIONS}/c1`]);
  });

  it('the close signal\'s listener is taken away, and the session forgets its path and token', async () => {
    const { transport } = scripted((r) => (r.method === 'POST' ? login('c2') : json(204)));
    const session = new Session({ transport, credentials });
    await session.open();
    const controller = new AbortController();
    await session.close({ signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(session.path).toBeNull();
    expect(session.id).toBeNull();
  });
});

describe('Basic (no session)', () => {
  it('the caller\'s token and Authorization headers are replaced, by exact name only', async () => {
    const { transport, calls } = scripted(() => json(200));
    const session = new Session({ transport, credentials, basic: true });
    await session.open();
    await session.request({ method: 'GET', path: '/redfish/v1/Systems/1', headers: { 'x-auth-token': 'old', AUTHORIZATION: 'Bearer z', 'X-Authorization': 'a', 'Authorization-Hint': 'b', 'If-Match': '*' } });
    expect(calls[0]?.headers).toEqual({ 'X-Authorization': 'a', 'Authorization-Hint': 'b', 'If-Match': '*', Authorization: BASIC });
  });

  it('a 401 is an AuthError naming the user, with the iLO\'s messages', async () => {
    const { transport } = scripted(() => json(401, { error: { '@Message.ExtendedInfo': [{ MessageId: 'Base.1.4.NoValidSession' }] } }));
    const session = new Session({ transport, credentials, basic: true });
    await session.open();
    const error = (await rejectionOf(session.request({ method: 'GET', path: '/redfish/v1/' }))) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe('the iLO refused the Basic credentials of admin (Base.1.4.NoValidSession)');
    expect([error.status, error.messages]).toEqual([401, [{ MessageId: 'Base.1.4.NoValidSession' }]]);
  });

  it('a 401 that comes after close() (the credentials are forgotten) names "the user"', async () => {
    const answer = held<TransportResponse>();
    const { transport, calls } = scripted(() => answer.promise);
    const session = new Session({ transport, credentials, basic: true });
    await session.open();
    const pending = rejectionOf(session.request({ method: 'GET', path: '/redfish/v1/' }));
    await until(() => calls.length === 1, 'the GET');
    await session.close();
    answer.release(json(401));
    expect((await pending).message).toBe('the iLO refused the Basic credentials of the user');
  });
});

describe('the observer', () => {
  it('one without a method is not a failure', async () => {
    const { transport } = scripted((r) => (r.method === 'POST' ? login('v1') : json(204)));
    const log = captured();
    const session = new Session({ transport, credentials, logger: log.logger, observer: {} });
    await session.open();
    await session.close();
    expect(log.said('observer failed')).toEqual([]);
  });

  it('one that throws: the session goes on, and it is said at debug with the event', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? login('v2') : json(204)));
    const log = captured();
    const observer = {
      loginStarted: () => {
        throw new Error('observer down');
      },
    };
    const session = new Session({ transport, credentials, logger: log.logger, observer });
    await session.open();
    await session.close();
    expect(sent(calls)).toEqual([`POST ${SESSIONS}`, `DELETE ${SESSIONS}/v2`]);
    const lines = log.said('the session observer failed');
    expect(lines.map((l) => [l.level, l.event, (l.err as { message: string }).message])).toEqual([[20, 'loginStarted', 'observer down']]);
  });

  it('one that throws, without a logger: still not the session\'s failure', async () => {
    const { transport } = scripted((r) => (r.method === 'POST' ? login('v3') : json(204)));
    const observer = {
      sessionCreated: () => {
        throw new Error('observer down');
      },
    };
    const session = new Session({ transport, credentials, observer });
    await session.open();
    expect(session.path).toBe(`${SESSIONS}/v3`);
    await session.close();
    expect(session.state).toBe('closed');
  });
});

describe('closeSync()', () => {
  it('before any session, with a blocking transport: false and nothing sent', () => {
    const { transport: base } = scripted(() => json(204), { kind: 'chif' });
    const sync: TransportRequest[] = [];
    const transport: Transport = { ...base, requestSync: (r) => (sync.push(r), json(204)) };
    const session = new Session({ transport, credentials: null });
    expect(session.closeSync()).toBe(false);
    expect(sync).toEqual([]);
  });

  it('says which session it deleted', async () => {
    const { transport: base } = scripted(() => login('y1'), { kind: 'chif' });
    const transport: Transport = { ...base, requestSync: () => json(204) };
    const log = captured();
    const session = new Session({ transport, credentials: null, logger: log.logger });
    await session.open();
    expect(session.closeSync()).toBe(true);
    expect(log.said('session deleted by a blocking request on the way out').map((l) => [l.level, l.session])).toEqual([[40, `${SESSIONS}/y1`]]);
  });
});
