// The re-login after a 401, driven through a scripted transport with the answers held back where the
// order matters: several 401s sharing one login, the backoff between logins that keep failing or keep
// being refused (Date frozen and moved by hand; timers stay real), the warning said once per session,
// and what close() says of the sessions re-logins replaced. Each case counts what was sent.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthError, IloAgentError, LogoutError, ProtocolError } from '../../src/errors.js';
import { Session } from '../../src/session/index.js';
import type { TransportRequest, TransportResponse } from '../../src/transport/index.js';
import { scripted, json } from '../helpers/scripted-transport.js';
import { rejectionOf, until } from '../helpers/wait.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';
const SYSTEM = '/redfish/v1/Systems/1';
const T0 = 1_800_000_000_000;
const credentials = { username: 'admin', password: 'Zq9-canary-secret' };
const login = (n: number) => json(201, {}, { location: `${SESSIONS}/r${n}`, 'x-auth-token': `t${n}` });
const tokenOf = (r: TransportRequest) => r.headers?.['X-Auth-Token'];
const posts = (calls: TransportRequest[]) => calls.filter((c) => c.method === 'POST' && c.path === SESSIONS).length;

/** An answer held back until the test lets it go. */
function held<T>() {
  let release!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (release = resolve));
  return { promise, release };
}

/** A logger whose lines the test reads. */
function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, logger, said: (text: string) => lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(text)) };
}

// Only Date is faked: the backoff reads Date.now(), and a frozen clock makes "not yet" exact.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('several 401s share one re-login', () => {
  it('three 401s answered at once: one more login, one DELETE of the old session, each request retried with the new token', async () => {
    const answer401 = held<TransportResponse>();
    let logins = 0;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') return login(++logins);
      if (r.method === 'GET') return tokenOf(r) === 't1' ? answer401.promise : json(200);
      return json(204);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const answers = [1, 2, 3].map(() => session.request({ method: 'GET', path: SYSTEM }));
    await until(() => calls.filter((c) => tokenOf(c) === 't1').length === 3, 'three GETs with t1');
    answer401.release(json(401));
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(posts(calls)).toBe(2);
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/r1`]);
    expect(calls.filter((c) => c.method === 'GET').map(tokenOf)).toEqual(['t1', 't1', 't1', 't2', 't2', 't2']);
    await session.close();
  });

  it('401s that come while the new login is in flight wait for it (no backoff refusal, no second login)', async () => {
    const late401 = held<TransportResponse>();
    const secondLogin = held<TransportResponse>();
    let logins = 0;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') return ++logins === 1 ? login(1) : secondLogin.promise;
      if (r.method === 'GET' && tokenOf(r) === 't1') return r.path === SYSTEM ? json(401) : late401.promise;
      return json(200);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const late = [session.request({ method: 'GET', path: '/redfish/v1/Chassis/1' }), session.request({ method: 'GET', path: '/redfish/v1/Chassis/2' })];
    await until(() => calls.length === 3, 'the two late GETs sent');
    const first = session.request({ method: 'GET', path: SYSTEM });
    await until(() => posts(calls) === 2, 'the re-login POST sent');
    late401.release(json(401));
    // One macrotask turn: the late 401s (microtasks) reach the session while the login is unanswered.
    await new Promise((resolve) => setImmediate(resolve));
    secondLogin.release(login(2));
    expect((await Promise.all([first, ...late])).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(posts(calls)).toBe(2);
  });

  it('a 401 that comes after the re-login is over is retried with the new token, not a login of its own', async () => {
    const late401 = held<TransportResponse>();
    let logins = 0;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') return login(++logins);
      if (r.method === 'GET' && tokenOf(r) === 't1') return r.path === SYSTEM ? json(401) : late401.promise;
      return json(200);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const late = session.request({ method: 'GET', path: '/redfish/v1/Chassis/1' });
    await until(() => calls.length === 2, 'the late GET sent');
    expect((await session.request({ method: 'GET', path: SYSTEM })).status).toBe(200);
    late401.release(json(401));
    expect((await late).status).toBe(200);
    expect(calls.at(-1)).toMatchObject({ method: 'GET', path: '/redfish/v1/Chassis/1', headers: { 'X-Auth-Token': 't2' } });
    expect(posts(calls)).toBe(2);
  });

  it('a 401 that comes after the re-login, before the iLO has accepted the new token: retried with it all the same', async () => {
    const late401 = held<TransportResponse>();
    const newToken200 = held<TransportResponse>();
    let logins = 0;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') return login(++logins);
      if (r.method === 'GET' && tokenOf(r) === 't1') return r.path === SYSTEM ? json(401) : late401.promise;
      return r.method === 'GET' ? newToken200.promise : json(204);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const late = session.request({ method: 'GET', path: '/redfish/v1/Chassis/1' });
    await until(() => calls.length === 2, 'the late GET sent');
    const first = session.request({ method: 'GET', path: SYSTEM });
    await until(() => calls.some((c) => tokenOf(c) === 't2'), 'the retry with t2 sent');
    // The re-login is over, but the backoff still runs (t2 not yet accepted): the late 401 follows the new token.
    late401.release(json(401));
    await until(() => calls.filter((c) => tokenOf(c) === 't2').length === 2, 'the late request retried with t2');
    newToken200.release(json(200));
    expect((await Promise.all([first, late])).map((a) => a.status)).toEqual([200, 200]);
    expect(posts(calls)).toBe(2);
  });

  it('a session lost again after a working re-login: a third login at once (the shared re-login was cleared, the streak reset)', async () => {
    const dead = new Set(['t1']);
    let logins = 0;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') return login(++logins);
      if (r.method === 'GET') return json(dead.has(tokenOf(r) ?? '') ? 401 : 200);
      return json(204);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    expect((await session.request({ method: 'GET', path: SYSTEM })).status).toBe(200);
    dead.add('t2');
    expect((await session.request({ method: 'GET', path: SYSTEM })).status).toBe(200);
    expect(posts(calls)).toBe(3);
    expect(calls.filter((c) => c.method === 'GET').map(tokenOf)).toEqual(['t1', 't2', 't2', 't3']);
  });

  it('a 200 to the token of a session already replaced does not reset the backoff', async () => {
    const stale200 = held<TransportResponse>();
    let logins = 0;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') return login(++logins);
      if (r.method === 'GET') return r.path === SYSTEM ? json(401) : stale200.promise; // every token refused on SYSTEM
      return json(204);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const stale = session.request({ method: 'GET', path: '/redfish/v1/Chassis/1' });
    await until(() => calls.length === 2, 'the stale GET sent');
    expect((await session.request({ method: 'GET', path: SYSTEM })).status).toBe(401); // t1, login 2, t2 refused too
    stale200.release(json(200));
    expect((await stale).status).toBe(200);
    // The iLO never accepted t2: the next 401 is within the backoff, so no login.
    expect((await session.request({ method: 'GET', path: SYSTEM })).status).toBe(401);
    expect(posts(calls)).toBe(2);
  });
});

describe('the backoff between re-logins', () => {
  it('an iLO that refuses every token: logins after 1, then 2 s, and the warning once per session with its seconds', async () => {
    const { lines, logger, said } = captured();
    let logins = 0;
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? login(++logins) : json(r.method === 'GET' ? 401 : 204)));
    const session = new Session({ transport, credentials, logger });
    await session.open();
    const get = async () => (await session.request({ method: 'GET', path: SYSTEM })).status;
    const refusal = 'refuses the token of a session it just made';
    // Two at once: t1 refused, login 2, t2 refused for both; a retry never logs in or warns.
    expect(await Promise.all([get(), get()])).toEqual([401, 401]);
    expect(posts(calls)).toBe(2);
    expect(calls.filter((c) => c.method === 'GET').map(tokenOf)).toEqual(['t1', 't1', 't2', 't2']);
    expect(said(refusal)).toEqual([]);
    expect(await get()).toBe(401);
    expect(await get()).toBe(401);
    expect(posts(calls)).toBe(2);
    expect(said(refusal).map((l) => l.seconds)).toEqual([1]);
    expect(said(refusal)[0]?.level).toBe(40);
    vi.setSystemTime(T0 + 999);
    expect(await get()).toBe(401);
    expect(posts(calls)).toBe(2);
    vi.setSystemTime(T0 + 1000);
    expect(await get()).toBe(401); // login 3
    expect(posts(calls)).toBe(3);
    expect(await get()).toBe(401);
    expect(await get()).toBe(401);
    // A new session's refusals are said again, with the doubled wait.
    expect(said(refusal).map((l) => l.seconds)).toEqual([1, 2]);
    vi.setSystemTime(T0 + 2999);
    expect(await get()).toBe(401);
    expect(posts(calls)).toBe(3);
    vi.setSystemTime(T0 + 3000);
    expect(await get()).toBe(401);
    expect(posts(calls)).toBe(4);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('logins that keep failing: each request in the wait gets the last failure with the seconds left; the wait doubles up to 300 s', async () => {
    let logins = 0;
    let refuse = true;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') {
        logins++;
        return logins === 1 || !refuse ? login(logins) : json(401, { error: { '@Message.ExtendedInfo': [{ MessageId: 'Base.1.0.UnauthorizedLoginAttempt' }] } });
      }
      if (r.method === 'GET') return json(tokenOf(r) === 't1' ? 401 : 200);
      return json(204);
    });
    const { events, observer } = { events: [] as string[], observer: { released: () => events.push('released') } };
    const session = new Session({ transport, credentials, observer });
    await session.open();
    const get = () => session.request({ method: 'GET', path: SYSTEM });

    const failed = await rejectionOf(get());
    expect(failed).toBeInstanceOf(AuthError);
    expect(posts(calls)).toBe(2);
    const waiting = await rejectionOf(get());
    expect(waiting).not.toBeInstanceOf(AuthError);
    expect(waiting).toBeInstanceOf(IloAgentError);
    expect(waiting.code).toBe('E_AUTH');
    expect(waiting.message).toBe(`${failed.message}; no new login for 1 s`);
    expect(waiting.cause).toBe(failed);
    expect(posts(calls)).toBe(2);

    // The n-th failed login waits min(2^(n-1), 300) s: one ms short, no login; on time, one.
    let at = T0;
    for (let n = 1; n <= 10; n++) {
      const backoff = Math.min(1000 * 2 ** (n - 1), 300_000);
      vi.setSystemTime(at + backoff - 1);
      expect((await rejectionOf(get())).message).toMatch(/; no new login for 1 s$/);
      vi.setSystemTime(at + backoff / 2);
      expect((await rejectionOf(get())).message).toMatch(new RegExp(`; no new login for ${Math.ceil(backoff / 2000)} s$`));
      expect(posts(calls)).toBe(n + 1);
      at += backoff;
      vi.setSystemTime(at);
      expect(await rejectionOf(get())).toBeInstanceOf(AuthError);
      expect(posts(calls)).toBe(n + 2);
    }
    refuse = false;
    vi.setSystemTime(at + 300_000);
    expect((await get()).status).toBe(200);
    expect(calls.at(-1)?.headers?.['X-Auth-Token']).toBe(`t${logins}`);
    // Only r1 and the last session were ever made; neither path nor token was known of the sessions
    // the failed logins left, so nothing unnamed is left behind: released.
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/r1`, `${SESSIONS}/r${logins}`]);
    expect(events).toEqual(['released']);
  });

  it('a login refused only after the iLO\'s delay (10 s): the requests that waited on it share one new login', async () => {
    const answer401 = held<TransportResponse>();
    let logins = 0;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') {
        if (++logins !== 2) return login(logins);
        vi.setSystemTime(T0 + 10_000); // the failed login took 10 s: its backoff (1 s) is over
        return json(401);
      }
      if (r.method === 'GET') return tokenOf(r) === 't1' ? answer401.promise : json(200);
      return json(204);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const answers = [1, 2, 3].map(() => session.request({ method: 'GET', path: SYSTEM }).then((a) => a.status, (e: unknown) => e));
    await until(() => calls.filter((c) => tokenOf(c) === 't1').length === 3, 'three GETs with t1');
    answer401.release(json(401));
    const [first, ...waited] = await Promise.all(answers);
    expect(first).toBeInstanceOf(AuthError);
    expect(waited).toEqual([200, 200]);
    expect(posts(calls)).toBe(3);
  });

  it('a login that fails with an error of no code: the requests in the wait get E_AUTH; with no error at all, a generic reason', async () => {
    for (const failure of [new Error('socket hang up'), { odd: true }]) {
      let logins = 0;
      const { transport } = scripted((r) => {
        if (r.method === 'POST') return ++logins === 1 ? login(1) : Promise.reject(failure);
        return json(r.method === 'GET' ? 401 : 204);
      });
      const session = new Session({ transport, credentials });
      await session.open();
      expect(await session.request({ method: 'GET', path: SYSTEM }).catch((e: unknown) => e)).toBe(failure);
      const waiting = await rejectionOf(session.request({ method: 'GET', path: SYSTEM }));
      expect(waiting.code).toBe('E_AUTH');
      expect(waiting.message).toBe(failure instanceof Error ? 'socket hang up; no new login for 1 s' : 'the session was lost and the last login failed; no new login for 1 s');
      expect(waiting.cause).toBe(failure);
    }
  });

  it('a login after a failed one whose new token is refused too: the 401 is the answer, nothing more (no login, no warning)', async () => {
    let logins = 0;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST') return ++logins === 2 ? json(401) : login(logins);
      return json(r.method === 'GET' ? 401 : 204);
    });
    const { said, logger } = captured();
    const session = new Session({ transport, credentials, logger });
    await session.open();
    await rejectionOf(session.request({ method: 'GET', path: SYSTEM })); // t1 refused, login 2 fails
    vi.setSystemTime(T0 + 1000);
    expect((await session.request({ method: 'GET', path: SYSTEM })).status).toBe(401); // login 3, t3 refused
    expect(posts(calls)).toBe(3);
    expect(said('refuses the token')).toEqual([]);
  });

  it('the seconds left are rounded up', async () => {
    let logins = 0;
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return ++logins === 1 ? login(1) : json(401);
      return json(r.method === 'GET' ? 401 : 204);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    const get = () => session.request({ method: 'GET', path: SYSTEM });
    await rejectionOf(get()); // login 2 fails at T0
    vi.setSystemTime(T0 + 1000);
    await rejectionOf(get()); // login 3 fails: 2 s until the next
    vi.setSystemTime(T0 + 1500);
    expect((await rejectionOf(get())).message).toMatch(/; no new login for 2 s$/);
    vi.setSystemTime(T0 + 2900);
    expect((await rejectionOf(get())).message).toMatch(/; no new login for 1 s$/);
  });
});

describe('requests around close, and without a session', () => {
  it('a 401 that arrives once the session is closed is the answer: no login after close', async () => {
    const answer401 = held<TransportResponse>();
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? login(1) : r.method === 'GET' ? answer401.promise : json(204)));
    const session = new Session({ transport, credentials });
    await session.open();
    const pending = session.request({ method: 'GET', path: SYSTEM });
    await until(() => calls.length === 2, 'the GET sent');
    await session.close();
    answer401.release(json(401));
    expect((await pending).status).toBe(401);
    expect(calls.map((c) => c.method)).toEqual(['POST', 'GET', 'DELETE']);
    expect(await rejectionOf(session.request({ method: 'GET', path: SYSTEM }))).toMatchObject({ code: 'E_CLOSED', message: 'the session is closed' });
  });

  it('Basic: no login; each request carries the credentials and no token', async () => {
    const { transport, calls } = scripted(() => json(200));
    const session = new Session({ transport, credentials, basic: true });
    await session.open();
    expect((await session.request({ method: 'GET', path: SYSTEM, headers: { 'X-Auth-Token': 'stale' } })).status).toBe(200);
    expect(calls.map((c) => [c.method, c.headers])).toEqual([['GET', { Authorization: `Basic ${Buffer.from('admin:Zq9-canary-secret').toString('base64')}` }]]);
    await session.close();
  });
});

describe('what a Manager.Reset ends', () => {
  it('a reset the iLO took (2xx): no DELETE, and it says why', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' && r.path === SESSIONS ? login(1) : json(200)));
    const { said, logger } = captured();
    const session = new Session({ transport, credentials, logger });
    await session.open();
    await session.request({ method: 'POST', path: '/redfish/v1/Managers/1/Actions/Manager.Reset', body: Buffer.from('{}') });
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(said('the iLO reset (Manager.Reset) ended the session').map((l) => [l.level, l.session])).toEqual([[40, `${SESSIONS}/r1`]]);
  });

  it.each([
    ['a reset answered 300', 'POST', 300],
    ['a GET of the reset action', 'GET', 200],
  ])('%s ended nothing: the session is deleted', async (_name, method, status) => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' && r.path === SESSIONS ? login(1) : r.method === 'DELETE' ? json(204) : json(status)));
    const session = new Session({ transport, credentials });
    await session.open();
    await session.request({ method: method as 'GET' | 'POST', path: '/redfish/v1/Managers/1/Actions/Manager.Reset' });
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/r1`]);
  });
});

describe('what close() says after re-logins', () => {
  it('two replaced sessions that cannot be deleted: the LogoutError lists both paths', async () => {
    const dead = new Set(['t1']);
    let logins = 0;
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return login(++logins);
      if (r.method === 'GET') return json(dead.has(tokenOf(r) ?? '') ? 401 : 200);
      return r.path === `${SESSIONS}/r1` || r.path === `${SESSIONS}/r2` ? json(500) : json(204);
    });
    const { said, logger } = captured();
    const session = new Session({ transport, credentials, logger });
    await session.open();
    await session.request({ method: 'GET', path: SYSTEM });
    dead.add('t2');
    await session.request({ method: 'GET', path: SYSTEM });
    // Each replacement is said, with the session it gives up on; no token in any line.
    expect(said('no longer accepts the session token').map((l) => [l.level, l.session])).toEqual([
      [40, `${SESSIONS}/r1`],
      [40, `${SESSIONS}/r2`],
    ]);
    const kept = said('could not delete the old session; trying again at close');
    expect(kept.map((l) => [l.level, l.session])).toEqual([
      [40, `${SESSIONS}/r1`],
      [40, `${SESSIONS}/r2`],
    ]);
    expect(kept.every((l) => typeof (l.err as { message?: unknown } | undefined)?.message === 'string')).toBe(true);
    const error = await rejectionOf(session.close());
    expect(error).toBeInstanceOf(LogoutError);
    expect(error.message).toContain(`could not delete the iLO session ${SESSIONS}/r1, ${SESSIONS}/r2 that a re-login replaced: `);
  });

  it('without a logger, a replaced session deleted at close after another failed: the error is the failed one\'s', async () => {
    const dead = new Set(['t1']);
    let refuseR2 = true;
    let logins = 0;
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return login(++logins);
      if (r.method === 'GET') return json(dead.has(tokenOf(r) ?? '') ? 401 : 200);
      if (r.path === `${SESSIONS}/r1`) return json(500);
      return r.path === `${SESSIONS}/r2` && refuseR2 ? json(500) : json(204);
    });
    const session = new Session({ transport, credentials });
    await session.open();
    await session.request({ method: 'GET', path: SYSTEM });
    dead.add('t2');
    await session.request({ method: 'GET', path: SYSTEM });
    refuseR2 = false;
    const error = await rejectionOf(session.close());
    expect(error).toBeInstanceOf(LogoutError);
    expect(error.message).toMatch(new RegExp(`^could not delete the iLO session ${SESSIONS}/r1 that a re-login replaced: .*500`));
  });

  it('with a logger: a replaced session deleted at close is said, with its path', async () => {
    let refuse = true;
    let logins = 0;
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return login(++logins);
      if (r.method === 'GET') return json(tokenOf(r) === 't1' ? 401 : 200);
      return r.path === `${SESSIONS}/r1` && refuse ? json(500) : json(204);
    });
    const { said, logger } = captured();
    const session = new Session({ transport, credentials, logger });
    await session.open();
    await session.request({ method: 'GET', path: SYSTEM });
    refuse = false;
    await session.close();
    expect(said('earlier session deleted').map((l) => [l.level, l.session])).toEqual([[30, `${SESSIONS}/r1`]]);
  });

  it('a Manager.Reset of a session known only by its token: not released (the reset is not proof without a path)', async () => {
    const { transport, calls } = scripted((r) => {
      if (r.method === 'POST' && r.path === SESSIONS) return json(201, {}, { 'x-auth-token': 'tok' });
      if (r.method === 'GET') return json(200, { Members: [] });
      return json(200);
    });
    const events: string[] = [];
    const { said, logger } = captured();
    const session = new Session({ transport, credentials, logger, observer: { released: () => events.push('released') } });
    await session.open();
    expect(session.path).toBeNull();
    await session.request({ method: 'POST', path: '/redfish/v1/Managers/1/Actions/Manager.Reset', body: Buffer.from('{}') });
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(said('the iLO reset (Manager.Reset) ended the session')).toEqual([]);
    expect(events).toEqual([]);
  });

  it.each([
    [false, 'it stays until its idle timeout'],
    [true, 'the guardian will look for it and delete it'],
  ])('a login cut off by close() says so (guarded: %s)', async (guarded, fate) => {
    const { transport } = scripted((r) => (r.method === 'POST' ? new Promise<TransportResponse>(() => undefined) : json(204)));
    const { said, logger } = captured();
    const events: string[] = [];
    const session = new Session({ transport, credentials, logger, guarded: () => guarded, observer: { released: () => events.push('released') } });
    const opened = rejectionOf(session.open());
    await session.close({ signal: AbortSignal.abort() });
    await opened;
    const lines = said('the login was cut off');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[50, `the login was cut off before the iLO answered; if the iLO made a session, ${fate}`]]);
    expect(events).toEqual([]);
  });

  it('without a logger, a login cut off by close(): close() itself succeeds', async () => {
    const { transport } = scripted((r) => (r.method === 'POST' ? new Promise<TransportResponse>(() => undefined) : json(204)));
    const session = new Session({ transport, credentials });
    const opened = rejectionOf(session.open());
    await session.close({ signal: AbortSignal.abort() });
    await opened;
    expect(session.state).toBe('closed');
  });

  it('a session never opened, closed with a signal already aborted: nothing was cut, released, no error logged', async () => {
    const { transport, calls } = scripted(() => json(204));
    const { lines, logger } = captured();
    const events: string[] = [];
    const session = new Session({ transport, credentials, logger, observer: { released: () => events.push('released') } });
    await session.close({ signal: AbortSignal.abort() });
    expect(calls).toEqual([]);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(events).toEqual(['released']);
  });

  it('with a logger: a Location outside the collection is said (cut to 200 characters), and the @odata.id used instead', async () => {
    const location = `/redfish/v1/Systems/${'x'.repeat(300)}`;
    const { transport } = scripted((r) => (r.method === 'POST' ? json(201, { '@odata.id': `${SESSIONS}/o9` }, { location, 'x-auth-token': 'tok' }) : json(204)));
    const { said, logger } = captured();
    const session = new Session({ transport, credentials, logger });
    await session.open();
    expect(session.path).toBe(`${SESSIONS}/o9`);
    expect(said('Location is not a session').map((l) => [l.level, l.location])).toEqual([[40, location.slice(0, 200)]]);
    expect(said('using the body\'s @odata.id').map((l) => [l.level, l.msg])).toEqual([[40, 'the login answer had no usable Location; using the body\'s @odata.id']]);
    await session.close();
  });

  it('with a logger: an @odata.id that is no session is not said to be used (MySession names it)', async () => {
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return json(201, { '@odata.id': '/redfish/v1/Systems/1' }, { 'x-auth-token': 'tok' });
      if (r.method === 'GET') return json(200, { Oem: { Hpe: { Links: { MySession: { '@odata.id': `${SESSIONS}/o7` } } } }, Members: [] });
      return json(204);
    });
    const { said, logger } = captured();
    const session = new Session({ transport, credentials, logger });
    await session.open();
    expect(session.path).toBe(`${SESSIONS}/o7`);
    expect(said('@odata.id')).toEqual([]);
    expect(said('found it through Oem.Hpe.Links.MySession')).toHaveLength(1);
    await session.close();
  });

  it('with a logger: a good Location is not overridden by the @odata.id, and nothing is said about either', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'POST' ? json(201, { '@odata.id': `${SESSIONS}/other` }, { location: `${SESSIONS}/o8`, 'x-auth-token': 'tok' }) : json(204)));
    const { lines, logger } = captured();
    const session = new Session({ transport, credentials, logger });
    await session.open();
    expect(session.path).toBe(`${SESSIONS}/o8`);
    expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
    await session.close();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/o8`]);
  });

  it('a login answer without a token: the observer hears the token as null', async () => {
    const created: unknown[] = [];
    const { transport } = scripted((r) => (r.method === 'POST' ? json(201, {}, { location: `${SESSIONS}/n1` }) : json(204)));
    const session = new Session({ transport, credentials, observer: { sessionCreated: (s) => created.push(s) } });
    expect(await rejectionOf(session.open())).toBeInstanceOf(ProtocolError);
    expect(created).toStrictEqual([{ path: `${SESSIONS}/n1`, token: null }]);
    await session.close();
  });
});
