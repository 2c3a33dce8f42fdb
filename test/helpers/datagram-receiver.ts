// A Unix datagram receiver for tests (Node cannot bind one): python3 binds `address` (a path, or
// @name for Linux's abstract namespace) and prints each datagram it receives as a JSON line.
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { runProgram, type Running } from './cli.js';

const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\\0" + a[1:] if a.startswith("@") else a)
print(json.dumps("bound"), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

/** Why a receiver cannot run here (not Linux, no python3), or undefined when it can. */
export function receiverUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Unix datagram addresses here are Linux\'s';
  const python = spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { encoding: 'utf8' });
  return python.status !== 0 ? 'the receiver is bound with python3, which is missing' : undefined;
}

/** A receiver bound at `address` once this resolves; `received()`: what it got so far, one string per datagram. */
export async function bindReceiver(address: string): Promise<{ running: Running; received: () => string[] }> {
  const running = runProgram('python3', ['-c', RECEIVER, address]);
  const received = () => running.stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as string).slice(1);
  expect(JSON.parse(await running.firstLine)).toBe('bound');
  return { running, received };
}
