// runGuardian's own effects while it listens and after: the listing taken before a login (it keeps
// that listing's sessions out of a later interrupted login's search, and its Date header places the
// login in the iLO's time), no listing once the pipe closed, a transport that opens late or never,
// and what it logs. Driven with `lines` and `openTransport` injected, as guardian-rules.test.ts.
import { describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { runGuardian, type GuardianDeps } from '../../src/guardian/guardian.js';
import { encodeMessage, type AgentMessage, type HelloMessage } from '../../src/guardian/protocol.js';
import { ConnectError } from '../../src/errors.js';
import type { Transport, TransportRequest } from '../../src/transport/index.js';
import { json, scripted } from '../helpers/scripted-transport.js';
import { until } from '../helpers/wait.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';
const BASIC = `Basic ${Buffer.from('Administrator:pw').toString('base64')}`;
/** The host clock (fake) at the start, on a whole second: a Date header's offset is then exact. */
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
/** The iLO's clock runs this far ahead of the host's; only the listing taken while listening says so. */
const SKEW = 10_000;
const ms = (t: number) => new Date(t).toISOString();

const hello = (kind: 'https' | 'chif', extra: Partial<HelloMessage> = {}): HelloMessage => ({
  type: 'hello',
  version: 1,
  agentPid: 7,
  logLevel: 'silent',
  transport: kind === 'https' ? { kind, url: 'https://ilo', ca: null, insecure: false } : { kind, library: '/opt/ilorest/lib64/libilorestchif.so' },
  credentials: kind === 'https' ? { username: 'Administrator', password: 'pw' } : null,
  ...extra,
});
const line = (m: AgentMessage) => encodeMessage(m).trimEnd();
/** Lets every callback already queued run (setImmediate's included), as a pipe between two lines does. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

function member(user: string, tag: string, loginTime: number) {
  return { UserName: user, Oem: { Hpe: { LoginTime: ms(loginTime), AccessTime: ms(loginTime), UserTag: tag, UserType: user === 'system administrator' ? 'System' : 'Local' } } };
}

/**
 * An iLO: the first Sessions listing carries a Date header (the iLO SKEW ahead), later answers none;
 * the fake clock moves 2 s per listing, so the search's schedule never sleeps. `listed` turns true
 * once the guardian has read the first listing's answer (its continuation runs before a setImmediate).
 */
function ilo(kind: Transport['kind'], table: Record<string, unknown>) {
  let clock = T0;
  let listings = 0;
  let listed = false;
  const deleted: string[] = [];
  const { transport, calls } = scripted(
    (r) => {
      if (r.method === 'GET' && r.path === SESSIONS) {
        clock += 2_000;
        const headers: Record<string, string> = ++listings === 1 ? { date: new Date(clock + SKEW).toUTCString() } : {};
        return json(200, { Members: Object.keys(table).map((id) => ({ '@odata.id': `${SESSIONS}/${id}` })) }, headers);
      }
      const id = r.path.slice(SESSIONS.length + 1);
      if (r.method === 'GET') return table[id] ? json(200, table[id]) : json(404, {});
      deleted.push(id);
      delete table[id];
      return json(204, {});
    },
    { kind },
  );
  const watched: Transport = {
    ...transport,
    request: (r) => {
      const answer = transport.request(r);
      if (r.method === 'GET' && r.path === SESSIONS) answer.then(() => setImmediate(() => (listed = true)), () => undefined);
      return answer;
    },
  };
  return { transport: watched, calls, deleted, now: () => clock, listed: () => listed };
}

const listingsOf = (calls: TransportRequest[]) => calls.filter((c) => c.method === 'GET' && c.path === SESSIONS);

describe('the listing taken while the guardian listens', () => {
  // After the listing: `other` (listed) and two sessions the login may have made, one on the
  // earliest LoginTime the iLO's clock allows (the login's start + SKEW - 1 s), one a ms before it.
  function afterLogin(table: Record<string, unknown>, at: number, user: string, tag: string) {
    table.ours = member(user, tag, at + SKEW - 1_000);
    table.early = member(user, tag, at + SKEW - 1_001);
  }

  it('over HTTPS, with the token of the agent\'s session once it is reported: its sessions are not the login\'s, and its Date header sets the window', async () => {
    const table: Record<string, unknown> = { a: member('Administrator', 'REST', T0), other: member('Administrator', 'REST', T0 + SKEW + 9_000) };
    const i = ilo('https', table);
    async function* lines(): AsyncIterable<string> {
      yield line(hello('https'));
      // The hello's own chance to list has passed (no token yet): the session's report must ask for it.
      await tick();
      expect(listingsOf(i.calls)).toEqual([]);
      yield line({ type: 'session', path: `${SESSIONS}/a`, token: 't1' });
      await until(i.listed, 'the guardian listed the sessions with the agent\'s token');
      const at = i.now() + 500;
      afterLogin(table, at, 'Administrator', 'REST');
      yield line({ type: 'login', user: 'Administrator', at });
    }
    expect(await runGuardian({ lines: lines(), openTransport: async () => i.transport, now: i.now })).toBe('cleaned');
    expect(listingsOf(i.calls)[0]?.headers).toEqual({ 'X-Auth-Token': 't1' });
    expect(i.deleted).toEqual(['a', 'ours']);
    expect(Object.keys(table).sort()).toEqual(['early', 'other']);
    expect(i.calls.filter((c) => c.method === 'DELETE').map((c) => c.headers?.['X-Auth-Token'] ?? c.headers?.Authorization)).toEqual(['t1', BASIC]);
  });

  it('in-band, at once after the hello and with no header: the same exclusion and clock', async () => {
    const table: Record<string, unknown> = { other: member('system administrator', 'RESTHost', T0 + SKEW + 9_000) };
    const i = ilo('chif', table);
    async function* lines(): AsyncIterable<string> {
      yield line(hello('chif'));
      await until(i.listed, 'the guardian listed the sessions in-band');
      const at = i.now() + 500;
      afterLogin(table, at, 'system administrator', 'RESTHost');
      yield line({ type: 'login', user: null, at });
    }
    expect(await runGuardian({ lines: lines(), openTransport: async () => i.transport, now: i.now })).toBe('cleaned');
    expect(listingsOf(i.calls)[0]?.headers).toEqual({});
    expect(i.deleted).toEqual(['ours']);
  });

  it('no listing once the pipe closed, even when the transport opens only then', async () => {
    const i = ilo('chif', {});
    let open: (t: Transport) => void = () => undefined;
    const opened = new Promise<Transport>((resolve) => (open = resolve));
    async function* lines(): AsyncIterable<string> {
      yield line(hello('chif'));
      yield line({ type: 'session', path: `${SESSIONS}/a`, token: null });
    }
    const outcome = await runGuardian({ lines: lines(), openTransport: () => opened, onInputEnd: () => open(i.transport), now: i.now });
    expect(outcome).toBe('cleaned');
    expect(listingsOf(i.calls)).toEqual([]);
    expect(i.calls.map((c) => `${c.method} ${c.path}`)).toEqual([`DELETE ${SESSIONS}/a`]);
  });
});

describe('the transport after the pipe closed', () => {
  it('only a hello opens it: lines before the hello open nothing, and the hello opens it once', async () => {
    const i = ilo('https', {});
    let opened = 0;
    const lines = (async function* () {
      yield line({ type: 'session', path: `${SESSIONS}/early`, token: 't0' });
      yield line(hello('https'));
      yield line({ type: 'session', path: `${SESSIONS}/a`, token: 't1' });
    })();
    await runGuardian({ lines, openTransport: async () => (opened++, i.transport), now: i.now });
    expect(opened).toBe(1);
  });


  it('one that opens late, but within the deadline, is waited for', async () => {
    const i = ilo('https', {});
    const late = () => new Promise<Transport>((resolve) => setTimeout(() => resolve(i.transport), 50));
    const lines = (async function* () {
      yield line(hello('https'));
      yield line({ type: 'session', path: `${SESSIONS}/a`, token: 't1' });
    })();
    expect(await runGuardian({ lines, openTransport: late, now: i.now })).toBe('cleaned');
    expect(i.deleted).toEqual(['a']);
  });

  it('one that never opens: failed once the deadline passed (it does not wait for ever)', async () => {
    const lines = (async function* () {
      yield line(hello('https'));
      yield line({ type: 'session', path: `${SESSIONS}/a`, token: 't1' });
    })();
    expect(await runGuardian({ lines, openTransport: () => new Promise<Transport>(() => undefined) })).toBe('failed');
  }, 30_000);
});

describe('what the guardian logs', () => {
  type Entry = [level: string, fields: Record<string, unknown>, message: string];
  function recorder() {
    const entries: Entry[] = [];
    const at = (level: string) => (fields: unknown, message?: string) =>
      entries.push(typeof fields === 'string' ? [level, {}, fields] : [level, fields as Record<string, unknown>, message ?? '']);
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn') } as unknown as Logger;
    const createLogger: GuardianDeps['createLogger'] = async () => logger;
    return { entries, createLogger, messages: () => entries.map(([level, , message]) => `${level} ${message}`) };
  }

  it('a transport it cannot open: why, at debug, and that the session stays, at warn', async () => {
    const { entries, messages, createLogger } = recorder();
    const refusal = new ConnectError('no route');
    const lines = (async function* () {
      yield line(hello('chif', { logLevel: 'debug' }));
      yield 'not a message';
      yield line({ type: 'session', path: `${SESSIONS}/a`, token: 't1' });
    })();
    const outcome = await runGuardian({ lines, createLogger, openTransport: () => Promise.reject(refusal) });
    expect(outcome).toBe('failed');
    // The failed open is told whenever its rejection lands among the lines: the order of the rest is fixed.
    expect(messages().filter((m) => !m.includes('could not open'))).toEqual([
      'debug guardian watching',
      'debug ignored a line from the agent that is not a guardian message',
      'debug session made',
      'info the agent ended without deleting its session; deleting it',
      'warn the guardian cannot reach the iLO; the session stays until its idle timeout',
    ]);
    expect(entries.filter(([, , m]) => m.includes('could not open'))).toEqual([['debug', { err: refusal }, 'the guardian could not open its transport (yet)']]);
    expect(entries.filter(([level]) => level === 'info')).toEqual([
      ['info', { agentPid: 7, sessions: [`${SESSIONS}/a`], loginInFlight: false }, 'the agent ended without deleting its session; deleting it'],
    ]);
  });

  it('a clean-up: who it watches, the login, the listing, what it deletes and how long it took', async () => {
    const { entries, createLogger } = recorder();
    const i = ilo('chif', {});
    async function* lines(): AsyncIterable<string> {
      yield line(hello('chif', { logLevel: 'debug' }));
      await until(i.listed, 'the guardian listed the sessions in-band');
      yield line({ type: 'session', path: `${SESSIONS}/a`, token: 't1' });
      yield line({ type: 'login', user: null, at: i.now() + 500 });
    }
    expect(await runGuardian({ lines: lines(), createLogger, openTransport: async () => i.transport, now: i.now })).toBe('cleaned');
    const library = '/opt/ilorest/lib64/libilorestchif.so';
    expect(entries).toEqual([
      ['debug', { agentPid: 7, transport: 'chif', library }, 'guardian watching'],
      ['debug', { sessions: 0 }, 'listed the sessions that exist before the next login'],
      ['debug', { session: `${SESSIONS}/a` }, 'session made'],
      ['debug', { user: null }, 'login started'],
      ['info', { agentPid: 7, sessions: [`${SESSIONS}/a`], loginInFlight: true }, 'the agent ended without deleting its session; deleting it'],
      ['info', { session: `${SESSIONS}/a` }, 'deleted the session the agent left'],
      // Five listings of the search, 2 s each on the fake clock.
      ['debug', { ms: 10_000, deleted: 1, failures: 0 }, 'guardian done'],
    ]);
  });

  it('over HTTPS the hello names no library; released and nothing-to-do say so', async () => {
    const { entries, createLogger } = recorder();
    const { transport } = scripted(() => json(204, {}));
    const run = (messages: AgentMessage[]) =>
      runGuardian({ lines: (async function* () { for (const m of messages) yield line(m); })(), createLogger, openTransport: async () => transport });
    expect(await run([hello('https', { logLevel: 'debug' }), { type: 'released' }])).toBe('released');
    expect(await run([hello('https', { logLevel: 'debug' })])).toBe('nothing-to-do');
    expect(entries).toEqual([
      ['debug', { agentPid: 7, transport: 'https', library: undefined }, 'guardian watching'],
      ['debug', {}, 'the agent released its session; nothing to do'],
      ['debug', { agentPid: 7, transport: 'https', library: undefined }, 'guardian watching'],
      ['debug', {}, 'the agent ended before any login; nothing to do'],
    ]);
  });
});
