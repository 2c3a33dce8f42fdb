// The guardian's rules, in-process: what the session tells it, and what it deletes when the
// pipe closes, driven through a scripted transport (test/cli/guardian.test.ts runs the real thing).
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSelfSignedCertificate } from '../../src/simulator/certificate.js';
import { guardianTimeouts, runGuardian } from '../../src/guardian/guardian.js';
import { encodeMessage, parseMessage, type AgentMessage, type HelloMessage } from '../../src/guardian/protocol.js';
import { guardianExecArgv } from '../../src/guardian/spawn.js';
import { Session, type SessionObserver } from '../../src/session/index.js';
import { ConnectError } from '../../src/errors.js';
import type { TransportResponse } from '../../src/transport/index.js';
import { iso, json, scripted } from '../helpers/scripted-transport.js';

const SESSIONS = '/redfish/v1/SessionService/Sessions';

async function* linesOf(messages: AgentMessage[]): AsyncIterable<string> {
  for (const m of messages) yield encodeMessage(m).trimEnd();
}

const hello = (kind: 'https' | 'chif' = 'https'): AgentMessage => ({
  type: 'hello',
  version: 1,
  agentPid: 1,
  logLevel: 'silent',
  transport: kind === 'https' ? { kind, url: 'https://ilo', ca: null, insecure: false } : { kind, library: '/opt/ilorest/lib64/libilorestchif.so' },
  credentials: kind === 'https' ? { username: 'Administrator', password: 'pw' } : null,
});

describe('the session tells its observer', () => {
  function recorder() {
    const events: string[] = [];
    const observer: Required<SessionObserver> = {
      loginStarted: ({ user }) => events.push(`login ${user}`),
      loginRefused: () => events.push('refused'),
      sessionCreated: ({ path, token }) => events.push(`session ${path} ${token}`),
      released: () => events.push('released'),
    };
    return { events, observer };
  }
  const credentials = { username: 'admin', password: 'pw' };

  it('login, the session with its token, and released once it is deleted', async () => {
    const { transport } = scripted((r) => (r.method === 'POST' ? json(201, {}, { location: `${SESSIONS}/a`, 'x-auth-token': 't1' }) : json(200, {})));
    const { events, observer } = recorder();
    const session = new Session({ transport, credentials, observer });
    await session.open();
    await session.close();
    expect(events).toEqual(['login admin', `session ${SESSIONS}/a t1`, 'released']);
  });

  it('a refused login: refused, then released (nothing was made)', async () => {
    const { transport } = scripted(() => json(401, {}));
    const { events, observer } = recorder();
    const session = new Session({ transport, credentials, observer });
    await expect(session.open()).rejects.toThrow();
    await session.close();
    expect(events).toEqual(['login admin', 'refused', 'released']);
  });

  it('a DELETE that fails: not released (the guardian must try)', async () => {
    const { transport } = scripted((r) => (r.method === 'POST' ? json(201, {}, { location: `${SESSIONS}/a`, 'x-auth-token': 't1' }) : json(500, {})));
    const { events, observer } = recorder();
    const session = new Session({ transport, credentials, observer });
    await session.open();
    await expect(session.close()).rejects.toThrow();
    expect(events).not.toContain('released');
  });

  it('a login POST that got no answer: not released (the iLO may have made a session)', async () => {
    const { transport } = scripted(() => {
      throw new ConnectError('POST /redfish/v1/SessionService/Sessions: the iLO closed the connection (ECONNRESET)');
    });
    const { events, observer } = recorder();
    const session = new Session({ transport, credentials, observer });
    await expect(session.open()).rejects.toThrow();
    await session.close();
    expect(events).toEqual(['login admin']);
  });

  it('a re-login after a 401: a second login and session; released when both are gone', async () => {
    let logins = 0;
    const { transport } = scripted((r) => {
      if (r.method === 'POST') return json(201, {}, { location: `${SESSIONS}/s${++logins}`, 'x-auth-token': `t${logins}` });
      if (r.method === 'GET') return r.headers?.['X-Auth-Token'] === 't1' ? json(401, {}) : json(200, {});
      return json(200, {});
    });
    const { events, observer } = recorder();
    const session = new Session({ transport, credentials, observer });
    await session.open();
    await session.request({ method: 'GET', path: '/redfish/v1/' });
    await session.close();
    expect(events).toEqual(['login admin', `session ${SESSIONS}/s1 t1`, 'login admin', `session ${SESSIONS}/s2 t2`, 'released']);
  });
});

describe('the guardian, when the pipe closes', () => {
  it('after released: does nothing', async () => {
    const { transport, calls } = scripted(() => json(200, {}));
    const outcome = await runGuardian({
      lines: linesOf([hello(), { type: 'login', user: 'Administrator', at: 1 }, { type: 'session', path: `${SESSIONS}/a`, token: 't' }, { type: 'released' }]),
      openTransport: async () => transport,
    });
    expect(outcome).toBe('released');
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
  });

  it('without released: deletes the known session with its token', async () => {
    const { transport, calls } = scripted(() => json(200, {}));
    const outcome = await runGuardian({
      lines: linesOf([hello(), { type: 'login', user: 'Administrator', at: 1 }, { type: 'session', path: `${SESSIONS}/a`, token: 't' }]),
      openTransport: async () => transport,
    });
    expect(outcome).toBe('cleaned');
    const deletes = calls.filter((c) => c.method === 'DELETE');
    expect(deletes.map((c) => [c.path, c.headers?.['X-Auth-Token']])).toEqual([[`${SESSIONS}/a`, 't']]);
  });

  it('a token without a path: finds the path through the collection\'s MySession', async () => {
    const { transport, calls } = scripted((r) =>
      r.method === 'GET' ? json(200, { Members: [], Oem: { Hpe: { Links: { MySession: { '@odata.id': `${SESSIONS}/m` } } } } }) : json(200, {}),
    );
    await runGuardian({ lines: linesOf([hello(), { type: 'session', path: null, token: 't' }]), openTransport: async () => transport });
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/m`]);
  });

  it('the iLO refuses the token\'s DELETE (405): Basic, as the agent does', async () => {
    const { transport, calls } = scripted((r) => (r.headers?.['X-Auth-Token'] ? json(405, {}) : json(200, {})));
    await runGuardian({ lines: linesOf([hello(), { type: 'session', path: `${SESSIONS}/a`, token: 't' }]), openTransport: async () => transport });
    const deletes = calls.filter((c) => c.method === 'DELETE');
    expect(deletes).toHaveLength(2);
    expect(deletes[1]?.headers?.Authorization).toBe(`Basic ${Buffer.from('Administrator:pw').toString('base64')}`);
  });

  it('a token DELETE answered 401 or 404 is confirmed with Basic before the session counts as gone', async () => {
    for (const status of [401, 404]) {
      const { transport, calls } = scripted((r) => (r.method === 'DELETE' && r.headers?.['X-Auth-Token'] ? json(status, {}) : json(200, {})));
      const outcome = await runGuardian({ lines: linesOf([hello(), { type: 'session', path: `${SESSIONS}/a`, token: 't' }]), openTransport: async () => transport });
      expect(outcome).toBe('cleaned');
      const deletes = calls.filter((c) => c.method === 'DELETE');
      expect(deletes.map((c) => c.headers?.Authorization ?? 'token')).toEqual(['token', `Basic ${Buffer.from('Administrator:pw').toString('base64')}`]);
    }
    // Basic refused too: not gone, and the guardian says it failed
    const { transport } = scripted((r) => (r.method === 'DELETE' ? json(r.headers?.['X-Auth-Token'] ? 404 : 401, {}) : json(200, {})));
    const outcome = await runGuardian({ lines: linesOf([hello(), { type: 'session', path: `${SESSIONS}/a`, token: 't' }]), openTransport: async () => transport });
    expect(outcome).toBe('failed');
  });

  it('the agent died in its login: deletes only the session that login can have made', async () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 10, 500);
    const at = now - 300;
    const member = (id: string, user: string, tag: string, login: number, access = login, type = 'Local') => ({
      '@odata.id': `${SESSIONS}/${id}`,
      UserName: user,
      Oem: { Hpe: { LoginTime: iso(login), AccessTime: iso(access), UserTag: tag, UserType: type } },
    });
    const table: Record<string, ReturnType<typeof member>> = {
      ours: member('ours', 'Administrator', 'REST', at + 50),
      older: member('older', 'Administrator', 'REST', at - 3_000),
      // made 2.1 s before the login started: its LoginTime reads 2.2 s before, the Date header 0.5 s behind
      justOlder: member('justOlder', 'Administrator', 'REST', at - 2_100),
      otherUser: member('otherUser', 'operator', 'REST', at + 10),
      otherTag: member('otherTag', 'Administrator', 'Web UI', at + 10),
      inUse: member('inUse', 'Administrator', 'REST', at - 1_000, at + 2_000),
      basic: member('basic', 'Administrator', 'REST', now),
    };
    const deleted: string[] = [];
    const { transport } = scripted((r) => {
      if (r.method === 'GET' && r.path === SESSIONS) {
        return json(200, {
          Members: Object.values(table).map((m) => ({ '@odata.id': m['@odata.id'] })),
          Oem: { Hpe: { Links: { MySession: { '@odata.id': `${SESSIONS}/basic` } } } },
        }, { date: new Date(now).toUTCString() });
      }
      const id = r.path.slice(SESSIONS.length + 1);
      if (r.method === 'GET') return table[id] ? json(200, table[id]) : json(404, {});
      deleted.push(id);
      delete table[id];
      return json(200, {});
    });
    let clock = now;
    const outcome = await runGuardian({
      lines: linesOf([hello(), { type: 'login', user: 'administrator', at }]),
      openTransport: async () => transport,
      now: () => (clock += 1),
    });
    expect(outcome).toBe('cleaned');
    expect(deleted).toEqual(['ours']);
  });

  it('in-band with null credentials: the system administrator\'s RESTHost session, with no credentials on the wire', async () => {
    const at = Date.now() - 200;
    const { transport, calls } = scripted((r) => {
      if (r.method === 'GET' && r.path === SESSIONS) return json(200, { Members: [{ '@odata.id': `${SESSIONS}/system%20administrator0001` }] });
      if (r.method === 'GET') {
        return json(200, { UserName: 'system administrator', Oem: { Hpe: { LoginTime: iso(at), AccessTime: iso(at), UserTag: 'RESTHost', UserType: 'System' } } });
      }
      return json(200, {});
    }, { kind: 'chif' });
    await runGuardian({ lines: linesOf([hello('chif'), { type: 'login', user: null, at }]), openTransport: async () => transport });
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${SESSIONS}/system%20administrator0001`]);
    expect(calls.every((c) => !c.headers?.Authorization && !c.headers?.['X-Auth-Token'])).toBe(true);
  });

  it('a refused login, then the pipe closes: nothing to look for', async () => {
    const { transport, calls } = scripted(() => json(200, { Members: [] }));
    const outcome = await runGuardian({
      lines: linesOf([hello(), { type: 'login', user: 'Administrator', at: Date.now() }, { type: 'refused' }]),
      openTransport: async () => transport,
    });
    expect(outcome).toBe('nothing-to-do');
    expect(calls).toEqual([]);
  });
});

describe('the guardian\'s timeouts follow the agent\'s', () => {
  it('per request: the agent\'s timeout within 3–30 s; after the pipe closed: max(10 s, 3 × that)', () => {
    expect(guardianTimeouts(undefined)).toEqual({ requestMs: 3_000, deadlineMs: 10_000 });
    expect(guardianTimeouts(1)).toEqual({ requestMs: 3_000, deadlineMs: 10_000 });
    expect(guardianTimeouts(5_000)).toEqual({ requestMs: 5_000, deadlineMs: 15_000 });
    expect(guardianTimeouts(60_000)).toEqual({ requestMs: 30_000, deadlineMs: 90_000 });
  });

  it('an iLO that takes 3.5 s per request, with the agent\'s --timeout 60s: the guardian waits for it and deletes the session', async () => {
    // 3.5 s per answer: longer than the guardian's 3 s floor, shorter than its share of the agent's 60 s.
    const { transport, calls } = scripted(async () => {
      await sleep(3_500);
      return json(200, {});
    });
    let deadline = 0;
    const outcome = await runGuardian({
      lines: linesOf([{ ...(hello() as HelloMessage), timeoutMs: 60_000 }, { type: 'session', path: `${SESSIONS}/a`, token: 't' }]),
      openTransport: async () => transport,
      onInputEnd: (ms) => (deadline = ms),
    });
    expect(outcome).toBe('cleaned');
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
    expect(deadline).toBe(90_000);
  }, 30_000);
});

describe('the pipe protocol', () => {
  it('carries the agent\'s request timeout in the hello', () => {
    const line = encodeMessage({ ...(hello() as HelloMessage), timeoutMs: 60_000 });
    expect(parseMessage(line)).toMatchObject({ type: 'hello', timeoutMs: 60_000 });
    expect(parseMessage(line.replace('60000', '-1'))).toBeUndefined();
    expect(parseMessage(encodeMessage(hello()))).not.toHaveProperty('timeoutMs');
  });

  it('refuses malformed lines without echoing them', () => {
    for (const line of ['', 'not json', '[]', '{"type":"session","path":1,"token":"t"}', '{"type":"hello","version":2}', '{"type":"login","user":null,"at":"x"}']) {
      expect(parseMessage(line)).toBeUndefined();
    }
    expect(parseMessage(encodeMessage({ type: 'released' }))).toEqual({ type: 'released' });
  });

  it('in-band, the hello names the library file: the guardian never repeats the search (which could load another file)', () => {
    const line = (library: unknown) => JSON.stringify({ ...hello('chif'), transport: { kind: 'chif', library } });
    expect(parseMessage(line('/usr/lib64/ilorest_chif.so'))).toMatchObject({ transport: { kind: 'chif', library: '/usr/lib64/ilorest_chif.so' } });
    for (const library of [null, '', undefined, 7]) expect(parseMessage(line(library))).toBeUndefined();
  });

  it('keeps the agent\'s node flags, except those that would run something else', () => {
    expect(guardianExecArgv(['--enable-source-maps', '--inspect=9229', '-e', 'code', '--max-old-space-size=64', '--require', 'x.cjs'])).toEqual([
      '--enable-source-maps',
      '--max-old-space-size=64',
      '--require',
      'x.cjs',
    ]);
  });
});

describe('the guardian\'s own HTTPS: the agent\'s TLS trust, checked as the agent checks it', () => {
  const servers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of servers.splice(0)) await close();
  });
  /** An "iLO" that deletes whatever it is asked to, and records what reached it. */
  async function ilo(certificate: { cert: string; key: string }) {
    const seen: string[] = [];
    const server = createHttpsServer(certificate, (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(() => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }));
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }
  /** The real guardian (its own transport, from the hello) after an agent that died with one session. */
  const guard = (transport: { url: string; ca: string | null; insecure: boolean }) =>
    runGuardian({
      lines: linesOf([
        { type: 'hello', version: 1, agentPid: 1, logLevel: 'silent', timeoutMs: 3000, transport: { kind: 'https', ...transport }, credentials: null },
        { type: 'session', path: `${SESSIONS}/a`, token: 't' },
      ]),
    });

  it('a certificate from the trusted CA for another name: nothing is sent', async () => {
    const other = makeSelfSignedCertificate(['ilo.example'], { onlyHosts: true });
    const server = await ilo(other);
    expect(await guard({ url: server.url, ca: other.cert, insecure: false })).toBe('failed');
    expect(server.seen).toEqual([]);
  }, 60_000);

  it('a certificate of another CA: nothing is sent; with the agent\'s CA, or insecure as the agent was, the DELETE goes', async () => {
    const own = makeSelfSignedCertificate();
    const server = await ilo(own);
    expect(await guard({ url: server.url, ca: makeSelfSignedCertificate().cert, insecure: false })).toBe('failed');
    expect(server.seen).toEqual([]);
    expect(await guard({ url: server.url, ca: own.cert, insecure: false })).toBe('cleaned');
    const deletes = () => server.seen.filter((r) => r.startsWith('DELETE'));
    expect(deletes()).toEqual([`DELETE ${SESSIONS}/a`]);
    expect(await guard({ url: server.url, ca: null, insecure: true })).toBe('cleaned');
    expect(deletes()).toHaveLength(2);
  }, 60_000);
});
