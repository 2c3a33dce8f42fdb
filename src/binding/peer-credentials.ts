// The user id of the process at the other end of a connected Unix socket, as the kernel recorded
// it: SO_PEERCRED on Linux (socket(7), unix(7)), getpeereid(3) on macOS and the BSDs. Unlike the
// socket file's owner, nobody can forge it.
import { loadKoffi, type Koffi } from './chif-library.js';

type PeerUid = (fd: number) => number | undefined;
let lookup: Promise<PeerUid | undefined> | undefined;

/** The peer's uid; undefined where the system has no such call or the call failed. */
export async function peerUid(fd: number): Promise<number | undefined> {
  lookup ??= loadKoffi().then(bindPeerUid, () => undefined);
  const get = await lookup;
  try {
    return get?.(fd);
  } catch {
    return undefined;
  }
}

function bindPeerUid(koffi: Koffi): PeerUid | undefined {
  try {
    const libc = koffi.load(null);
    if (process.platform === 'linux') {
      const getsockopt = libc.func('int getsockopt(int fd, int level, int name, void *value, void *length)');
      const [level, name] = linuxPeerCred();
      return (fd) => {
        const ucred = new Uint32Array(3); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        const length = new Uint32Array([ucred.byteLength]);
        return getsockopt(fd, level, name, ucred, length) === 0 && length[0] === ucred.byteLength ? ucred[1] : undefined;
      };
    }
    if (['darwin', 'freebsd', 'openbsd', 'netbsd'].includes(process.platform)) {
      const getpeereid = libc.func('int getpeereid(int fd, void *uid, void *gid)');
      return (fd) => {
        const uid = new Uint32Array(1);
        const gid = new Uint32Array(1);
        return getpeereid(fd, uid, gid) === 0 ? uid[0] : undefined;
      };
    }
  } catch {
    // no such function here: the caller falls back to the socket file's owner
  }
  return undefined;
}

/** SOL_SOCKET and SO_PEERCRED differ on a few Linux architectures (asm/socket.h). */
function linuxPeerCred(): [number, number] {
  if (process.arch === 'ppc' || process.arch === 'ppc64') return [1, 21];
  if (process.arch === 'mips' || process.arch === 'mipsel') return [0xffff, 18];
  return [1, 17];
}
