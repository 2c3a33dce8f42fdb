// cleanUp's remaining rules (guardian-state.test.ts has the main ones): each request is bounded,
// a session whose path cannot be learnt is never sent for, a search that fails is a failure, and
// what each outcome logs (the guardian's only record of what it did).
import { describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { cleanUp } from '../../src/guardian/clean-up.js';
import type { AgentMessage, HelloMessage } from '../../src/guardian/protocol.js';
import { apply, INITIAL_STATE } from '../../src/guardian/state.js';
import { ConnectError } from '../../src/errors.js';
import type { Transport, TransportRequest } from '../../src/transport/index.js';
import { json, scripted, type ScriptHandler } from '../helpers/scripted-transport.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';

const hello = (credentials = true): HelloMessage => ({
  type: 'hello',
  version: 1,
  agentPid: 1,
  logLevel: 'silent',
  transport: { kind: 'https', url: 'https://ilo', ca: null, insecure: false },
  credentials: credentials ? { username: 'Administrator', password: 'pw' } : null,
});
const session = (path: string | null, token: string | null): AgentMessage => ({ type: 'session', path: path && `${SESSIONS}/${path}`, token });
const fold = (messages: AgentMessage[]) => messages.reduce(apply, INITIAL_STATE);

/** A scripted iLO that also counts the requests its transport refuses before sending them. */
function iloOf(handler: ScriptHandler) {
  const { transport, calls } = scripted(handler);
  const attempts: TransportRequest[] = [];
  const counted: Transport = { ...transport, request: (r) => (attempts.push(r), transport.request(r)) };
  return { transport: counted, calls, attempts };
}

function recorder() {
  const entries: [string, Record<string, unknown>, string][] = [];
  const at = (level: string) => (fields: unknown, message?: string) =>
    entries.push(typeof fields === 'string' ? [level, {}, fields] : [level, fields as Record<string, unknown>, message ?? '']);
  const log = { debug: at('debug'), info: at('info'), warn: at('warn') } as unknown as Logger;
  return { entries, log };
}

const deps = (extra: { requestMs?: number; log?: Logger; now?: () => number } = {}) => ({ deadline: AbortSignal.timeout(20_000), requestMs: 3_000, now: Date.now, ...extra });

describe('cleanUp: the rest of its rules', () => {
  it('each request is bounded by requestMs: a DELETE that never answers is given up and sent again', async () => {
    let tries = 0;
    const i = iloOf(() => (++tries === 1 ? new Promise(() => undefined) : json(204, {})));
    expect(await cleanUp(fold([hello(), session('a', 't1')]), i.transport, deps({ requestMs: 50 }))).toEqual({ deleted: 1, failures: 0 });
    expect(tries).toBe(2);
  });

  it('a token whose listing names no MySession: no path, so nothing is sent for it; a failure, and said so', async () => {
    const { entries, log } = recorder();
    const i = iloOf((r) => (r.method === 'GET' ? json(503, {}) : json(204, {})));
    expect(await cleanUp(fold([hello(), session(null, 't1')]), i.transport, deps({ log }))).toEqual({ deleted: 0, failures: 1 });
    expect(i.attempts.map((r) => r.method)).toEqual(['GET']);
    expect(entries).toEqual([['warn', {}, 'a session of the agent has no known path; it stays until its idle timeout']]);
  });

  it('neither path nor token: not even an attempt to send', async () => {
    const i = iloOf(() => json(204, {}));
    expect(await cleanUp(fold([hello(), session(null, null)]), i.transport, deps())).toEqual({ deleted: 0, failures: 1 });
    expect(i.attempts).toEqual([]);
  });

  it('logs each session deleted, refused, or without an answer, with its path', async () => {
    const { entries, log } = recorder();
    const error = new ConnectError('connection reset');
    const i = iloOf((r) => {
      if (r.path.endsWith('/refused')) return json(500, {});
      if (r.path.endsWith('/unreachable')) throw error;
      return json(204, {});
    });
    const state = fold([hello(), session('unreachable', 't3'), session('refused', 't2'), session('gone', 't1')]);
    expect(await cleanUp(state, i.transport, deps({ log }))).toEqual({ deleted: 1, failures: 2 });
    expect(entries).toEqual([
      ['info', { session: `${SESSIONS}/gone` }, 'deleted the session the agent left'],
      ['warn', { session: `${SESSIONS}/refused` }, 'the iLO refused to delete the session the agent left'],
      ['warn', { err: error, session: `${SESSIONS}/unreachable` }, 'could not delete the session the agent left'],
    ]);
  });

  it('a pending login without credentials over HTTPS: a failure, said so', async () => {
    const { entries, log } = recorder();
    const i = iloOf(() => json(200, { Members: [] }));
    expect(await cleanUp(fold([hello(false), { type: 'login', user: null, at: 1 }]), i.transport, deps({ log }))).toEqual({ deleted: 0, failures: 1 });
    expect(entries).toEqual([['warn', {}, 'no credentials to look for the session of the interrupted login']]);
  });

  it('a login-gap search that fails (here its clock throws) is a failure, logged; the clean-up still answers', async () => {
    const { entries, log } = recorder();
    const broken = new Error('no clock');
    const i = iloOf(() => json(200, { Members: [] }));
    const now = () => {
      throw broken;
    };
    expect(await cleanUp(fold([hello(), { type: 'login', user: 'Administrator', at: 1 }]), i.transport, deps({ log, now }))).toEqual({ deleted: 0, failures: 1 });
    expect(entries).toEqual([['warn', { err: broken }, 'could not look for the session of the interrupted login']]);
    // Without a logger too (the agent asked for silence).
    expect(await cleanUp(fold([hello(), { type: 'login', user: 'Administrator', at: 1 }]), i.transport, deps({ now }))).toEqual({ deleted: 0, failures: 1 });
  });
});
