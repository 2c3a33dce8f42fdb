// A client refuses an agent run by another user before it sends a single byte, and hangs up.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentConnection } from '../../src/agent/index.js';
import { rejectionOf, until } from '../helpers/wait.js';

// The kernel's answer to "who is the peer": another user's process
vi.mock('../../src/binding/index.js', () => ({ peerUid: async () => 1234 }));

describe.skipIf(process.platform === 'win32' || process.getuid?.() === 1234)('AgentConnection.open: an agent of another user', () => {
  let dir: string;
  let server: Server;
  let received = '';
  let closed = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ilo-agent-client-peer-'));
    server = createServer((c) => {
      c.on('data', (d) => (received += d.toString()));
      c.on('close', () => closed++);
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(join(dir, 'agent.sock'), r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused (E_INPUT), nothing is sent to it, and the connection is closed', async () => {
    const error = await rejectionOf(AgentConnection.open(join(dir, 'agent.sock')));
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toMatch(/runs as uid 1234, .*refused, nothing was sent to it/);
    await until(() => closed === 1, 'the connection closed');
    expect(received).toBe('');
  });
});
