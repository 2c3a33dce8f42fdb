// The client of the agent's socket against a scripted agent: what it sends, how answers are matched
// to requests, and how every way a request can end (timeout, abort, close, a lost agent) is reported.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentConnection, openAgentClient } from '../../src/agent/index.js';
import { MAX_FRAME } from '../../src/agent/protocol.js';
import { rejectionOf, until } from '../helpers/wait.js';

interface Frame {
  id: number;
  op: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What the scripted agent does with a request frame: answer it (a line, or lines, written raw), or nothing. */
let onRequest: (frame: Frame, connection: Socket) => void;
let hello: Record<string, unknown>;
const received: Frame[] = [];
let ended = 0;

let dir: string;
let server: Server;
let socketPath: string;
const open: Socket[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-client-rules-'));
  socketPath = join(dir, 'agent.sock');
  server = createServer({ allowHalfOpen: true }, (connection) => {
    open.push(connection);
    let buffered = '';
    connection.on('data', (chunk) => {
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const frame = JSON.parse(buffered.slice(0, newline)) as Frame;
        buffered = buffered.slice(newline + 1);
        received.push(frame);
        if (frame.op === 'hello') connection.write(`${JSON.stringify({ id: frame.id, hello })}\n`);
        else onRequest(frame, connection);
      }
    });
    connection.on('end', () => {
      ended++;
      connection.end();
    });
    connection.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
afterEach(() => {
  for (const c of open.splice(0)) c.destroy();
  received.length = 0;
  ended = 0;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const answer = (connection: Socket, response: unknown) => connection.write(`${JSON.stringify(response)}\n`);
const defaultHello = { sessionPath: '/redfish/v1/SessionService/Sessions/3', sessionId: '3', transport: 'https https://10.0.0.9:8443', url: 'https://10.0.0.9:8443', username: 'admin', version: 1 };

describe('AgentConnection', () => {
  it('no agent at the path: E_CONNECT that says so and how to do without', async () => {
    const missing = join(dir, 'none.sock');
    const error = await rejectionOf(AgentConnection.open(missing));
    expect(error.code).toBe('E_CONNECT');
    expect(error.message).toBe(`no ilo-agent serve is listening at ${missing} (ENOENT); start one, or run without --agent / ILO_AGENT_SOCKET`);
  });

  it('greets the agent, then sends method, path, headers and body (base64); decodes the answer', async () => {
    hello = defaultHello;
    onRequest = (frame, c) => answer(c, { id: frame.id, status: 202, headers: { 'x-a': 'b' }, body: Buffer.from('réponse').toString('base64') });
    const connection = await AgentConnection.open(socketPath);
    try {
      expect(connection.hello).toEqual(defaultHello);
      const response = await connection.request({ method: 'POST', path: '/redfish/v1/x', headers: { 'X-H': 'v' }, body: Buffer.from('{"é":1}') });
      expect(response).toEqual({ status: 202, headers: { 'x-a': 'b' }, body: Buffer.from('réponse') });
      await connection.request({ method: 'GET', path: '/redfish/v1/' });
      expect(received).toEqual([
        { id: 1, op: 'hello' },
        { id: 2, op: 'request', method: 'POST', path: '/redfish/v1/x', headers: { 'X-H': 'v' }, body: Buffer.from('{"é":1}').toString('base64') },
        { id: 3, op: 'request', method: 'GET', path: '/redfish/v1/', headers: {} },
      ]);
    } finally {
      await connection.close();
    }
  });

  it('an answer without status, headers or body: 0, none, empty', async () => {
    hello = defaultHello;
    onRequest = (frame, c) => answer(c, { id: frame.id });
    const connection = await AgentConnection.open(socketPath);
    try {
      expect(await connection.request({ method: 'GET', path: '/' })).toEqual({ status: 0, headers: {}, body: Buffer.alloc(0) });
    } finally {
      await connection.close();
    }
  });

  it('answers are matched by id, in any order; lines that are not JSON or name no pending request are ignored', async () => {
    hello = defaultHello;
    const held: Frame[] = [];
    onRequest = (frame, c) => {
      held.push(frame);
      if (held.length < 2) return;
      c.write('not json\n');
      answer(c, { id: 999, status: 500 });
      for (const f of held.reverse()) answer(c, { id: f.id, status: 200, body: Buffer.from(f.path ?? '').toString('base64') });
    };
    const connection = await AgentConnection.open(socketPath);
    try {
      const [a, b] = await Promise.all([connection.request({ method: 'GET', path: '/a' }), connection.request({ method: 'GET', path: '/b' })]);
      expect([a.body.toString(), b.body.toString()]).toEqual(['/a', '/b']);
    } finally {
      await connection.close();
    }
  });

  it('no answer in time: E_TIMEOUT naming the limit; an abort: E_ABORTED, before or while waiting', async () => {
    hello = defaultHello;
    onRequest = () => undefined;
    const connection = await AgentConnection.open(socketPath, 50);
    try {
      const timeout = await rejectionOf(connection.request({ method: 'GET', path: '/' }));
      expect(timeout.code).toBe('E_TIMEOUT');
      expect(timeout.message).toBe('the agent did not answer within 0.05 s');
    } finally {
      await connection.close();
    }
    const slow = await AgentConnection.open(socketPath, 30_000);
    try {
      const aborted = new AbortController();
      aborted.abort();
      const sentBefore = received.length;
      expect(await rejectionOf(slow.request({ method: 'GET', path: '/', signal: aborted.signal }))).toMatchObject({ code: 'E_ABORTED', message: 'aborted' });
      expect(received).toHaveLength(sentBefore); // nothing sent
      const later = new AbortController();
      const pending = slow.request({ method: 'GET', path: '/', signal: later.signal });
      await until(() => received.length === sentBefore + 1, 'the request at the agent');
      later.abort();
      const error = await rejectionOf(pending);
      expect(error.code).toBe('E_ABORTED');
      expect(error.message).toBe('aborted');
    } finally {
      await slow.close();
    }
  });

  it('an agent that closes the connection: pending requests fail with E_CONNECT; after close: E_CLOSED, nothing sent', async () => {
    hello = defaultHello;
    onRequest = (_frame, c) => c.destroy();
    // a limit that no test waits for: the loss must be reported, not the timeout
    const connection = await AgentConnection.open(socketPath, 60_000);
    const error = await rejectionOf(connection.request({ method: 'GET', path: '/' }));
    expect(error.code).toBe('E_CONNECT');
    expect(error.message).toBe('the agent closed the connection');
    // a request after the loss fails at once the same way, not after the timeout as "did not answer"
    const after = await rejectionOf(connection.request({ method: 'GET', path: '/' }));
    expect(after.code).toBe('E_CONNECT');
    expect(after.message).toBe('the agent closed the connection');
    await connection.close(); // on a destroyed socket: resolves

    onRequest = (frame, c) => answer(c, { id: frame.id, status: 200 });
    const other = await AgentConnection.open(socketPath);
    await other.close();
    await until(() => ended === 1, 'the agent saw the end');
    const sentBefore = received.length;
    const closed = await rejectionOf(other.request({ method: 'GET', path: '/' }));
    expect(closed).toMatchObject({ code: 'E_CLOSED', message: 'the agent connection is closed' });
    expect(received).toHaveLength(sentBefore);
  });
});

describe('AgentConnection: an answer longer than the cap', () => {
  it('is not buffered without end: the connection is dropped and the request fails with E_CONNECT', async () => {
    hello = defaultHello;
    onRequest = (_frame, c) => c.write(Buffer.alloc(MAX_FRAME + 1, 0x61));
    const connection = await AgentConnection.open(socketPath);
    const error = await rejectionOf(connection.request({ method: 'GET', path: '/' }));
    expect(error.code).toBe('E_CONNECT');
    expect(error.message).toBe('the agent closed the connection');
    await connection.close();
  });
});

describe('openAgentClient', () => {
  it('a client named after the agent\'s session and transport, following links of the agent\'s iLO only', async () => {
    hello = defaultHello;
    const client = await openAgentClient(socketPath);
    try {
      expect(client.session).toEqual({ path: '/redfish/v1/SessionService/Sessions/3', id: '3' });
      expect(client.transportDescription).toBe(`agent ${socketPath} (https https://10.0.0.9:8443)`);
      expect(client.linkPath('https://10.0.0.9:8443/redfish/v1/Systems/1?x=1', 'page')).toBe('/redfish/v1/Systems/1?x=1');
      expect(() => client.linkPath('https://10.0.0.8:8443/redfish/v1/Systems/1', 'page')).toThrow(/not on this iLO \(https:\/\/10\.0\.0\.9:8443\)/);
    } finally {
      await client.close();
    }
  });

  it('an in-band agent, or one whose hello says little: no links to follow, unknown transport, no session named', async () => {
    hello = { transport: 'chif via /opt/x https https://10.0.0.9', version: 1 };
    let client = await openAgentClient(socketPath);
    try {
      expect(client.session).toEqual({ path: null, id: null });
      expect(() => client.linkPath('https://10.0.0.9/redfish/v1/', 'page')).toThrow(/not on this iLO \(in-band\)/);
    } finally {
      await client.close();
    }
    hello = { version: 1 };
    client = await openAgentClient(socketPath);
    try {
      expect(client.transportDescription).toBe(`agent ${socketPath} (unknown)`);
      expect(() => client.linkPath('https://10.0.0.9/redfish/v1/', 'page')).toThrow(/in-band/);
    } finally {
      await client.close();
    }
  });

  it('links are followed only when the transport is exactly `https <origin>`; a hello without its fields names nothing', async () => {
    hello = { ...defaultHello, transport: 'https https://10.0.0.9:8443 (relayed)' };
    let client = await openAgentClient(socketPath);
    try {
      expect(() => client.linkPath('https://10.0.0.9:8443/redfish/v1/', 'page')).toThrow(/in-band/);
    } finally {
      await client.close();
    }
    hello = undefined as unknown as Record<string, unknown>; // an answer to hello without a hello
    client = await openAgentClient(socketPath);
    try {
      expect(client.session).toEqual({ path: null, id: null });
      expect(client.transportDescription).toBe(`agent ${socketPath} (unknown)`);
      expect(() => client.linkPath('https://10.0.0.9:8443/redfish/v1/', 'page')).toThrow(/in-band/);
    } finally {
      await client.close();
    }
    // close ends the connection: the agent sees the end
    await until(() => ended === 2, 'the agent saw both ends');
  });

  it('an agent of another iLO than the command names: refused (exit 2) after the hello, connection closed, no request', async () => {
    hello = defaultHello;
    const error = await rejectionOf(openAgentClient(socketPath, undefined, undefined, { agentFrom: '--agent', url: { value: 'https://10.0.0.1', from: '--url' } }));
    expect(error.code).toBe('E_USAGE');
    await until(() => ended === 1, 'the connection closed');
    expect(received.map((f) => f.op)).toEqual(['hello']);
    // the same iLO: accepted
    const client = await openAgentClient(socketPath, undefined, undefined, { agentFrom: '--agent', url: { value: 'https://10.0.0.9:8443', from: '--url' } });
    await client.close();
  });
});
