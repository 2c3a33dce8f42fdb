// One datagram to a Unix datagram socket (AF_UNIX, SOCK_DGRAM), which Node's dgram module cannot
// address: socket(2), sendto(2) and close(2) from libc, as sd_notify(3) does it. Linux (and other
// Unixes with the same constants); what systemd's NOTIFY_SOCKET needs, without a new dependency.
import { endianness } from 'node:os';
import { loadKoffi } from './chif-library.js';

const AF_UNIX = 1;
/** SOCK_DGRAM is 1 on MIPS (asm/socket.h), 2 elsewhere. */
const SOCK_DGRAM = process.arch === 'mips' || process.arch === 'mipsel' ? 1 : 2;
/** sendto(2): no SIGPIPE if the receiver went away (Linux; elsewhere 0). */
const MSG_NOSIGNAL = process.platform === 'linux' ? 0x4000 : 0;
/** sizeof(sun_path) on Linux (unix(7)). */
const SUN_PATH = 108;

type Libc = { socket: (domain: number, type: number, protocol: number) => number; sendto: (...args: unknown[]) => number; close: (fd: number) => number; errno: () => number };
let libc: Promise<Libc> | undefined;

/**
 * Sends `message` to the socket at `path`; a leading "@" names Linux's abstract namespace (as
 * systemd writes it). Throws with errno on failure. The socket is opened and closed within one
 * synchronous run: no child process can inherit it, so no SOCK_CLOEXEC is needed.
 */
export async function sendUnixDatagram(path: string, message: string): Promise<void> {
  const address = sockaddrUn(path);
  const c = await (libc ??= bindLibc());
  const fd = c.socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) throw new Error(`socket(AF_UNIX, SOCK_DGRAM) failed (errno ${c.errno()})`);
  try {
    const data = Buffer.from(message, 'utf8');
    const sent = c.sendto(fd, data, data.length, MSG_NOSIGNAL, address, address.length);
    if (sent !== data.length) throw new Error(`sendto ${path} failed (errno ${c.errno()})`);
  } finally {
    c.close(fd);
  }
}

async function bindLibc(): Promise<Libc> {
  const koffi = await loadKoffi();
  const lib = koffi.load(null);
  return {
    socket: lib.func('int socket(int domain, int type, int protocol)') as Libc['socket'],
    sendto: lib.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)') as Libc['sendto'],
    close: lib.func('int close(int fd)') as Libc['close'],
    errno: () => koffi.errno(),
  };
}

/** struct sockaddr_un: the family (host byte order), then the path; its length as the kernel wants it. */
function sockaddrUn(path: string): Buffer {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? `\0${path.slice(1)}` : path, 'utf8');
  if (name.length === 0 || name.length >= SUN_PATH) throw new Error(`not a usable Unix socket address (1 to ${SUN_PATH - 1} bytes): ${path}`);
  // An abstract name is exactly its bytes; a path carries its terminating NUL.
  const address = Buffer.alloc(2 + name.length + (abstract ? 0 : 1));
  if (endianness() === 'LE') address.writeUInt16LE(AF_UNIX, 0);
  else address.writeUInt16BE(AF_UNIX, 0);
  name.copy(address, 2);
  return address;
}
