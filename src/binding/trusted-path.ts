// Whether a library file may be loaded: loading runs its code (constructors included) with our
// rights, so nobody but us and root may be able to change what that path loads. The path is
// walked one name at a time, as the kernel resolves it, following symbolic links: every directory
// looked into, every link and the file itself are checked. Then nothing on the way can be swapped
// by anyone else between this check and the load.
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export type PathVerdict =
  | { kind: 'trusted' }
  /** Not there (or not reachable): a search goes on without a word. The reason does not repeat the path. */
  | { kind: 'missing'; reason: string }
  /** There, but another user could change it: the reason names the path and the check. */
  | { kind: 'unsafe'; reason: string };

/** Linux's own limit on links followed in one lookup (path_resolution(7)). */
const MAX_LINKS = 40;
const STICKY = 0o1000;

/**
 * Checks an absolute `path` for a process of effective uid `euid`. Root (0): every entry is owned
 * by root and neither group- nor world-writable. Another user: owned by that user or root and not
 * world-writable (group write is allowed: umask 002 with a private group is common, and a user
 * other than root cannot reach the iLO's driver anyway). A sticky directory (e.g. /tmp) may be
 * writable by others: they cannot rename or remove entries they do not own, and each entry is
 * checked in turn. POSIX ACLs show in the group bits (their mask), so a granted write is seen.
 */
export function checkTrustedPath(path: string, euid: number): PathVerdict {
  if (!path.startsWith('/')) return { kind: 'unsafe', reason: `${path} is not an absolute path` };
  const owners = euid === 0 ? 'root' : `root or uid ${euid}`;
  const writeBits = euid === 0 ? 0o022 : 0o002;
  const problem = (at: string, stats: Stats, what: 'directory' | 'link' | 'file'): string | undefined => {
    if (stats.uid !== 0 && stats.uid !== euid) return `${what} ${at} is owned by uid ${stats.uid}, not ${owners}`;
    // A link's own mode means nothing; only its owner may replace it.
    if (what === 'link') return undefined;
    const writable = stats.mode & writeBits;
    if (writable === 0 || (what === 'directory' && stats.mode & STICKY)) return undefined;
    const by = writable & 0o002 ? 'every user' : 'its group';
    return `${what} ${at} is writable by ${by} (mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')})`;
  };

  // Every name is walked, empty ones and `.` and `..` included: join() resolves them against
  // `current` as the kernel would (`current` has no links in it, so its parent is the real one, and
  // was checked on the way down), and a trailing `/` or `/.` then asks for a directory, as it does
  // for the kernel. So the walk ends on a regular file or says why not.
  const pending = path.split('/');
  let current = '/';
  let links = 0;
  try {
    // The walk goes to the end even past a problem: a file that is not there is "missing", not
    // "unsafe" (no warning for every absent candidate under a loose directory).
    let reason: string | undefined;
    while (pending.length > 0) {
      const name = pending.shift() as string;
      const next = join(current, name);
      const stats = lstatSync(next);
      if (stats.isSymbolicLink()) {
        reason ??= problem(next, stats, 'link');
        if (++links > MAX_LINKS) return { kind: 'missing', reason: 'too many symbolic links' };
        const target = readlinkSync(next);
        if (target.startsWith('/')) current = '/';
        pending.unshift(...target.split('/'));
        continue;
      }
      const last = pending.length === 0;
      if (!last && !stats.isDirectory()) return { kind: 'missing', reason: `${next} is not a directory` };
      if (last && !stats.isFile()) return { kind: 'missing', reason: `${next} is not a regular file` };
      reason ??= problem(next, stats, last ? 'file' : 'directory');
      current = next;
    }
    return reason === undefined ? { kind: 'trusted' } : { kind: 'unsafe', reason };
  } catch (error) {
    return { kind: 'missing', reason: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}
