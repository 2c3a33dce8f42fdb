// Where `serve` listens, and the checks that keep another local user from taking that place or
// standing in for the agent: a socket is trusted only in directories nobody else can change.
import { chmodSync, lstatSync, mkdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { connect } from 'node:net';
import { platform, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';

const STICKY = 0o1000;
const WRITABLE_BY_OTHERS = 0o022;

/**
 * `/run/ilo-agent.sock` for root; else `$XDG_RUNTIME_DIR/ilo-agent-<uid>.sock`; without it
 * `<tmpdir>/ilo-agent-<uid>/agent.sock`, in a directory of its own (mode 0700): never a name
 * in /tmp itself, which any user could take first. A named pipe on Windows.
 */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (platform() === 'win32') return '\\\\.\\pipe\\ilo-agent';
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return '/run/ilo-agent.sock';
  const runtime = runtimeDir(env);
  if (runtime) return join(runtime, `ilo-agent-${uid}.sock`);
  return join(privateTmpDir(uid), 'agent.sock');
}

/** The XDG Base Directory spec: a relative path is invalid and ignored. */
function runtimeDir(env: NodeJS.ProcessEnv): string | undefined {
  const dir = env.XDG_RUNTIME_DIR;
  return dir && isAbsolute(dir) ? dir : undefined;
}

function privateTmpDir(uid: number): string {
  return join(tmpdir(), `ilo-agent-${uid}`);
}

/**
 * Checks, before any login, that `serve` can listen at `path` safely (InvalidInputError, exit 2,
 * otherwise) and creates the private directory of the default path. Says whether a socket of ours
 * that nobody listens on (left by an agent that died) is there to replace.
 */
export async function checkListenPath(path: string, env: NodeJS.ProcessEnv = process.env): Promise<'free' | 'stale'> {
  if (platform() === 'win32') return 'free';
  // sun_path holds 108 bytes on Linux (104 elsewhere) with its NUL: Node binds a longer path cut short,
  // at a name nobody asked for, and the checks below would have looked at another one.
  const maxBytes = platform() === 'linux' ? 107 : 103;
  if (Buffer.byteLength(path) > maxBytes) {
    throw new InvalidInputError(`${path} is too long for a Unix socket (${Buffer.byteLength(path)} bytes, at most ${maxBytes}); give a shorter --socket`);
  }
  const uid = process.getuid?.() ?? 0;
  const full = resolve(path);
  const dir = dirname(full);
  if (dir === resolve(privateTmpDir(uid))) makePrivateDir(dir, uid);
  const runtime = runtimeDir(env);
  if (runtime && dir === resolve(runtime)) {
    // The runtime directory is the user's own (XDG Base Directory spec): owned by us, mode 0700.
    const stat = statOrRefuse(dir, statSync);
    if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & WRITABLE_BY_OTHERS) !== 0) {
      throw new InvalidInputError(`XDG_RUNTIME_DIR ${dir} is not a private directory of yours (${describe(stat)}); fix it, unset it, or give --socket`);
    }
  }
  checkDirectories(dir, uid);
  let entry: Stats;
  try {
    entry = lstatSync(full);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'free';
    throw new InvalidInputError(`cannot use ${path} for the socket: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!entry.isSocket()) throw new InvalidInputError(`${path} exists and is not a socket; give another --socket`);
  if (entry.uid !== uid) {
    throw new InvalidInputError(
      `${path} is a socket of another user (uid ${entry.uid}), who may be squatting it; nothing was started: remove it (as that user or root) or give another --socket`,
    );
  }
  if (await isListening(full)) throw new InvalidInputError(`another ilo-agent serve is already listening at ${path}`);
  return 'stale';
}

/**
 * The socket's directory and every one above it (as given and with symlinks resolved) belong to
 * us or root and nobody else can write them, unless the sticky bit is set (as on /tmp): there,
 * others cannot remove or rename what is ours. Otherwise another user could swap the socket.
 */
export function checkDirectories(dir: string, uid: number): void {
  const given = resolve(dir);
  let real: string;
  try {
    real = realpathSync.native(given);
  } catch (error) {
    throw new InvalidInputError(`cannot use ${given} for the socket: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  for (const start of new Set([given, real])) {
    for (let current = start; ; current = dirname(current)) {
      const stat = statOrRefuse(current, lstatSync);
      if (stat.uid !== uid && stat.uid !== 0) {
        throw new InvalidInputError(`${current} belongs to another user (uid ${stat.uid}), who could replace the socket; use a directory of yours (or root's)`);
      }
      // A symlink's own mode means nothing; its target is checked in the resolved chain.
      if (!stat.isSymbolicLink() && (stat.mode & WRITABLE_BY_OTHERS) !== 0 && (stat.mode & STICKY) === 0) {
        throw new InvalidInputError(`${current} is writable by other users without the sticky bit (${describe(stat)}), who could replace the socket; use a directory only you can write`);
      }
      if (current === dirname(current)) break;
    }
  }
}

/** Creates the default path's directory (0700), or refuses one that is not ours alone. */
function makePrivateDir(dir: string, uid: number): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode went through the umask
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new InvalidInputError(`cannot create ${dir} for the socket: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const stat = statOrRefuse(dir, lstatSync);
  if (stat.isSymbolicLink() || !stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o777) !== 0o700) {
    throw new InvalidInputError(
      `${dir} exists and is not a private directory of yours (${describe(stat)}); another user may have made it: remove it, or set XDG_RUNTIME_DIR, or give --socket`,
    );
  }
}

function statOrRefuse(path: string, stat: (p: string) => Stats): Stats {
  try {
    return stat(path);
  } catch (error) {
    throw new InvalidInputError(`cannot use ${path} for the socket: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function describe(stat: Stats): string {
  const kind = stat.isSymbolicLink() ? 'a symlink' : stat.isDirectory() ? 'a directory' : 'not a directory';
  return `${kind}, owner uid ${stat.uid}, mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
