// Fault injection and the control view, from the library handle and over HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { until } from '../helpers/wait.js';

const open: Array<{ sim: Simulator; close(): void }> = [];
async function sim(options: SimulatorOptions = {}) {
  const s = await startSimulator({ loginFailureDelayMs: 0, ...options });
  const c = client(s);
  open.push({ sim: s, close: c.close });
  return { s, c, token: (await c.login()).token };
}
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.close();
    await o.sim.close();
  }
});

/** Whether `promise` has settled, readable at any moment. */
const tracked = <T>(promise: Promise<T>) => {
  const t = { done: false, promise: promise.finally(() => (t.done = true)) };
  return t;
};

// Latency is shown by what it holds back, not by a stopwatch (no timing assertions in npm test):
// a 60 s latency holds a request through a later request's whole round trip; none does not.
describe('latency', () => {
  const HELD = 60_000;

  it('adds latency to every request, and login latency to logins only', async () => {
    const { s, c, token } = await sim();
    const control = { headers: { 'X-Sim-Control': s.controlToken } };
    s.faults.setLatency({ loginMs: HELD });
    const before = s.state().counters.logins;
    const login = tracked(c.login().catch((e: Error) => e));
    await until(() => s.state().counters.logins === before + 1, 'the login arrived');
    // a GET is not held by the login latency: its whole round trip fits while the login waits
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    expect(login.done).toBe(false);

    s.faults.setLatency({ requestMs: HELD, loginMs: 0 });
    const requests = s.state().counters.requests;
    const get = tracked(c.call('GET', '/redfish/v1/Systems/1', { token }).catch((e: Error) => e));
    await until(() => s.state().counters.requests === requests + 1, 'the GET arrived');
    expect((await c.call('GET', '/__sim/state', control)).status).toBe(200); // the control view has no latency
    expect(get.done).toBe(false);
    expect(s.state().latency).toEqual({ requestMs: HELD, loginMs: 0 });
    await s.close(); // ends the held ones
    await Promise.all([login.promise, get.promise]);
  });

  it('takes latency from options', async () => {
    const s = await startSimulator({ loginFailureDelayMs: 0, latencyMs: HELD });
    const c = client(s);
    open.push({ sim: s, close: c.close });
    expect(s.state().latency).toEqual({ requestMs: HELD, loginMs: 0 });
    const requests = s.state().counters.requests;
    const get = tracked(c.call('GET', '/redfish/v1').catch((e: Error) => e)); // the service root needs no session
    await until(() => s.state().counters.requests === requests + 1, 'the GET arrived');
    expect((await c.call('GET', '/__sim/state', { headers: { 'X-Sim-Control': s.controlToken } })).status).toBe(200);
    expect(get.done).toBe(false);
    await s.close();
    await get.promise;
  });
});

describe('faults', () => {
  it('answers N requests with 503 ServiceTemporarilyUnavailable, then recovers', async () => {
    const { s, c, token } = await sim();
    s.faults.inject({ type: 'status503', times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await c.call('GET', '/redfish/v1/Systems/1', { token });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json.error['@Message.ExtendedInfo']).toEqual([{ MessageId: 'Base.1.18.ServiceTemporarilyUnavailable', MessageArgs: ['1'] }]);
    }
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
  });

  it('a 503 on login creates no session', async () => {
    const { s, c } = await sim();
    s.faults.inject({ type: 'status503', on: 'login' });
    expect((await c.login()).res.status).toBe(503);
    expect(s.sessions()).toHaveLength(1); // only the helper's own login
  });

  it('status401 and status404 answer without doing the request: the session lives on', async () => {
    const { s, c, token } = await sim();
    const [session] = s.sessions();
    const path = `/redfish/v1/SessionService/Sessions/${session?.id}`;
    s.faults.inject({ type: 'status401', on: 'logout' });
    s.faults.inject({ type: 'status404', on: 'logout' });
    const first = await c.call('DELETE', path, { token });
    expect([first.status, messageIds(first.json)]).toEqual([401, ['Base.1.18.NoValidSession']]);
    expect((await c.call('DELETE', path, { basic: ['Administrator', 'password'] })).status).toBe(404);
    expect(s.sessions()).toHaveLength(1);
    s.faults.inject({ type: 'status401', on: 'login' });
    const refused = await c.login();
    expect([refused.res.status, messageIds(refused.res.json)]).toEqual([401, ['iLO.2.30.UnauthorizedLoginAttempt']]);
    expect(s.sessions()).toHaveLength(1);
  });

  it('rewrite-location answers the login with the Location given, {path} standing for the real one', async () => {
    const { s, c } = await sim();
    s.faults.inject({ type: 'rewrite-location', on: 'login', location: '//evil.example{path}/..' });
    const { location } = await c.login();
    const newest = s.sessions().at(-1);
    expect(location).toBe(`//evil.example/redfish/v1/SessionService/Sessions/${newest?.id}/..`);
  });

  it('drops the connection mid-response after doing the request', async () => {
    const { s, c } = await sim();
    s.faults.inject({ type: 'drop', on: 'login' });
    await expect(c.login()).rejects.toThrow();
    // the session was made before the answer was lost: the leak a client must survive
    expect(s.sessions()).toHaveLength(2);
  });

  it('truncates a body: full Content-Length, half the bytes, connection closed', async () => {
    const { s, c, token } = await sim();
    s.faults.inject({ type: 'truncate', method: 'GET', path: '/redfish/v1/Systems/1' });
    await expect(c.call('GET', '/redfish/v1/Systems/1', { token })).rejects.toThrow(/aborted|incomplete|socket hang up|ECONNRESET/);
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
  });

  it('hangs a request until released (client times out meanwhile)', async () => {
    const { s, c, token } = await sim();
    s.faults.inject({ type: 'hang', path: '/redfish/v1/Chassis/*' });
    await expect(c.call('GET', '/redfish/v1/Chassis/1', { token, timeoutMs: 300 })).rejects.toThrow('timeout');
    expect(s.faults.held).toBe(1);
    const pending = c.call('GET', '/redfish/v1/Chassis', { token });
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200); // rule used up
    expect((await pending).status).toBe(200);
    expect(s.faults.release()).toBe(1);
  });

  it('with stage=after, a held login has already created its session', async () => {
    const { s, c } = await sim();
    s.faults.inject({ type: 'hang', on: 'login', stage: 'after' });
    const login = c.login();
    await until(() => s.faults.held === 1, 'the login is held');
    expect(s.sessions()).toHaveLength(2);
    expect(s.faults.release()).toBe(1);
    expect((await login).res.status).toBe(201);
  });

  it('holds a logout so that a session stays until released', async () => {
    const { s, c } = await sim();
    const { token, location } = await c.login();
    s.faults.inject({ type: 'hang', on: 'logout' });
    const logout = c.call('DELETE', new URL(location).pathname, { token });
    await until(() => s.faults.held === 1, 'the DELETE is held');
    expect(s.sessions()).toHaveLength(2);
    s.faults.release();
    expect((await logout).status).toBe(200);
    expect(s.sessions()).toHaveLength(1);
  });

  it('repeats a rule every time with times=0 and forgets rules on clear()', async () => {
    const { s, c, token } = await sim();
    s.faults.inject({ type: 'status503', times: 0, method: 'PATCH' });
    for (let i = 0; i < 3; i++) expect((await c.call('PATCH', '/redfish/v1/Systems/1', { token, body: { AssetTag: 'a' } })).status).toBe(503);
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    s.faults.clear();
    expect((await c.call('PATCH', '/redfish/v1/Systems/1', { token, body: { AssetTag: 'a' } })).status).toBe(200);
  });

  it('expires every session now', async () => {
    const { s, c, token } = await sim();
    await c.login();
    expect(s.expireSessions()).toBe(2);
    const res = await c.call('GET', '/redfish/v1/Systems/1', { token });
    expect(res.status).toBe(401);
    expect(messageIds(res.json)).toEqual(['Base.1.18.NoValidSession']);
  });

  it('refuses malformed rules with a clear message', async () => {
    const { s } = await sim();
    expect(() => s.faults.inject({ type: 'explode' as 'drop' })).toThrow(/fault type must be one of/);
    expect(() => s.faults.inject({ type: 'drop', stage: 'after' })).toThrow(/hang only/);
    expect(() => s.faults.inject({ type: 'drop', times: -1 })).toThrow(/times/);
    expect(() => s.faults.inject({ type: 'rewrite-location' })).toThrow(/location/);
    expect(() => s.faults.inject({ type: 'drop', location: '/x' })).toThrow(/location/);
  });

  it('closes promptly with requests held', async () => {
    const { s, c, token } = await sim();
    s.faults.inject({ type: 'hang' });
    const pending = c.call('GET', '/redfish/v1/Systems/1', { token }).catch((e: Error) => e);
    await until(() => s.faults.held === 1, 'the GET is held');
    // close() itself ends held requests (were it to wait for them, the test's timeout would end it)
    await s.close();
    expect(await pending).toBeInstanceOf(Error);
    expect(s.faults.held).toBe(0);
  });
});

describe('the control view over HTTP', () => {
  it('shows the session table with X-Sim-Control, and does not exist without it', async () => {
    const { s, c, token } = await sim();
    const headers = { 'X-Sim-Control': s.controlToken };
    const state = await c.call('GET', '/__sim/state', { headers });
    expect(state.status).toBe(200);
    expect(state.json.sessions).toEqual([
      expect.objectContaining({ user: 'Administrator', tag: 'REST', transport: 'https', transient: false, loginTime: expect.any(String), accessTime: expect.any(String) }),
    ]);
    expect(state.text).not.toContain(token);
    // without the token: an ordinary unauthenticated request (401), or an unknown URI (404)
    expect((await c.call('GET', '/__sim/state')).status).toBe(401);
    expect((await c.call('GET', '/__sim/state', { headers: { 'X-Sim-Control': 'x'.repeat(48) } })).status).toBe(401);
    expect((await c.call('GET', '/__sim/state', { token })).status).toBe(404);
  });

  it('injects faults, sets latency, expires and releases at run time', async () => {
    const { s, c, token } = await sim();
    const headers = { 'X-Sim-Control': s.controlToken };
    const injected = await c.call('POST', '/__sim/faults', { headers, body: [{ type: 'status503', times: 1 }, { type: 'hang', on: 'logout' }] });
    expect(injected.status).toBe(200);
    expect(injected.json.faults).toHaveLength(2);
    expect((await c.call('GET', '/redfish/v1/Systems/1', { token })).status).toBe(503);
    const logout = c.call('DELETE', `/redfish/v1/SessionService/Sessions/${s.sessions()[0]?.id}`, { token });
    await until(() => s.faults.held === 1, 'the DELETE is held');
    expect((await c.call('POST', '/__sim/release', { headers })).json).toEqual({ released: 1 });
    expect((await logout).status).toBe(200);

    expect((await c.call('PUT', '/__sim/latency', { headers, body: { requestMs: 120 } })).json).toEqual({ requestMs: 120, loginMs: 0 });
    expect(s.state().latency).toEqual({ requestMs: 120, loginMs: 0 });
    await c.login();
    expect((await c.call('POST', '/__sim/expire', { headers })).json).toEqual({ expired: 1 });
    expect(s.sessions()).toHaveLength(0);

    const bad = await c.call('POST', '/__sim/faults', { headers, body: { type: 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/fault type/);
    expect((await c.call('DELETE', '/__sim/faults', { headers })).json).toEqual({ faults: [] });
  });
});
