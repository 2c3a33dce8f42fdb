// The client side of the agent's socket: an error the agent answers keeps its code only when the
// code is one this version knows; anything else is the agent speaking another protocol.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentConnection } from '../../src/agent/index.js';
import { IloAgentError, ProtocolError } from '../../src/errors.js';

let dir: string;
let server: Server;
let socketPath: string;
/** What the fake agent answers to a request, as the `error` of its response. */
let answerError: unknown;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-client-'));
  socketPath = join(dir, 'agent.sock');
  server = createServer((connection) => {
    let buffered = '';
    connection.on('data', (chunk) => {
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const request = JSON.parse(buffered.slice(0, newline)) as { id: number; op: string };
        buffered = buffered.slice(newline + 1);
        const answer = request.op === 'hello' ? { id: request.id, hello: { sessionPath: '/redfish/v1/SessionService/Sessions/1', sessionId: '1', transport: 'test', version: 1 } } : { id: request.id, error: answerError };
        connection.write(`${JSON.stringify(answer)}\n`);
      }
    });
    connection.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

async function requestError(error: unknown): Promise<unknown> {
  answerError = error;
  const connection = await AgentConnection.open(socketPath, 30_000);
  try {
    return await connection.request({ method: 'GET', path: '/redfish/v1/' }).then(
      () => undefined,
      (e: unknown) => e,
    );
  } finally {
    await connection.close();
  }
}

describe('AgentConnection: the error code from the socket', () => {
  it('a code this version knows is kept, with the message', async () => {
    const error = await requestError({ code: 'E_TIMEOUT', message: 'the iLO did not answer' });
    expect(error).toBeInstanceOf(IloAgentError);
    expect(error).toMatchObject({ code: 'E_TIMEOUT', message: 'the iLO did not answer' });
  });

  it.each([
    ['an unknown code', { code: 'E_NOT_A_CODE', message: 'who knows' }],
    ['no code', { message: 'who knows' }],
    ['a code that is not a string', { code: 5, message: 'who knows' }],
    ['an inherited name', { code: 'toString', message: 'who knows' }],
  ])('%s becomes E_PROTOCOL', async (_what, answered) => {
    const error = await requestError(answered);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'E_PROTOCOL' });
    expect((error as Error).message).toContain('unknown code');
    expect((error as Error).message).toContain('who knows');
  });

  it('an error without a message still says what happened', async () => {
    const error = await requestError({ code: 'E_BOGUS' });
    expect(error).toMatchObject({ code: 'E_PROTOCOL', message: 'the agent answered an error with an unknown code: the agent answered an error without a message' });
  });
});
