// A client trusts an agent only if it runs as the client's own user or root: another user's
// process listening at the path would otherwise receive every request (new passwords in PATCH
// bodies) and could forge every answer. Checked after connect, before a single byte is sent.
import { lstatSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { peerUid, pipeServer, type PipeServer } from '../binding/index.js';
import { InvalidInputError } from '../errors.js';
import { checkDirectories } from './socket-path.js';

export async function checkAgentPeer(socket: Socket, path: string, logger?: Pick<Logger, 'debug'>): Promise<void> {
  if (process.platform === 'win32') return checkPipeServer(path, logger);
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

/** LocalSystem, as which Windows services run: the Windows counterpart of root. */
const LOCAL_SYSTEM = 'S-1-5-18';

/**
 * Windows: the pipe is asked who serves it, on a second connection opened after Node's (see
 * pipeServer). Both reach a process of the same user, or of LocalSystem/Administrators: Node's
 * connection, open, keeps the pipe's name alive, and only the user who created that name,
 * LocalSystem and Administrators may add instances to it (the default security of a named pipe;
 * `serve` leaves it so, and libuv creates its first instance with FILE_FLAG_FIRST_PIPE_INSTANCE,
 * so an agent never joins a name someone else made). An impostor who made the name first is
 * therefore the one the second connection finds, and is refused.
 */
async function checkPipeServer(path: string, logger?: Pick<Logger, 'debug'>): Promise<void> {
  let server: PipeServer;
  try {
    server = await pipeServer(path);
  } catch (error) {
    throw new InvalidInputError(`refused the agent at ${path}, nothing was sent to it: ${(error as Error).message}`);
  }
  const verdict = pipeServerVerdict(server);
  if (verdict !== 'ours' && verdict !== 'LocalSystem') {
    throw new InvalidInputError(`the agent at ${path} (process ${server.pid}) runs as ${server.sid}, neither you (${server.ownSid}) nor LocalSystem: refused, nothing was sent to it`);
  }
  logger?.debug({ pipe: path, serverPid: server.pid, serverUser: server.sid }, `the agent's pipe is served by process ${server.pid}, which runs as ${verdict === 'ours' ? 'our user' : 'LocalSystem'}`);
}

/** Whose the server is: ours, LocalSystem's, or another user's (refused). */
export function pipeServerVerdict(server: PipeServer): 'ours' | 'LocalSystem' | 'other' {
  if (server.sid === server.ownSid) return 'ours';
  return server.sid === LOCAL_SYSTEM ? 'LocalSystem' : 'other';
}

function refused(path: string, what: string, uid: number): InvalidInputError {
  return new InvalidInputError(`the agent at ${path} ${what}, neither you (uid ${uid}) nor root: refused, nothing was sent to it`);
}
