// The agent's server in process, over a stand-in for the iLO client: what a client may ask and
// what it gets back (never a token or a cookie), the bounds on concurrency and queue, the end of a
// half-closed connection, and what close leaves behind (no socket file, no request cut off).
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgentServer, type AgentServer } from '../../src/agent/index.js';
import type { IloClient } from '../../src/client/index.js';
import { MAX_FRAME } from '../../src/agent/protocol.js';
import { InvalidInputError } from '../../src/errors.js';
import { rejectionOf, until } from '../helpers/wait.js';

interface Call {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  release: () => void;
}

/** Records each request; answers it when `release` is called (at once when `hold` is false). */
function fakeClient(options: { hold?: boolean; fail?: unknown } = {}) {
  const calls: Call[] = [];
  let active = 0;
  let maxActive = 0;
  const client = {
    session: { path: '/redfish/v1/SessionService/Sessions/7', id: '7' },
    transportDescription: 'https https://10.0.0.9:443',
    target: { url: 'https://10.0.0.9:443', username: 'Administrator' },
    async request(method: string, path: string, init: { headers: Record<string, string>; body?: Buffer }) {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((release) => {
        calls.push({ method, path, headers: init.headers, body: init.body, release });
        if (!options.hold) release();
      });
      active--;
      if (options.fail) throw options.fail;
      return { status: 201, headers: { 'x-spy': 'kept', 'x-auth-token': 'secret-token', 'set-cookie': 'sessionKey=secret' }, body: Buffer.from(`answer to ${path}`) };
    },
  };
  const releaseAll = () => {
    options.hold = false;
    for (const call of calls) call.release();
  };
  return { client: client as unknown as IloClient, calls, maxActive: () => maxActive, releaseAll };
}

/** A raw connection that collects the agent's answer lines, and whether the agent ended it. */
async function rawConnection(socketPath: string) {
  const socket: Socket = connect(socketPath);
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  let ended = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    buffered += d;
    let i;
    while ((i = buffered.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffered.slice(0, i)) as Record<string, unknown>);
      buffered = buffered.slice(i + 1);
    }
  });
  socket.on('end', () => {
    ended = true;
  });
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  return {
    socket,
    lines,
    ended: () => ended,
    send: (frame: unknown) => socket.write(`${typeof frame === 'string' ? frame : JSON.stringify(frame)}\n`),
  };
}

const linux = process.platform === 'linux';
let dir: string;
let n = 0;
let server: AgentServer | undefined;
const connections: Socket[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-server-rules-'));
});
afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy();
  await server?.close();
  server = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(fake: ReturnType<typeof fakeClient>, extra: { maxInFlight?: number; maxQueue?: number; logger?: unknown } = {}) {
  const socketPath = join(dir, `agent${++n}.sock`);
  server = await startAgentServer({ client: fake.client, socketPath, ...(extra as object) });
  const connection = await rawConnection(socketPath);
  connections.push(connection.socket);
  return { socketPath, connection };
}

describe.skipIf(!linux)('the agent server', () => {
  it('hello: which session, transport, iLO and user (no secret)', async () => {
    const { connection } = await start(fakeClient());
    connection.send({ id: 3, op: 'hello' });
    await until(() => connection.lines.length === 1, 'the hello');
    expect(connection.lines[0]).toEqual({
      id: 3,
      hello: { sessionPath: '/redfish/v1/SessionService/Sessions/7', sessionId: '7', transport: 'https https://10.0.0.9:443', url: 'https://10.0.0.9:443', username: 'Administrator', version: 1 },
    });
  });

  it('a request: method, path, harmless headers and body reach the iLO; status, harmless headers and body come back', async () => {
    const fake = fakeClient();
    const { connection } = await start(fake);
    connection.send({
      id: 5,
      op: 'request',
      method: 'PATCH',
      path: '/redfish/v1/Systems/1',
      headers: { 'X-Probe': 'kept', 'X-AUTH-Token': 'forged', Authorization: 'Basic x', COOKIE: 'a=b', 'Set-Cookie': 'c=d', 'X-Number': 5 },
      body: Buffer.from('{"a":1}').toString('base64'),
    });
    connection.send({ id: 6, op: 'request', method: 'GET', path: '/redfish/v1/' });
    await until(() => connection.lines.length === 2, 'both answers');
    expect(fake.calls.map((c) => [c.method, c.path, c.headers, c.body?.toString()])).toEqual([
      ['PATCH', '/redfish/v1/Systems/1', { 'X-Probe': 'kept' }, '{"a":1}'],
      ['GET', '/redfish/v1/', {}, undefined],
    ]);
    expect(connection.lines[0]).toEqual({ id: 5, status: 201, headers: { 'x-spy': 'kept' }, body: Buffer.from('answer to /redfish/v1/Systems/1').toString('base64') });
    expect(server?.served).toBe(2);
  });

  it('answers what it cannot serve with E_INPUT and the request\'s id (or -1), and keeps serving', async () => {
    const fake = fakeClient();
    const { connection } = await start(fake);
    const bad = [
      { id: 1, op: 'other', method: 'GET', path: '/' },
      { id: 2, method: 'GET', path: '/' },
      { id: 3, op: 'request', path: '/' },
      { id: 4, op: 'request', method: 'GET', path: 5 },
      { id: 'x', op: 'request', method: 'GET' },
      null,
    ];
    for (const frame of bad) connection.send(frame);
    connection.send('not json');
    // blank lines are no requests: no answer for them
    connection.send('');
    connection.send('   ');
    connection.send({ id: 9, op: 'request', method: 'GET', path: '/ok' });
    await until(() => connection.lines.length === 8, 'eight answers');
    const error = { code: 'E_INPUT', message: 'a request needs op "request", a method and a path' };
    // answers come as they are ready, not in order
    expect(connection.lines).toEqual(
      expect.arrayContaining([
        ...[1, 2, 3, 4, -1, -1].map((id) => ({ id, error })),
        { id: -1, error: { code: 'E_INPUT', message: 'a line that is not JSON' } },
        expect.objectContaining({ id: 9, status: 201 }),
      ]),
    );
    expect(fake.calls.map((c) => c.path)).toEqual(['/ok']);
    expect(connection.lines.filter((l) => l.id === -1)).toHaveLength(3);
    expect(server?.served).toBe(8);
  });

  it('an error of the client keeps its code; anything else is E_INTERNAL, and logged', async () => {
    const logged: unknown[] = [];
    const logger = { info: () => undefined, error: (obj: unknown, msg: string) => logged.push([obj, msg]) };
    let fake = fakeClient({ fail: new InvalidInputError('no such thing') });
    let { connection } = await start(fake, { logger });
    connection.send({ id: 1, op: 'request', method: 'GET', path: '/' });
    await until(() => connection.lines.length === 1, 'the answer');
    expect(connection.lines[0]).toEqual({ id: 1, error: { code: 'E_INPUT', message: 'no such thing' } });
    expect(logged).toEqual([]);
    await server?.close();

    const bug = new TypeError('a bug');
    fake = fakeClient({ fail: bug });
    ({ connection } = await start(fake, { logger }));
    connection.send({ id: 2, op: 'request', method: 'GET', path: '/' });
    await until(() => connection.lines.length === 1, 'the answer');
    expect(connection.lines[0]).toEqual({ id: 2, error: { code: 'E_INTERNAL', message: 'a bug' } });
    expect(logged).toEqual([[{ err: bug }, 'agent request failed']]);
  });

  it('without a logger, an unexpected error is still answered', async () => {
    const { connection } = await start(fakeClient({ fail: new TypeError('a bug') }));
    connection.send({ id: 2, op: 'request', method: 'GET', path: '/' });
    await until(() => connection.lines.length === 1, 'the answer');
    expect(connection.lines[0]).toEqual({ id: 2, error: { code: 'E_INTERNAL', message: 'a bug' } });
  });

  it('the socket file is owner-only (0600) once listening, and the process mask is as before', async () => {
    const mask = process.umask();
    const { socketPath } = await start(fakeClient());
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(process.umask()).toBe(mask);
  });

  it('a path too long for a Unix socket: refused before it listens (not bound at a name cut short), nothing left behind', async () => {
    const before = readdirSync(dir);
    const socketPath = join(dir, `${'x'.repeat(120)}.sock`);
    const error = await rejectionOf(startAgentServer({ client: fakeClient().client, socketPath }));
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toMatch(/is too long for a Unix socket/);
    expect(readdirSync(dir)).toEqual(before);
  });

  it('at most maxInFlight requests reach the iLO at once; the rest wait their turn', async () => {
    const fake = fakeClient({ hold: true });
    const { connection } = await start(fake, { maxInFlight: 2 });
    for (let id = 1; id <= 5; id++) connection.send({ id, op: 'request', method: 'GET', path: `/${id}` });
    await until(() => fake.calls.length === 2, 'two requests at the iLO');
    fake.calls[0]?.release();
    await until(() => fake.calls.length === 3, 'a third once one is done');
    for (let i = 0; i < 5; i++) {
      await until(() => fake.calls.length > i, `request ${i + 1} at the iLO`);
      fake.calls[i]?.release();
    }
    await until(() => connection.lines.length === 5, 'five answers');
    expect(fake.maxActive()).toBe(2);
    expect(connection.lines.map((l) => l.id).sort()).toEqual([1, 2, 3, 4, 5]);
    // every slot was given back: two more run at once again
    for (let id = 6; id <= 7; id++) connection.send({ id, op: 'request', method: 'GET', path: `/${id}` });
    await until(() => fake.calls.length === 7, 'two more at once');
    for (const call of fake.calls.slice(5)) call.release();
    await until(() => connection.lines.length === 7, 'seven answers');
  });

  it('past maxQueue waiting, a request is refused at once (E_CONNECT); the waiting ones are served', async () => {
    const fake = fakeClient({ hold: true });
    const { connection } = await start(fake, { maxInFlight: 1, maxQueue: 1 });
    connection.send({ id: 1, op: 'request', method: 'GET', path: '/1' });
    await until(() => fake.calls.length === 1, 'the first at the iLO');
    connection.send({ id: 2, op: 'request', method: 'GET', path: '/2' });
    connection.send({ id: 3, op: 'request', method: 'GET', path: '/3' });
    await until(() => connection.lines.length === 1, 'the refusal');
    expect(connection.lines[0]).toEqual({ id: 3, error: { code: 'E_CONNECT', message: "the agent's queue is full (1 waiting); try again" } });
    fake.calls[0]?.release();
    await until(() => fake.calls.length === 2, 'the waiting one at the iLO');
    fake.calls[1]?.release();
    await until(() => connection.lines.length === 3, 'all answered');
    expect(fake.calls.map((c) => c.path)).toEqual(['/1', '/2']);
  });

  it('by default 4 requests go to the iLO at once, and 1000 wait beyond them', async () => {
    const fake = fakeClient({ hold: true });
    const { connection } = await start(fake);
    connection.socket.write(Array.from({ length: 1005 }, (_, i) => `${JSON.stringify({ id: i + 1, op: 'request', method: 'GET', path: `/${i + 1}` })}\n`).join(''));
    await until(() => connection.lines.length === 1, 'the refusal');
    expect(connection.lines[0]).toEqual({ id: 1005, error: { code: 'E_CONNECT', message: "the agent's queue is full (1000 waiting); try again" } });
    expect(fake.calls).toHaveLength(4);
    fake.releaseAll();
    await until(() => connection.lines.length === 1005, 'all answered');
    expect(fake.maxActive()).toBe(4);
  });

  it('a half-closed connection gets every answer, then its end; nothing more is read from it', async () => {
    const fake = fakeClient({ hold: true });
    const { connection } = await start(fake);
    connection.send({ id: 1, op: 'request', method: 'GET', path: '/1' });
    connection.send({ id: 2, op: 'request', method: 'GET', path: '/2' });
    await until(() => fake.calls.length === 2, 'both at the iLO');
    connection.socket.end();
    fake.calls[0]?.release();
    await until(() => connection.lines.length === 1, 'the first answer');
    expect(connection.ended()).toBe(false); // one answer is still due
    fake.calls[1]?.release();
    await until(() => connection.ended(), 'the end of the connection');
    expect(connection.lines.map((l) => l.id)).toEqual([1, 2]);
  });

  it('a half-closed connection with nothing due is ended at once', async () => {
    const { connection } = await start(fakeClient());
    connection.socket.end();
    await until(() => connection.ended(), 'the end of the connection');
    expect(connection.lines).toEqual([]);
  });

  it('a frame longer than the cap: answered with E_INPUT, the requests before it still answered, then the connection is closed', async () => {
    const fake = fakeClient();
    const { connection } = await start(fake);
    let closed = false;
    connection.socket.on('close', () => (closed = true));
    connection.send({ id: 1, op: 'request', method: 'GET', path: '/before' });
    connection.socket.write(Buffer.alloc(MAX_FRAME + 1, 0x61));
    await until(() => closed, 'the connection closed');
    expect(connection.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 1, status: 201 }),
        { id: -1, error: { code: 'E_INPUT', message: `a frame longer than ${MAX_FRAME} bytes: the connection is closed` } },
      ]),
    );
    expect(connection.lines).toHaveLength(2);
    expect(fake.calls.map((c) => c.path)).toEqual(['/before']);
  });

  it('close: lets requests in flight finish and answers them, ends connections, removes the socket file; twice is once', async () => {
    const fake = fakeClient({ hold: true });
    const { socketPath, connection } = await start(fake);
    expect(existsSync(socketPath)).toBe(true);
    connection.send({ id: 1, op: 'request', method: 'GET', path: '/1' });
    await until(() => fake.calls.length === 1, 'the request at the iLO');
    const current = server as AgentServer;
    let closed = false;
    const closing = current.close().then(() => {
      closed = true;
    });
    expect(current.close()).toBe(current.close());
    // no new connections from the start (the listener is gone), but close waits for the request in flight
    await until(() => !existsSync(socketPath), 'the listener closed');
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    fake.calls[0]?.release();
    await closing;
    expect(connection.lines).toEqual([expect.objectContaining({ id: 1, status: 201 })]);
    await until(() => connection.ended(), 'the connection ended');
    expect(existsSync(socketPath)).toBe(false);
    server = undefined;
  });

  it('close: a connection whose client never ends its side is cut, so that close finishes', async () => {
    const socketPath = join(dir, `agent${++n}.sock`);
    const current = await startAgentServer({ client: fakeClient().client, socketPath });
    const stubborn = connect({ path: socketPath, allowHalfOpen: true });
    connections.push(stubborn);
    let gotEnd = false;
    let closed = false;
    stubborn.on('end', () => (gotEnd = true));
    stubborn.on('close', () => (closed = true));
    stubborn.on('error', () => undefined);
    await new Promise((r) => stubborn.once('connect', r));
    // close waits for every connection to be gone: it returns only once this one is cut
    await current.close();
    expect(gotEnd).toBe(true);
    // the cut side: what the client still writes fails, and its socket closes
    stubborn.write('{}\n');
    await until(() => closed, 'the client sees the connection cut');
  });

  it('a stale socket of ours is replaced; a path it may not use is refused before it listens', async () => {
    const socketPath = join(dir, `agent${++n}.sock`);
    // a socket file nobody listens on: a second name of a closed listener's socket
    const first = await startAgentServer({ client: fakeClient().client, socketPath: `${socketPath}.tmp` });
    (await import('node:fs')).linkSync(`${socketPath}.tmp`, socketPath);
    await first.close();
    server = await startAgentServer({ client: fakeClient().client, socketPath });
    const connection = await rawConnection(socketPath);
    connections.push(connection.socket);
    connection.send({ id: 1, op: 'hello' });
    await until(() => connection.lines.length === 1, 'the hello');
    await expect(startAgentServer({ client: fakeClient().client, socketPath })).rejects.toThrow(/already listening/);
  });
});
