// The guardian's parts one by one: the pure reducer over the agent's messages (state.ts), the
// clean-up phase against a scripted iLO (clean-up.ts), and the listing runGuardian takes between
// them. guardian-core.test.ts drives the whole guardian; test/cli/guardian.test.ts the process.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { cleanUp, clockOffsetOf } from '../../src/guardian/clean-up.js';
import { runGuardian } from '../../src/guardian/guardian.js';
import { encodeMessage, parseMessage, type AgentMessage, type HelloMessage } from '../../src/guardian/protocol.js';
import {
  apply,
  clockRead,
  endOfInput,
  INITIAL_STATE,
  listedBeforeLogin,
  snapshotHeaders,
  snapshotStarted,
  snapshotTaken,
  verdict,
  type GuardianState,
} from '../../src/guardian/state.js';
import { ConnectError } from '../../src/errors.js';
import type { TransportRequest, TransportResponse } from '../../src/transport/index.js';
import { iso, json, scripted } from '../helpers/scripted-transport.js';
import { until } from '../helpers/wait.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';
const BASIC = `Basic ${Buffer.from('Administrator:pw').toString('base64')}`;

const hello = (kind: 'https' | 'chif' = 'https', credentials = kind === 'https'): HelloMessage => ({
  type: 'hello',
  version: 1,
  agentPid: 1,
  logLevel: 'silent',
  transport: kind === 'https' ? { kind, url: 'https://ilo', ca: null, insecure: false } : { kind, library: '/opt/ilorest/lib64/libilorestchif.so' },
  credentials: credentials ? { username: 'Administrator', password: 'pw' } : null,
});
const login = (at: number, user: string | null = 'Administrator'): AgentMessage => ({ type: 'login', user, at });
const session = (path: string | null, token: string | null): AgentMessage => ({ type: 'session', path: path && `${SESSIONS}/${path}`, token });

/** The DELETEs sent: [session id, how it was authorised]. */
const deletes = (calls: TransportRequest[]) => calls.filter((c) => c.method === 'DELETE').map((c) => [c.path.slice(SESSIONS.length + 1), c.headers?.['X-Auth-Token'] ?? c.headers?.Authorization ?? 'none']);

/** The state the messages leave, from the initial one. */
const fold = (messages: AgentMessage[], from: GuardianState = INITIAL_STATE) => messages.reduce(apply, from);

/** A deep freeze: the reducer must never write to the state it was given. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) frozen(v);
  }
  return value;
}

describe('the guardian\'s state: what each message leaves it knowing', () => {
  it('starts knowing nothing, and a closed pipe then calls for nothing', () => {
    expect(verdict(endOfInput(INITIAL_STATE))).toBe('nothing-to-do');
  });

  it('hello: the first one counts; a second (another transport) is ignored', () => {
    const first = hello('https');
    const state = fold([first, hello('chif')]);
    expect(state.hello).toBe(first);
  });

  it('login: pending, with its start; retries of one login keep the first start', () => {
    expect(fold([hello(), login(100)]).pending).toEqual({ user: 'Administrator', at: 100 });
    expect(fold([hello(), login(100), login(200, 'other')]).pending).toEqual({ user: 'Administrator', at: 100 });
  });

  it('a login answered (session or refused), then another: the new one starts afresh', () => {
    expect(fold([hello(), login(100), session('a', 't1'), login(300)]).pending).toEqual({ user: 'Administrator', at: 300 });
    expect(fold([hello(), login(100), { type: 'refused' }, login(300)]).pending).toEqual({ user: 'Administrator', at: 300 });
  });

  it('refused: no longer pending, and with nothing made the closed pipe calls for nothing', () => {
    const state = fold([hello(), login(100), { type: 'refused' }]);
    expect(state.pending).toBeUndefined();
    expect(verdict(state)).toBe('nothing-to-do');
  });

  it('session: the login is answered and the session known; distinct sessions in the order they came', () => {
    const state = fold([hello(), login(100), session('a', 't1'), login(200), session('b', 't2')]);
    expect(state.pending).toBeUndefined();
    expect(state.known).toEqual([
      { path: `${SESSIONS}/a`, token: 't1' },
      { path: `${SESSIONS}/b`, token: 't2' },
    ]);
    expect(verdict(state)).toBe('clean-up');
  });

  it('a second report of one session (same token, or same path) completes it instead of adding one', () => {
    expect(fold([hello(), session(null, 't1'), session('a', 't1')]).known).toEqual([{ path: `${SESSIONS}/a`, token: 't1' }]);
    expect(fold([hello(), session('a', null), session('a', 't1')]).known).toEqual([{ path: `${SESSIONS}/a`, token: 't1' }]);
    // A null in the later report never erases what the first said.
    expect(fold([hello(), session('a', 't1'), session(null, 't1'), session('a', null)]).known).toEqual([{ path: `${SESSIONS}/a`, token: 't1' }]);
    // Duplicates are idempotent.
    expect(fold([hello(), session('a', 't1'), session('a', 't1')]).known).toHaveLength(1);
  });

  it('reports that name nothing in common are separate sessions, even two with neither path nor token', () => {
    expect(fold([hello(), session('a', 't1'), session('b', 't2')]).known).toHaveLength(2);
    expect(fold([hello(), session(null, null), session(null, null)]).known).toHaveLength(2);
  });

  it('released: nothing to do at the pipe\'s end, whatever was known or pending', () => {
    expect(verdict(fold([hello(), login(100), session('a', 't1'), { type: 'released' }]))).toBe('released');
    expect(verdict(fold([hello(), login(100), { type: 'released' }]))).toBe('released');
  });

  it('out of order: released stays released; a session or a login before any hello leaves nothing to act with', () => {
    expect(verdict(fold([hello(), { type: 'released' }, session('a', 't1')]))).toBe('released');
    const noHello = fold([login(100), session('a', 't1')]);
    expect(noHello.known).toHaveLength(1);
    expect(verdict(noHello)).toBe('nothing-to-do');
    // A refused with no login, or a session without a login, is taken as it comes.
    expect(fold([hello(), { type: 'refused' }]).pending).toBeUndefined();
    expect(verdict(fold([hello(), session('a', 't1')]))).toBe('clean-up');
  });

  it('a login left pending is enough to clean up (the login-gap search)', () => {
    expect(verdict(fold([hello(), login(100)]))).toBe('clean-up');
  });

  it('malformed lines never reach the reducer: the state is that of the well-formed lines alone', () => {
    const good: AgentMessage[] = [hello(), login(100), session('a', 't1')];
    const garbage = ['', 'not json', '[]', '{"type":"session","path":1,"token":"t"}', '{"type":"login","user":null,"at":"x"}', '{"type":"released","x":', '{"type":"bye"}'];
    const lines = [garbage[0], encodeMessage(good[0] as AgentMessage), ...garbage.slice(1, 4), encodeMessage(good[1] as AgentMessage), ...garbage.slice(4), encodeMessage(good[2] as AgentMessage)];
    const parsed = lines.map((l) => parseMessage(l as string)).filter((m): m is AgentMessage => m !== undefined);
    expect(fold(parsed)).toEqual(fold(good));
  });

  it('is pure: the state it was given is never written, and the same messages give the same state', () => {
    const messages: AgentMessage[] = [hello(), login(100), session(null, 't1'), session('a', 't1'), login(200), { type: 'refused' }, { type: 'released' }];
    let state = frozen(INITIAL_STATE);
    for (const m of messages) state = frozen(apply(state, m)); // a write to a frozen state throws (ESM is strict)
    expect(fold(messages)).toEqual(state);
    expect(INITIAL_STATE).toEqual({ hello: undefined, known: [], pending: undefined, released: false, ended: false, snapshotStarted: false, snapshot: undefined, clockOffsetMs: undefined });
  });
});

describe('the guardian\'s state: when a listing may be taken, and what it proves', () => {
  it('in-band: at once after the hello, with no header (the channel\'s trust)', () => {
    expect(snapshotHeaders(INITIAL_STATE)).toBeUndefined();
    expect(snapshotHeaders(fold([hello('chif')]))).toEqual({});
  });

  it('over HTTPS: only with a token the agent reported (never a login of its own), the first one known', () => {
    expect(snapshotHeaders(fold([hello()]))).toBeUndefined();
    expect(snapshotHeaders(fold([hello(), session('a', null)]))).toBeUndefined();
    expect(snapshotHeaders(fold([hello(), session('a', null), session('b', 't2'), session('c', 't3')]))).toEqual({ 'X-Auth-Token': 't2' });
  });

  it('never during a login (it could hold that login\'s session), and once only, and not after the pipe closed', () => {
    expect(snapshotHeaders(fold([hello('chif'), login(100)]))).toBeUndefined();
    expect(snapshotHeaders(fold([hello(), session('a', 't1'), login(100)]))).toBeUndefined();
    expect(snapshotHeaders(fold([hello('chif'), login(100), session('a', 't1')]))).toEqual({});
    expect(snapshotHeaders(snapshotStarted(fold([hello('chif')])))).toBeUndefined();
    expect(snapshotHeaders(endOfInput(fold([hello('chif')])))).toBeUndefined();
  });

  it('a listing answered before the login started excludes its sessions (compared as iLO does); one answered later proves nothing', () => {
    const listed = snapshotTaken(fold([hello('chif')]), [`${SESSIONS}/A%20b/`, `${SESSIONS}/c`], 1_000);
    expect([...listedBeforeLogin(apply(listed, login(1_001)))]).toEqual([`${SESSIONS.toLowerCase()}/a b`, `${SESSIONS.toLowerCase()}/c`]);
    expect(listedBeforeLogin(apply(listed, login(1_000))).size).toBe(0);
    expect(listedBeforeLogin(apply(listed, login(999))).size).toBe(0);
    expect(listedBeforeLogin(listed).size).toBe(0); // no login pending: nothing to exclude from
  });

  it('the iLO\'s clock: the latest Date header wins; an answer without one keeps the last reading', () => {
    const read = clockRead(INITIAL_STATE, -5_000);
    expect(read.clockOffsetMs).toBe(-5_000);
    expect(clockRead(read, undefined).clockOffsetMs).toBe(-5_000);
    expect(clockRead(read, 2_000).clockOffsetMs).toBe(2_000);
    const at = Date.UTC(2026, 0, 1, 12, 0, 10);
    expect(clockOffsetOf(json(200, {}, { date: new Date(at - 3_000).toUTCString() }), () => at)).toBe(-3_000);
    expect(clockOffsetOf(json(200, {}), () => at)).toBeUndefined();
    expect(clockOffsetOf(json(200, {}, { date: 'yesterday' }), () => at)).toBeUndefined();
  });
});

describe('cleanUp: what the pipe\'s end leaves to delete, against a scripted iLO', () => {
  const deps = () => ({ deadline: AbortSignal.timeout(20_000), requestMs: 3_000, now: Date.now });

  it('deletes every known session with its token, newest first', async () => {
    const { transport, calls } = scripted(() => json(200, {}));
    const result = await cleanUp(fold([hello(), session('a', 't1'), session('b', 't2')]), transport, deps());
    expect(result).toEqual({ deleted: 2, failures: 0 });
    expect(deletes(calls)).toEqual([['b', 't2'], ['a', 't1']]);
  });

  it('a token without a path: the path is the listing\'s MySession, asked with that token', async () => {
    const { transport, calls } = scripted((r) => (r.method === 'GET' ? json(200, { Members: [], Oem: { Hpe: { Links: { MySession: { '@odata.id': `${SESSIONS}/m` } } } } }) : json(200, {})));
    expect(await cleanUp(fold([hello(), session(null, 't1')]), transport, deps())).toEqual({ deleted: 1, failures: 0 });
    expect(calls.map((c) => [c.method, c.path, c.headers?.['X-Auth-Token']])).toEqual([
      ['GET', SESSIONS, 't1'],
      ['DELETE', `${SESSIONS}/m`, 't1'],
    ]);
  });

  it('a session with neither path nor token: a failure, and nothing sent', async () => {
    const { transport, calls } = scripted(() => json(200, {}));
    expect(await cleanUp(fold([hello(), session(null, null)]), transport, deps())).toEqual({ deleted: 0, failures: 1 });
    expect(calls).toEqual([]);
  });

  it('a DELETE that got no answer is sent again', async () => {
    let tries = 0;
    const { transport } = scripted(() => {
      if (++tries === 1) throw new ConnectError('DELETE: the iLO closed the connection (ECONNRESET)');
      return json(200, {});
    });
    expect(await cleanUp(fold([hello(), session('a', 't1')]), transport, deps())).toEqual({ deleted: 1, failures: 0 });
    expect(tries).toBe(2);
  });

  it('the token refused: Basic over HTTPS confirms; without credentials it stays unconfirmed (a failure)', async () => {
    const refuse = (r: TransportRequest) => (r.headers?.['X-Auth-Token'] ? json(401, {}) : json(200, {}));
    const withBasic = scripted(refuse);
    expect(await cleanUp(fold([hello(), session('a', 't1')]), withBasic.transport, deps())).toEqual({ deleted: 1, failures: 0 });
    expect(deletes(withBasic.calls)).toEqual([['a', 't1'], ['a', BASIC]]);
    const without = scripted(refuse);
    expect(await cleanUp(fold([hello('https', false), session('a', 't1')]), without.transport, deps())).toEqual({ deleted: 0, failures: 1 });
    expect(deletes(without.calls)).toEqual([['a', 't1']]);
  });

  it('in-band, the channel itself is the authority: no credentials on the wire', async () => {
    const { transport, calls } = scripted(() => json(404, {}), { kind: 'chif' });
    expect(await cleanUp(fold([hello('chif'), session('a', 't1')]), transport, deps())).toEqual({ deleted: 1, failures: 0 });
    expect(deletes(calls)).toEqual([['a', 't1'], ['a', 'none']]);
  });

  it('a pending login over HTTPS without credentials: a failure, and no search', async () => {
    const { transport, calls } = scripted(() => json(200, { Members: [] }));
    expect(await cleanUp(fold([hello('https', false), login(Date.now())]), transport, deps())).toEqual({ deleted: 0, failures: 1 });
    expect(calls).toEqual([]);
  });

  it('no hello: nothing to act with, nothing sent', async () => {
    const { transport, calls } = scripted(() => json(200, {}));
    expect(await cleanUp(fold([session('a', 't1')]), transport, deps())).toEqual({ deleted: 0, failures: 0 });
    expect(calls).toEqual([]);
  });

  /** An iLO whose table holds one session the interrupted login could have made; it answers its listings with `date`. */
  function iloWithCandidate(at: number, iloClockMs: number, date?: (r: TransportRequest) => string | undefined) {
    const candidate = { '@odata.id': `${SESSIONS}/cand`, UserName: 'Administrator', Oem: { Hpe: { LoginTime: iso(at + iloClockMs + 50), AccessTime: iso(at + iloClockMs + 50), UserTag: 'REST', UserType: 'Local' } } };
    let exists = true;
    return scripted((r) => {
      const headers: Record<string, string> = {};
      const d = date?.(r);
      if (d) headers.date = d;
      if (r.method === 'GET' && r.path === SESSIONS) return json(200, { Members: exists ? [{ '@odata.id': candidate['@odata.id'] }] : [] }, headers);
      if (r.path === candidate['@odata.id']) {
        if (r.method === 'GET') return exists ? json(200, candidate, headers) : json(404, {}, headers);
        exists = false;
      }
      return json(200, {}, headers);
    });
  }

  it('a pending login: its session is found and deleted, unless a listing taken before the login already held it', async () => {
    const at = Date.now() - 200;
    const fresh = iloWithCandidate(at, 0);
    expect(await cleanUp(fold([hello(), login(at)]), fresh.transport, deps())).toEqual({ deleted: 1, failures: 0 });
    expect(deletes(fresh.calls)).toEqual([['cand', BASIC]]);

    const before = iloWithCandidate(at, 0);
    const listed = snapshotTaken(fold([hello('chif')]), [`${SESSIONS}/cand`], at - 1);
    const state = { ...apply(listed, login(at)), hello: hello() };
    expect(await cleanUp(state, before.transport, deps())).toEqual({ deleted: 0, failures: 0 });
    expect(deletes(before.calls)).toEqual([]);
  }, 20_000);

  it('the iLO\'s clock, read from the answers to its own DELETEs, places the login in the iLO\'s time', async () => {
    // The iLO's clock is an hour behind: by the host's clock the candidate looks an hour old.
    const HOUR = 3_600_000;
    const at = Date.now() - 200;
    const behind = () => new Date(Date.now() - HOUR).toUTCString();
    // Only the known session's DELETE tells the time: the search's own listings carry no Date.
    const told = iloWithCandidate(at, -HOUR, (r) => (r.method === 'DELETE' && r.path === `${SESSIONS}/a` ? behind() : undefined));
    expect(await cleanUp(fold([hello(), session('a', 't1'), login(at)]), told.transport, deps())).toEqual({ deleted: 2, failures: 0 });
    expect(deletes(told.calls)).toEqual([['a', 't1'], ['cand', BASIC]]);
    // Told nothing, the candidate is too old to be the login's.
    const untold = iloWithCandidate(at, -HOUR);
    expect(await cleanUp(fold([hello(), session('a', 't1'), login(at)]), untold.transport, deps())).toEqual({ deleted: 1, failures: 0 });
    // Or told before the pipe closed (the state's reading).
    const earlier = iloWithCandidate(at, -HOUR);
    expect(await cleanUp(clockRead(fold([hello(), login(at)]), -HOUR), earlier.transport, deps())).toEqual({ deleted: 1, failures: 0 });
    expect(deletes(earlier.calls)).toEqual([['cand', BASIC]]);
  }, 30_000);
});

describe('runGuardian\'s listing while it listens', () => {
  it('over HTTPS with the agent\'s token, between logins: a later interrupted login\'s search leaves its sessions alone', async () => {
    let loginAt = Date.now();
    const member = (id: string, made: () => number) => () => {
      const time = iso(made());
      return { '@odata.id': `${SESSIONS}/${id}`, UserName: 'Administrator', Oem: { Hpe: { LoginTime: time, AccessTime: time, UserTag: 'REST', UserType: 'Local' } } };
    };
    // `other`: another client's session of the same user, made with the login: it looks like the
    // login's own, and only the listing taken before the login tells it is not.
    const table: Record<string, ReturnType<typeof member>> = { a: member('a', () => loginAt - 500), other: member('other', () => loginAt + 50) };
    const { transport, calls } = scripted((r) => {
      if (r.method === 'GET' && r.path === SESSIONS) return json(200, { Members: Object.keys(table).map((id) => ({ '@odata.id': `${SESSIONS}/${id}` })) });
      const id = r.path.slice(SESSIONS.length + 1);
      if (r.method === 'GET') return table[id] ? json(200, table[id]()) : json(404, {});
      delete table[id];
      return json(200, {});
    });
    const listings = () => calls.filter((c) => c.method === 'GET' && c.path === SESSIONS);
    // Set once the guardian has read the listing's answer: its continuation runs before a setImmediate.
    let listed = false;
    const watched = {
      ...transport,
      request: (r: TransportRequest) => {
        const answer = transport.request(r);
        if (r.method === 'GET' && r.path === SESSIONS) answer.then(() => setImmediate(() => (listed = true)), () => undefined);
        return answer;
      },
    };
    async function* lines(): AsyncIterable<string> {
      yield encodeMessage(hello());
      yield encodeMessage(session('a', 't1'));
      await until(() => listed, 'the guardian listed the sessions with the agent\'s token', 20_000);
      loginAt = Date.now() + 5;
      yield encodeMessage(login(loginAt));
    }
    expect(await runGuardian({ lines: lines(), openTransport: async () => watched })).toBe('cleaned');
    expect(listings()[0]?.headers).toEqual({ 'X-Auth-Token': 't1' });
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/a`]);
    expect(Object.keys(table)).toEqual(['other']);
  }, 30_000);

  it('in-band, a login already in the pipe behind the hello: no listing is taken (it could hold that login\'s session)', async () => {
    const { transport, calls } = scripted(() => json(200, { Members: [] }), { kind: 'chif' });
    let listedWhileListening = -1;
    async function* lines(): AsyncIterable<string> {
      yield encodeMessage(hello('chif'));
      yield encodeMessage(login(Date.now()));
      // A negative check: a wait can only miss a listing, never fail a correct guardian.
      await sleep(300);
      listedWhileListening = calls.length;
    }
    await runGuardian({ lines: lines(), openTransport: async () => transport });
    expect(listedWhileListening).toBe(0);
  }, 30_000);

  it('malformed lines between the messages change nothing', async () => {
    const run = async (lines: string[]) => {
      const { transport, calls } = scripted(() => json(200, {}));
      async function* gen(): AsyncIterable<string> {
        yield* lines;
      }
      const outcome = await runGuardian({ lines: gen(), openTransport: async () => transport });
      return { outcome, deletes: deletes(calls) };
    };
    const good = [encodeMessage(hello()), encodeMessage(session('a', 't1'))].map((l) => l.trimEnd());
    const noisy = ['garbage', good[0] as string, '{"type":"released"', '{"type":"session","path":1,"token":"t"}', good[1] as string, '{"type":"hello","version":2}'];
    const expected = await run(good);
    expect(expected).toEqual({ outcome: 'cleaned', deletes: [['a', 't1']] });
    expect(await run(noisy)).toEqual(expected);
  }, 30_000);
});
