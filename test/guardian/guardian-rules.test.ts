// The guardian's decisions when the agent's pipe closes, through runGuardian only (guardian.ts is being
// restructured: these cases pin its behaviour, not its helpers): when there is nothing to do, what it
// deletes and in which order, with which authority, and which outcome it reports.
import { describe, expect, it } from 'vitest';
import { runGuardian, guardianTimeouts } from '../../src/guardian/guardian.js';
import { encodeMessage, type AgentMessage } from '../../src/guardian/protocol.js';
import { ConnectError } from '../../src/errors.js';
import type { Transport, TransportRequest } from '../../src/transport/index.js';
import { scripted, json } from '../helpers/scripted-transport.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';
const BASIC = `Basic ${Buffer.from('Administrator:pw').toString('base64')}`;

async function* linesOf(messages: AgentMessage[]): AsyncIterable<string> {
  for (const m of messages) yield encodeMessage(m).trimEnd();
}

const https = (extra: Partial<Extract<AgentMessage, { type: 'hello' }>> = {}): AgentMessage => ({
  type: 'hello',
  version: 1,
  agentPid: 1,
  logLevel: 'silent',
  transport: { kind: 'https', url: 'https://ilo', ca: null, insecure: false },
  credentials: { username: 'Administrator', password: 'pw' },
  ...extra,
});
const chif = (): AgentMessage => ({
  type: 'hello',
  version: 1,
  agentPid: 1,
  logLevel: 'silent',
  transport: { kind: 'chif', library: '/opt/ilorest/lib64/libilorestchif.so' },
  credentials: null,
});
const session = (path: string | null, token: string | null): AgentMessage => ({ type: 'session', path, token });
const deletesOf = (calls: TransportRequest[]) =>
  calls.filter((c) => c.method === 'DELETE').map((c) => `${c.path} ${c.headers?.['X-Auth-Token'] ?? c.headers?.Authorization ?? '(channel)'}`);

async function guard(messages: AgentMessage[], transport: Transport, extra: { onInputEnd?: (ms: number) => void } = {}) {
  let opened = 0;
  const outcome = await runGuardian({
    lines: linesOf(messages),
    openTransport: async () => (opened++, transport),
    ...extra,
  });
  return { outcome, opened };
}

describe('the guardian when the pipe closes', () => {
  it('nothing to do without a hello, or with a hello and no login', async () => {
    const { transport, calls } = scripted(() => json(200));
    expect((await guard([], transport)).outcome).toBe('nothing-to-do');
    expect((await guard([session(`${SESSIONS}/x`, 't')], transport)).outcome).toBe('nothing-to-do');
    expect((await guard([https()], transport)).outcome).toBe('nothing-to-do');
    expect(deletesOf(calls)).toEqual([]);
  });

  it('tells main.ts when the pipe closed and how long the rest may take (the agent\'s timeout sets it)', async () => {
    const { transport } = scripted(() => json(200));
    const told: number[] = [];
    await guard([https({ timeoutMs: 20_000 })], transport, { onInputEnd: (ms) => told.push(ms) });
    await guard([https()], transport, { onInputEnd: (ms) => told.push(ms) });
    expect(told).toEqual([guardianTimeouts(20_000).deadlineMs, guardianTimeouts(undefined).deadlineMs]);
    expect(told).toEqual([60_000, 10_000]);
  });

  it('a second hello changes nothing: one transport, the first one\'s credentials', async () => {
    const { transport, calls } = scripted((r) => (r.headers?.['X-Auth-Token'] ? json(405) : json(200)));
    const other = https({ credentials: { username: 'other', password: 'x' } });
    const { outcome, opened } = await guard([https(), other, session(`${SESSIONS}/a`, 't')], transport);
    expect(outcome).toBe('cleaned');
    expect(opened).toBe(1);
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/a t`, `${SESSIONS}/a ${BASIC}`]);
  });

  it('a transport it cannot open: failed, nothing sent', async () => {
    const outcome = await runGuardian({
      lines: linesOf([https(), session(`${SESSIONS}/a`, 't')]),
      openTransport: () => Promise.reject(new ConnectError('no route to the iLO')),
    });
    expect(outcome).toBe('failed');
  });

  it('several sessions (a re-login whose old DELETE failed): newest first, each with its token', async () => {
    const { transport, calls } = scripted(() => json(204));
    const { outcome } = await guard([https(), session(`${SESSIONS}/a`, 'ta'), session(`${SESSIONS}/b`, 'tb')], transport);
    expect(outcome).toBe('cleaned');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/b tb`, `${SESSIONS}/a ta`]);
  });

  it('a path told after its token is the same session: one DELETE, cleaned', async () => {
    const { transport, calls } = scripted(() => json(204));
    const { outcome } = await guard([https(), session(null, 't'), session(`${SESSIONS}/a`, 't')], transport);
    expect(outcome).toBe('cleaned');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/a t`]);
  });

  it('a token told after its path is the same session too', async () => {
    const { transport, calls } = scripted(() => json(204));
    await guard([https(), session(`${SESSIONS}/a`, null), session(`${SESSIONS}/a`, 't')], transport);
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/a t`]);
  });

  it('in-band with null credentials: a token DELETE refused is confirmed on the channel\'s trust', async () => {
    const { transport, calls } = scripted((r) => (r.headers?.['X-Auth-Token'] ? json(401) : json(404)), { kind: 'chif' });
    const { outcome } = await guard([chif(), session(`${SESSIONS}/a`, 't')], transport);
    expect(outcome).toBe('cleaned');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/a t`, `${SESSIONS}/a (channel)`]);
    expect(calls.filter((c) => c.method === 'DELETE')[1]?.headers).toEqual({});
  });

  it('over HTTPS without credentials a refused token DELETE cannot be confirmed: failed, nothing more sent', async () => {
    const { transport, calls } = scripted(() => json(401));
    const { outcome } = await guard([https({ credentials: null }), session(`${SESSIONS}/a`, 't')], transport);
    expect(outcome).toBe('failed');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/a t`]);
  });

  it('a session with neither path nor token: failed, nothing deleted', async () => {
    const { transport, calls } = scripted(() => json(204));
    const { outcome } = await guard([https(), session(null, null)], transport);
    expect(outcome).toBe('failed');
    expect(deletesOf(calls)).toEqual([]);
  });

  it('one session deleted and one refused: failed, and both were tried', async () => {
    const { transport, calls } = scripted((r) => (r.path.endsWith('/b') ? json(500) : json(204)));
    const { outcome } = await guard([https(), session(`${SESSIONS}/a`, 'ta'), session(`${SESSIONS}/b`, 'tb')], transport);
    expect(outcome).toBe('failed');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/b tb`, `${SESSIONS}/b ${BASIC}`, `${SESSIONS}/a ta`]);
  });

  it('a DELETE that fails to get an answer is tried again', async () => {
    let tries = 0;
    const { transport } = scripted(() => {
      if (++tries < 3) throw new ConnectError('connection reset');
      return json(204);
    });
    const { outcome } = await guard([https(), session(`${SESSIONS}/a`, 't')], transport);
    expect(outcome).toBe('cleaned');
    expect(tries).toBe(3);
  });

  it('an interrupted login over HTTPS without credentials: nothing to look with, failed', async () => {
    const { transport, calls } = scripted(() => json(200, { Members: [] }));
    const { outcome } = await guard([https({ credentials: null }), { type: 'login', user: null, at: 1 }], transport);
    expect(outcome).toBe('failed');
    expect(deletesOf(calls)).toEqual([]);
  });

  it('a refused login clears the login in flight: nothing to look for', async () => {
    const { transport, calls } = scripted(() => json(200, { Members: [] }));
    const { outcome } = await guard([https(), { type: 'login', user: 'Administrator', at: 1 }, { type: 'refused' }], transport);
    expect(outcome).toBe('nothing-to-do');
    expect(calls).toEqual([]);
  });

  it('released after sessions: nothing sent', async () => {
    const { transport, calls } = scripted(() => json(204));
    const { outcome } = await guard([https(), session(`${SESSIONS}/a`, 't'), { type: 'released' }], transport);
    expect(outcome).toBe('released');
    expect(deletesOf(calls)).toEqual([]);
  });

  it('lines that are not guardian messages are ignored', async () => {
    const { transport, calls } = scripted(() => json(204));
    async function* lines() {
      yield 'not json';
      yield encodeMessage(https()).trimEnd();
      yield '{"type":"nonsense"}';
      yield encodeMessage(session(`${SESSIONS}/a`, 't')).trimEnd();
    }
    const outcome = await runGuardian({ lines: lines(), openTransport: async () => transport });
    expect(outcome).toBe('cleaned');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/a t`]);
  });
  it('two sessions known only by their paths stay two (a null token matches nothing)', async () => {
    const { transport, calls } = scripted((r) => (r.headers?.['X-Auth-Token'] ? json(204) : json(204)), { kind: 'chif' });
    const { outcome } = await guard([chif(), session(`${SESSIONS}/a`, null), session(`${SESSIONS}/b`, null)], transport);
    expect(outcome).toBe('cleaned');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/b (channel)`, `${SESSIONS}/a (channel)`]);
  });

  it('two sessions known only by their tokens stay two (a null path matches nothing)', async () => {
    const { transport, calls } = scripted((r) =>
      r.method === 'GET'
        ? json(200, { Members: [], Oem: { Hpe: { Links: { MySession: { '@odata.id': `${SESSIONS}/of-${r.headers?.['X-Auth-Token']}` } } } } })
        : json(204),
    );
    const { outcome } = await guard([https(), session(null, 'ta'), session(null, 'tb')], transport);
    expect(outcome).toBe('cleaned');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/of-tb tb`, `${SESSIONS}/of-ta ta`]);
  });

  it('in-band with credentials (a secured channel): the second DELETE still rests on the channel, never Basic', async () => {
    const { transport, calls } = scripted((r) => (r.headers?.['X-Auth-Token'] ? json(401) : json(204)), { kind: 'chif' });
    const secured = { ...chif(), credentials: { username: 'Administrator', password: 'pw' } } as AgentMessage;
    const { outcome } = await guard([secured, session(`${SESSIONS}/a`, 't')], transport);
    expect(outcome).toBe('cleaned');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/a t`, `${SESSIONS}/a (channel)`]);
  });

  it('a log level asked for without a logger factory (as a library caller may): the work is done all the same', async () => {
    const { transport, calls } = scripted(() => json(204));
    const outcome = await runGuardian({ lines: linesOf([https({ logLevel: 'debug' }), session(`${SESSIONS}/a`, 't')]), openTransport: async () => transport });
    expect(outcome).toBe('cleaned');
    expect(deletesOf(calls)).toEqual([`${SESSIONS}/a t`]);
  });

  it('a logger only when the agent asked for one, at its level', async () => {
    const { transport } = scripted(() => json(204));
    const levels: string[] = [];
    const createLogger = async (level: string) => (levels.push(level), undefined);
    await runGuardian({ lines: linesOf([https({ logLevel: 'silent' }), session(`${SESSIONS}/a`, 't')]), openTransport: async () => transport, createLogger });
    expect(levels).toEqual([]);
    await runGuardian({ lines: linesOf([https({ logLevel: 'debug' }), session(`${SESSIONS}/a`, 't')]), openTransport: async () => transport, createLogger });
    expect(levels).toEqual(['debug']);
  });
});
