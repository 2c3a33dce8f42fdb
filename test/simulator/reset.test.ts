// An iLO reset: Manager.Reset (or the control view) ends every session and takes the service away
// for resetSeconds (connections refused), then it serves again with an empty table.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { until } from '../helpers/wait.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** Whether a TCP connect to the simulator is accepted ('open') or refused. */
function tcp(s: Simulator): Promise<'open' | 'refused'> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? resolve('refused') : reject(error)));
  });
}

async function untilState(s: Simulator, wanted: 'open' | 'refused', what: string): Promise<void> {
  let last: string | undefined;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    last = await tcp(s);
    if (last === wanted) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: still ${last}`);
}

describe('iLO reset', () => {
  it('Manager.Reset answers Success, ends every session, refuses connections for resetSeconds, then serves an empty table', async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0, resetSeconds: 4 });
    const c = client(sim);
    try {
      const a = await c.login();
      await c.login();
      expect(sim.sessions()).toHaveLength(2);
      const res = await c.call('POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', { token: a.token, body: { ResetType: 'GracefulRestart' } });
      expect(res.status).toBe(200);
      expect(messageIds(res.json)).toEqual(['Base.1.18.Success']);
      await until(() => sim?.resetting === true, 'the reset to start');
      expect(sim.sessions()).toHaveLength(0);
      await untilState(sim, 'refused', 'connections during the reset');
      await until(() => sim?.resetting === false, 'the reset to end', 20_000);
      await untilState(sim, 'open', 'connections after the reset');
      c.agent.destroy();
      const fresh = client(sim);
      try {
        expect((await fresh.call('GET', '/redfish/v1/Systems/1', { token: a.token })).status).toBe(401);
        const b = await fresh.login();
        expect(b.res.status).toBe(201);
        expect(sim.sessions()).toHaveLength(1);
        await fresh.call('DELETE', new URL(b.location).pathname, { token: b.token });
      } finally {
        fresh.close();
      }
    } finally {
      c.close();
    }
  });

  it('the control view resets with its own duration; a bad one is refused', async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0 });
    const c = client(sim);
    try {
      await c.login();
      const headers = { 'X-Sim-Control': sim.controlToken };
      expect((await c.call('POST', '/__sim/reset', { headers, body: { seconds: -1 } })).status).toBe(400);
      expect(sim.sessions()).toHaveLength(1);
      expect((await c.call('POST', '/__sim/reset', { headers, body: { seconds: 3 } })).status).toBe(200);
      await until(() => sim?.resetting === true, 'the reset to start');
      expect(sim.sessions()).toHaveLength(0);
      await untilState(sim, 'refused', 'connections during the reset');
      await until(() => sim?.resetting === false, 'the reset to end', 20_000);
      await untilState(sim, 'open', 'connections after the reset');
    } finally {
      c.close();
    }
  });

  it('resetSeconds 0 (the library default): sessions end, the service stays', async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0 });
    const c = client(sim);
    try {
      const a = await c.login();
      sim.resetIlo();
      await until(() => sim?.sessions().length === 0, 'the sessions to end');
      expect(sim.resetting).toBe(false);
      expect((await c.call('GET', '/redfish/v1/Systems/1', { token: a.token })).status).toBe(401);
    } finally {
      c.close();
    }
  });
});
