// The external login strategy (an app token made into a session by HPE's library): the observer
// hears "login started" before the call, the answer is adopted as a login answer, a 401 calls it
// again, and the session is deleted with a DELETE like any other.
import { describe, expect, it } from 'vitest';
import { AppAccountError } from '../../src/errors.js';
import { Session, type ExternalLogin } from '../../src/session/index.js';
import type { TransportResponse } from '../../src/transport/index.js';
import { scripted } from '../helpers/scripted-transport.js';

const ok = (status = 200, body: unknown = {}): TransportResponse => ({ status, headers: {}, body: Buffer.from(JSON.stringify(body)) });

function fakeIlo(valid: Set<string>, refuseOnce = new Set<string>()) {
  return scripted(
    (request) => {
      if (request.method === 'POST') return ok(500);
      const token = request.headers?.['X-Auth-Token'];
      if (!token || !valid.has(token)) return ok(401);
      if (request.method === 'GET' && refuseOnce.delete(token)) return ok(401);
      if (request.method === 'DELETE') {
        valid.delete(token);
        return ok(200);
      }
      return ok(200, { Id: '1' });
    },
    { description: 'https://16.1.15.1' },
  );
}

function external(answers: Array<() => Promise<{ token: string; location: string }>>, events: string[]): ExternalLogin & { count: number } {
  const login = {
    label: 'iLORest',
    count: 0,
    acquire: async () => {
      events.push('acquire');
      const next = answers[login.count++];
      if (!next) throw new Error('no more answers');
      return next();
    },
  };
  return login;
}

describe('external login', () => {
  it('tells the observer before the call, adopts an absolute location, sends the token, deletes with DELETE', async () => {
    const valid = new Set(['tok-1']);
    const { transport, calls } = fakeIlo(valid);
    const events: string[] = [];
    const login = external([async () => ({ token: 'tok-1', location: 'https://16.1.15.1/redfish/v1/SessionService/Sessions/ilorest0001/' })], events);
    const session = new Session({
      transport,
      credentials: null,
      externalLogin: login,
      observer: {
        loginStarted: (l) => events.push(`started ${l.user}`),
        sessionCreated: (s) => events.push(`created ${s.path} ${s.token}`),
        released: () => events.push('released'),
      },
    });
    await session.open();
    expect(events.slice(0, 3)).toEqual(['started iLORest', 'acquire', 'created /redfish/v1/SessionService/Sessions/ilorest0001/ tok-1']);
    expect(session.path).toBe('/redfish/v1/SessionService/Sessions/ilorest0001/');
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
    expect((await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' })).status).toBe(200);
    expect(calls.at(-1)?.headers?.['X-Auth-Token']).toBe('tok-1');
    await session.close();
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', path: '/redfish/v1/SessionService/Sessions/ilorest0001/' });
    expect(valid.size).toBe(0);
    expect(events.at(-1)).toBe('released');
  });

  it('a bare location is adopted too; a location outside the Sessions collection is not', async () => {
    const bare = new Session({ transport: fakeIlo(new Set(['t'])).transport, credentials: null, externalLogin: external([async () => ({ token: 't', location: '/redfish/v1/SessionService/Sessions/x1' })], []) });
    await bare.open();
    expect(bare.path).toBe('/redfish/v1/SessionService/Sessions/x1');
    await bare.close();
    // Outside the collection: not trusted; MySession is looked for (none here), the session stays unnamed.
    const bad = new Session({ transport: fakeIlo(new Set(['t'])).transport, credentials: null, externalLogin: external([async () => ({ token: 't', location: 'https://16.1.15.1/redfish/v1/AccountService/Accounts/1' })], []) });
    await bad.open();
    expect(bad.path).toBeNull();
    await bad.close();
  });

  it('after a 401 the login is acquired again and the old session deleted', async () => {
    const valid = new Set(['tok-1']);
    // The iLO refuses the token once (a 401 for its own reasons); the session itself lives on.
    const { transport, calls } = fakeIlo(valid, new Set(['tok-1']));
    const events: string[] = [];
    const session = new Session({
      transport,
      credentials: null,
      externalLogin: external(
        [
          async () => ({ token: 'tok-1', location: '/redfish/v1/SessionService/Sessions/a' }),
          async () => {
            valid.add('tok-2');
            return { token: 'tok-2', location: '/redfish/v1/SessionService/Sessions/b' };
          },
        ],
        events,
      ),
    });
    await session.open();
    expect((await session.request({ method: 'GET', path: '/redfish/v1/Systems/1' })).status).toBe(200);
    expect(events.filter((e) => e === 'acquire')).toHaveLength(2);
    expect(session.path).toBe('/redfish/v1/SessionService/Sessions/b');
    expect(valid.has('tok-1')).toBe(false); // the old one deleted before the new login
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/redfish/v1/SessionService/Sessions/a', '/redfish/v1/SessionService/Sessions/b']);
    expect(valid.size).toBe(0);
  });

  it('a failure that made no session is "refused"; one that may have made a session stays unanswered (not released)', async () => {
    const events: string[] = [];
    const observer = { loginRefused: () => events.push('refused'), released: () => events.push('released') };
    const none = new Session({
      transport: fakeIlo(new Set()).transport,
      credentials: null,
      observer,
      externalLogin: external([async () => Promise.reject(new AppAccountError('no account'))], []),
    });
    await expect(none.open()).rejects.toThrow('no account');
    await none.close();
    expect(events).toEqual(['refused', 'released']);
    events.length = 0;
    const maybe = new Session({
      transport: fakeIlo(new Set()).transport,
      credentials: null,
      observer,
      externalLogin: external([async () => Promise.reject(new AppAccountError('rc -5', { libraryCode: -5, mayHaveSession: true }))], []),
    });
    await expect(maybe.open()).rejects.toThrow('rc -5');
    expect(maybe.interruptedLogin).toMatchObject({ user: 'iLORest' });
    await maybe.close();
    expect(events).toEqual([]);
  });
});
