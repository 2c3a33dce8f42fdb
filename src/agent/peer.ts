// A client trusts an agent only if it runs as the client's own user or root: another user's
// process listening at the path would otherwise receive every request (new passwords in PATCH
// bodies) and could forge every answer. Checked after connect, before a single byte is sent.
import { lstatSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import { peerUid } from '../binding/index.js';
import { InvalidInputError } from '../errors.js';
import { checkDirectories } from './socket-path.js';

export async function checkAgentPeer(socket: Socket, path: string): Promise<void> {
  // A named pipe's server is not checked (GetNamedPipeServerProcessId is not used): see README.
  if (process.platform === 'win32') return;
  const uid = process.getuid?.() ?? 0;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  const peer = typeof fd === 'number' && fd >= 0 ? await peerUid(fd) : undefined;
  if (peer !== undefined) {
    if (peer !== uid && peer !== 0) throw refused(path, `runs as uid ${peer}`, uid);
    return;
  }
  // No peer credentials on this system: the socket file's owner, in directories only its owner
  // (or root) can change, is the best evidence of who listens there.
  let owner: number;
  try {
    const stat = lstatSync(path);
    owner = stat.isSocket() ? stat.uid : -1;
  } catch {
    owner = -1;
  }
  if (owner !== uid && owner !== 0) throw refused(path, owner < 0 ? 'is not a socket file' : `is a socket of uid ${owner}`, uid);
  try {
    checkDirectories(dirname(path), uid);
  } catch (error) {
    throw new InvalidInputError(`refused the agent at ${path}, nothing was sent to it: ${(error as Error).message}`);
  }
}

function refused(path: string, what: string, uid: number): InvalidInputError {
  return new InvalidInputError(`the agent at ${path} ${what}, neither you (uid ${uid}) nor root: refused, nothing was sent to it`);
}
