// The agent's socket, in process: what crosses it (never a token or a cookie, either way) and its
// mode from the first moment (owner only, whatever the umask of whoever started it).
import fs, { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, request, Agent } from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgentServer, type AgentServer } from '../../src/agent/index.js';
import { openSession, type IloClient } from '../../src/client/index.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { makeSelfSignedCertificate } from '../../src/simulator/certificate.js';

const linux = process.platform === 'linux';
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-server-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let sim: Simulator | undefined;
let client: IloClient | undefined;
let server: AgentServer | undefined;
let spy: Awaited<ReturnType<typeof startHeaderSpy>> | undefined;
afterEach(async () => {
  await server?.close();
  await client?.close();
  await spy?.close();
  await sim?.close();
  server = client = spy = sim = undefined;
});

/**
 * An HTTPS relay in front of the simulator: records the headers of each request that reaches
 * "the iLO", and adds to every answer what a client must never get through the socket (the
 * session's X-Auth-Token and a Set-Cookie), and one harmless header that must get through.
 */
async function startHeaderSpy(upstream: { url: string; ca: string }) {
  const { cert, key } = makeSelfSignedCertificate(['127.0.0.1']);
  const seen: Array<{ method: string; path: string; headers: IncomingHttpHeaders }> = [];
  const agent = new Agent({ ca: upstream.ca, keepAlive: true });
  const relay = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers } });
      const headers: IncomingHttpHeaders = { ...req.headers };
      delete headers.host;
      const up = request(new URL(req.url ?? '/', upstream.url), { method: req.method, headers, agent }, (upRes) => {
        const token = String(upRes.headers['x-auth-token'] ?? req.headers['x-auth-token'] ?? '');
        res.writeHead(upRes.statusCode ?? 502, {
          ...upRes.headers,
          'x-spy': 'relayed',
          'x-auth-token': token || 'no-token',
          'set-cookie': [`sessionKey=${token || 'none'}; Path=/; Secure; HttpOnly`],
        });
        upRes.pipe(res);
      });
      up.on('error', (error) => res.destroy(error));
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    ca: cert,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        relay.closeAllConnections();
        relay.close(() => resolve());
      }),
  };
}

/** One request frame over a raw socket, as any local program may send it; answers the response frame. */
async function rawRequest(socketPath: string, frame: Record<string, unknown>): Promise<{ status?: number; headers?: Record<string, string>; body?: string }> {
  const socket = connect(socketPath);
  let buffered = '';
  socket.setEncoding('utf8');
  const line = new Promise<string>((resolve, reject) => {
    socket.on('data', (d: string) => {
      buffered += d;
      const i = buffered.indexOf('\n');
      if (i >= 0) resolve(buffered.slice(0, i));
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`the agent closed the connection: ${buffered}`)));
  });
  socket.write(`${JSON.stringify(frame)}\n`);
  try {
    return JSON.parse(await line) as { status?: number; headers?: Record<string, string>; body?: string };
  } finally {
    socket.destroy();
  }
}

describe.skipIf(!linux)('the agent socket', () => {
  it('tokens, credentials and cookies never cross it: not from a client to the iLO, not from the iLO to a client', async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0 });
    spy = await startHeaderSpy(sim);
    client = await openSession({ url: spy.url, ca: spy.ca, username: 'Administrator', password: 'password' });
    const socketPath = join(dir, `agent${++n}.sock`);
    server = await startAgentServer({ client, socketPath });
    const forged = 'f'.repeat(32);
    const answer = await rawRequest(socketPath, {
      id: 1,
      op: 'request',
      method: 'GET',
      path: '/redfish/v1/Systems/1',
      headers: { Authorization: 'Basic QWRtaW5pc3RyYXRvcjpwYXNzd29yZA==', Cookie: `sessionKey=${forged}`, 'X-Auth-Token': forged, 'x-auth-TOKEN': forged, 'X-Probe': 'kept' },
    });
    expect(answer.status).toBe(200);
    // iLO → client: the relay's harmless header crosses, the token and the cookie do not
    const names = Object.keys(answer.headers ?? {}).map((h) => h.toLowerCase());
    expect(names).toContain('x-spy');
    for (const name of ['x-auth-token', 'set-cookie', 'cookie', 'authorization']) expect(names).not.toContain(name);
    expect(JSON.stringify(answer)).not.toContain('sessionKey=');
    // client → iLO: the request went out with the agent's own session token and the client's harmless header only
    const sent = spy.seen.filter((r) => r.path === '/redfish/v1/Systems/1');
    expect(sent).toHaveLength(1);
    const headers = sent[0]?.headers ?? {};
    expect(headers['x-probe']).toBe('kept');
    expect(headers.authorization).toBeUndefined();
    expect(headers.cookie).toBeUndefined();
    expect(headers['x-auth-token']).toMatch(/^[0-9a-f]{32}$/);
    expect(headers['x-auth-token']).not.toBe(forged);
    expect(JSON.stringify(answer)).not.toContain(headers['x-auth-token'] as string);
    expect(sim.sessions()).toHaveLength(1);
  });

  it('is owner-only from the moment it is made, under a permissive umask (0), not only after a chmod', async () => {
    sim = await startSimulator({ loginFailureDelayMs: 0 });
    client = await openSession({ url: sim.url, ca: sim.ca, username: 'Administrator', password: 'password' });
    const socketPath = join(dir, `agent${++n}.sock`);
    // The mode the socket file has when the server first touches it after making it (its chmod):
    // a chmod alone leaves a window in which any local user may connect.
    let modeBeforeChmod: number | undefined;
    const realChmod = fs.chmodSync;
    fs.chmodSync = (path: fs.PathLike, mode: fs.Mode) => {
      if (String(path) === socketPath) modeBeforeChmod ??= statSync(socketPath).mode & 0o777;
      realChmod(path, mode);
    };
    syncBuiltinESMExports();
    const umask = process.umask(0);
    try {
      server = await startAgentServer({ client, socketPath });
    } finally {
      process.umask(umask);
      fs.chmodSync = realChmod;
      syncBuiltinESMExports();
    }
    expect(statSync(socketPath).isSocket()).toBe(true);
    expect(modeBeforeChmod ?? statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(process.umask()).toBe(umask); // restored
  });
});
