// The login-gap search's rules, each at its boundary (one ms inside, one outside), through
// deleteInterruptedLogin alone: which session of a Sessions listing it takes for the interrupted
// login's, and so which DELETEs go out. A scripted iLO answers; a fake clock that moves on at each
// listing keeps the scan schedule from sleeping (its own case uses the real clock).
import { describe, expect, it } from 'vitest';
import { deleteInterruptedLogin, type LoginGapSearch } from '../../src/guardian/index.js';
import { persist, sessionKey } from '../../src/guardian/login-gap.js';
import { ConnectError } from '../../src/errors.js';
import type { Logger } from 'pino';
import type { Transport, TransportRequest } from '../../src/transport/index.js';
import { json, scripted } from '../helpers/scripted-transport.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';
const BASIC = { Authorization: `Basic ${Buffer.from('Administrator:pw').toString('base64')}` };
/** The interrupted login's start (host clock), on a whole second. */
const AT = Date.UTC(2026, 0, 1, 12, 0, 10);
/** A time with its milliseconds: these rules are tested to the ms, which a real iLO never shows. */
const ms = (t: number) => new Date(t).toISOString();

interface Spec {
  /** null: no such property. */
  user?: string | null;
  tag?: string | null;
  type?: string;
  login?: unknown;
  access?: unknown;
}
/** A session resource; LoginTime defaults to the login's start, AccessTime to its LoginTime. */
function session({ user = 'Administrator', tag = 'REST', type = 'Local', login = ms(AT), access }: Spec = {}): Record<string, unknown> {
  const hpe: Record<string, unknown> = { UserType: type, LoginTime: login, AccessTime: access === undefined ? login : access };
  if (tag !== null) hpe.UserTag = tag;
  if (access === null) delete hpe.AccessTime;
  if (login === null) delete hpe.LoginTime;
  const body: Record<string, unknown> = { Oem: { Hpe: hpe } };
  if (user !== null) body.UserName = user;
  return body;
}

interface IloOptions {
  kind?: Transport['kind'];
  /** The iLO clock minus the host's, told in a Date header on every answer (none: no header). */
  skewMs?: number;
  /** The collection's MySession link. */
  mine?: string;
  /** Answers a request before the table does (undefined: the table answers). */
  intercept?: (r: TransportRequest, listing: number) => ReturnType<Parameters<typeof scripted>[0]> | undefined;
}

/** An iLO holding `table` (id → resource, or a raw answer); DELETE removes. The clock moves 2 s per listing. */
function ilo(table: Record<string, unknown>, options: IloOptions = {}) {
  let clock = AT + 1_000; // whole seconds: a Date header's offset is then exact
  let listings = 0;
  const deleted: string[] = [];
  const attempts: TransportRequest[] = [];
  const date = (): Record<string, string> => (options.skewMs === undefined ? {} : { date: new Date(clock + options.skewMs).toUTCString() });
  const { transport, calls } = scripted(
    (r) => {
      if (r.method === 'GET' && r.path === SESSIONS) {
        listings++;
        clock += 2_000;
      }
      const intercepted = options.intercept?.(r, listings);
      if (intercepted) return intercepted;
      if (r.method === 'GET' && r.path === SESSIONS) {
        const mine = options.mine ? { Oem: { Hpe: { Links: { MySession: { '@odata.id': options.mine } } } } } : {};
        return json(200, { Members: Object.keys(table).map((id) => ({ '@odata.id': `${SESSIONS}/${encodeURIComponent(id)}` })), ...mine }, date());
      }
      const id = decodeURIComponent(r.path.slice(SESSIONS.length + 1));
      const entry = table[id];
      if (r.method === 'GET') return entry === undefined ? json(404, {}, date()) : json(200, entry, date());
      if (r.method === 'DELETE') {
        deleted.push(id);
        delete table[id];
        return json(200, {}, date());
      }
      return json(405, {});
    },
    { kind: options.kind ?? 'https' },
  );
  // Every request the search tries, also those the transport refuses before sending (aborted).
  const counted: Transport = { ...transport, request: (r) => (attempts.push(r), transport.request(r)) };
  return { transport: counted, calls, deleted, attempts, now: () => clock, listings: () => listings };
}

async function search(iloOf: ReturnType<typeof ilo>, extra: Partial<LoginGapSearch> = {}) {
  return deleteInterruptedLogin({
    transport: iloOf.transport,
    authority: iloOf.transport.kind === 'chif' ? {} : BASIC,
    login: { user: 'Administrator', at: AT },
    signal: new AbortController().signal,
    requestTimeoutMs: 5_000,
    now: iloOf.now,
    ...extra,
  });
}

const getsOf = (calls: TransportRequest[], id: string) => calls.filter((c) => c.method === 'GET' && c.path === `${SESSIONS}/${id}`).length;

describe('the login-gap search: whose session', () => {
  it('the same user, whatever the case of either name; another user is not', async () => {
    const i = ilo({ same: session({ user: 'administrator' }), other: session({ user: 'operator' }) });
    expect(await search(i, { login: { user: 'ADMINISTRATOR', at: AT } })).toBe(1);
    expect(i.deleted).toEqual(['same']);
    const j = ilo({ upper: session({ user: 'ADMINISTRATOR' }) });
    await search(j, { login: { user: 'administrator', at: AT } });
    expect(j.deleted).toEqual(['upper']);
  });

  it('a named login never takes the system account\'s session, nor one with no user name', async () => {
    const i = ilo({ system: session({ user: 'system administrator', type: 'System', tag: 'RESTHost' }), nameless: session({ user: null }) });
    expect(await search(i, { login: { user: 'Administrator', at: AT } })).toBe(0);
    expect(i.deleted).toEqual([]);
  });

  it('in-band null credentials: a System session, or one of the "system administrator", whatever its name\'s case; not another user\'s', async () => {
    const i = ilo(
      {
        system: session({ user: null, type: 'System', tag: 'RESTHost' }),
        named: session({ user: 'System Administrator', type: 'Local', tag: 'RESTHost' }),
        other: session({ user: 'Administrator', type: 'Local', tag: 'RESTHost' }),
      },
      { kind: 'chif' },
    );
    expect(await search(i, { login: { user: null, at: AT } })).toBe(2);
    expect(i.deleted.sort()).toEqual(['named', 'system']);
  });

  it('the tag of the transport: REST over HTTPS, RESTHost in-band; a session with no tag passes', async () => {
    const table = () => ({ rest: session({ tag: 'REST' }), host: session({ tag: 'RESTHost' }), web: session({ tag: 'Web UI' }), none: session({ tag: null }) });
    const https = ilo(table());
    await search(https);
    expect(https.deleted.sort()).toEqual(['none', 'rest']);
    const chif = ilo(table(), { kind: 'chif' });
    await search(chif);
    expect(chif.deleted.sort()).toEqual(['host', 'none']);
  });

  it('a 200 that is not a session (no body, an array, no Oem.Hpe) or another status is not deleted, and the search goes on', async () => {
    const i = ilo(
      { ours: session(), empty: 'raw', list: 'raw', bare: { UserName: 'Administrator' }, gone: 'raw' },
      {
        intercept: (r) => {
          if (r.method !== 'GET') return undefined;
          if (r.path.endsWith('/empty')) return { status: 200, headers: {}, body: Buffer.alloc(0) };
          if (r.path.endsWith('/list')) return json(200, [session()]);
          if (r.path.endsWith('/gone')) return json(404, session());
          return undefined;
        },
      },
    );
    expect(await search(i)).toBe(1);
    expect(i.deleted).toEqual(['ours']);
  });
});

describe('the login-gap search: when it was made', () => {
  it('without a clock reading, a LoginTime down to 2 s before the login\'s start (2 s: inside; 2 s and 1 ms: outside)', async () => {
    const i = ilo({ edge: session({ login: ms(AT - 2_000) }), before: session({ login: ms(AT - 2_001) }) });
    expect(await search(i)).toBe(1);
    expect(i.deleted).toEqual(['edge']);
  });

  it('with the iLO\'s clock offset given, the window follows it: from the offset less 1 s (LoginTime\'s step)', async () => {
    const ahead = ilo({ edge: session({ login: ms(AT + 4_000) }), before: session({ login: ms(AT + 3_999) }) });
    await search(ahead, { clockOffsetMs: 5_000 });
    expect(ahead.deleted).toEqual(['edge']);
    const behind = ilo({ edge: session({ login: ms(AT - 6_000) }), before: session({ login: ms(AT - 6_001) }) });
    await search(behind, { clockOffsetMs: -5_000 });
    expect(behind.deleted).toEqual(['edge']);
  });

  it('a Date header on the answers reads the iLO\'s clock, over any offset it was given', async () => {
    const i = ilo({ edge: session({ login: ms(AT + 6_000) }), before: session({ login: ms(AT + 5_999) }) }, { skewMs: 7_000 });
    await search(i, { clockOffsetMs: 0 });
    expect(i.deleted).toEqual(['edge']);
  });

  it('no LoginTime, or one that is not a string, is no proof: not deleted', async () => {
    // A number parses (as a year) to a time after the login when the login is in year 2001.
    const at = Date.UTC(2001, 0, 1);
    const i = ilo({ none: session({ login: null, access: null }), number: session({ login: 2026, access: null }), ours: session({ login: ms(at), access: null }) });
    await search(i, { login: { user: 'Administrator', at } });
    expect(i.deleted).toEqual(['ours']);
  });

  it('never used: AccessTime up to 1 s past LoginTime passes, 1 ms more does not; no AccessTime passes', async () => {
    const i = ilo({
      edge: session({ login: ms(AT), access: ms(AT + 1_000) }),
      used: session({ login: ms(AT), access: ms(AT + 1_001) }),
      unknown: session({ login: ms(AT), access: null }),
    });
    await search(i);
    expect(i.deleted.sort()).toEqual(['edge', 'unknown']);
  });

  it('an AccessTime that is not a string is no time (a number would parse as a year)', async () => {
    const at = Date.UTC(2001, 0, 1);
    const i = ilo({ number: session({ login: ms(at), access: 2026 }) });
    await search(i, { login: { user: 'Administrator', at } });
    expect(i.deleted).toEqual(['number']);
  });
});

describe('the login-gap search: what it leaves out, and when it looks', () => {
  it('excluded keys and the listing\'s MySession are not even looked at, whatever their case, %-encoding or trailing slash', async () => {
    const i = ilo({ 'Old One': session(), ours: session(), Basic: session() }, { mine: `${SESSIONS}/basic/` });
    expect(await search(i, { exclude: new Set([sessionKey(`${SESSIONS}/old%20one/`)]) })).toBe(1);
    expect(i.deleted).toEqual(['ours']);
    expect(getsOf(i.calls, 'Old%20One')).toBe(0);
    expect(getsOf(i.calls, 'Basic')).toBe(0);
  });

  it('lists five times, looks at each session once, and deletes a session the iLO made late in the search', async () => {
    const table: Record<string, unknown> = { other: session({ user: 'operator' }) };
    const i = ilo(table, {
      intercept: (_r, listing) => {
        if (listing === 4) table.late = session();
        return undefined;
      },
    });
    expect(await search(i)).toBe(1);
    expect(i.listings()).toBe(5);
    expect(i.deleted).toEqual(['late']);
    expect(getsOf(i.calls, 'other')).toBe(1);
  });

  it('the schedule is in time: a session made a second after the search started is found (real clock)', async () => {
    const started = Date.now();
    const table: Record<string, unknown> = {};
    let listings = 0;
    const { transport } = scripted((r) => {
      if (r.method === 'GET' && r.path === SESSIONS) {
        listings++;
        if (Date.now() - started >= 1_000) table.late = session({ login: ms(Date.now()) });
        return json(200, { Members: Object.keys(table).map((id) => ({ '@odata.id': `${SESSIONS}/${id}` })) });
      }
      if (r.method === 'GET') return json(200, table.late);
      return json(204, {});
    });
    const removed = await deleteInterruptedLogin({ transport, authority: BASIC, login: { user: 'Administrator', at: started }, signal: new AbortController().signal, requestTimeoutMs: 5_000 });
    expect(removed).toBe(1);
    expect(listings).toBe(5);
  });

  it('a listing refused, or a session\'s GET without an answer, is tried again at the next listing', async () => {
    let failedGet = false;
    const i = ilo(
      { ours: session() },
      {
        intercept: (r, listing) => {
          if (r.path === SESSIONS && listing === 1) return json(503, {});
          if (r.method === 'GET' && r.path.endsWith('/ours') && !failedGet) {
            failedGet = true;
            throw new ConnectError('connection reset');
          }
          return undefined;
        },
      },
    );
    expect(await search(i)).toBe(1);
    expect(i.deleted).toEqual(['ours']);
    expect(getsOf(i.calls, 'ours')).toBe(2);
  });

  it('a DELETE refused is tried again at the next listing, and only a done one counts and is logged', async () => {
    let refusals = 1;
    const infos: unknown[] = [];
    const log = { info: (fields: unknown, message: string) => infos.push([fields, message]) } as unknown as Logger;
    const i = ilo({ ours: session() }, { intercept: (r) => (r.method === 'DELETE' && refusals-- > 0 ? json(500, {}) : undefined) });
    expect(await search(i, { log })).toBe(1);
    expect(i.calls.filter((c) => c.method === 'DELETE').map((c) => c.headers)).toEqual([BASIC, BASIC]);
    expect(infos).toEqual([[{ session: `${SESSIONS}/ours` }, 'deleted the session of a login whose answer never came']]);
  });

  it('a DELETE that never gets an answer counts as nothing, and is tried at each later listing', async () => {
    const i = ilo({ ours: session() }, { intercept: (r) => (r.method === 'DELETE' ? Promise.reject(new ConnectError('connection reset')) : undefined) });
    expect(await search(i)).toBe(0);
    expect(i.calls.filter((c) => c.method === 'DELETE')).toHaveLength(5);
  });

  it('the search\'s signal ends it: no request after it aborted', async () => {
    const stop = new AbortController();
    const i = ilo({}, { intercept: (_r, listing) => (listing === 2 ? (stop.abort(), undefined) : undefined) });
    expect(await search(i, { signal: stop.signal })).toBe(0);
    expect(i.attempts).toHaveLength(2);
  });

  it('each request is bounded by requestTimeoutMs: a GET that never answers does not hold the search', async () => {
    const i = ilo({ hung: session(), ours: session() }, { intercept: (r) => (r.method === 'GET' && r.path.endsWith('/hung') ? new Promise(() => {}) : undefined) });
    expect(await search(i, { requestTimeoutMs: 50 })).toBe(1);
    expect(i.deleted).toEqual(['ours']);
  });
});

describe('sessionKey and persist', () => {
  it('sessionKey: case, %-encoding and any number of trailing slashes do not matter; a bad escape is kept', () => {
    expect(sessionKey(`${SESSIONS}/Admin%20One//`)).toBe(`${SESSIONS.toLowerCase()}/admin one`);
    expect(sessionKey(`${SESSIONS}/a/`)).toBe(sessionKey(`${SESSIONS}/A`));
    expect(sessionKey(`${SESSIONS}/a%E0%A4%A`)).toBe(`${SESSIONS.toLowerCase()}/a%e0%a4%a`);
    expect(sessionKey(`${SESSIONS}/a/b`)).toBe(`${SESSIONS.toLowerCase()}/a/b`);
  });

  it('persist: up to 4 tries of what fails without an answer, then its last error; none after the signal', async () => {
    let tries = 0;
    const fails = (n: number) => async () => {
      if (++tries <= n) throw new ConnectError(`try ${tries}`);
      return tries;
    };
    expect(await persist(new AbortController().signal, fails(3))).toBe(4);
    tries = 0;
    await expect(persist(new AbortController().signal, fails(9))).rejects.toThrow('try 4');
    expect(tries).toBe(4);
    tries = 0;
    await expect(persist(AbortSignal.abort(), fails(9))).rejects.toThrow('try 1');
    expect(tries).toBe(1);
  });
});
