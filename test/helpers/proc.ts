// Reading other processes through Linux's /proc: their environment, limits, descriptors and
// listening sockets. Each reader answers undefined (or nothing) for a process that is gone.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

export function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs: a killed child its parent has not reaped yet is a zombie, not alive. */
export function alive(pid: number): boolean {
  const stat = readProc(pid, 'stat');
  return stat !== undefined && !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
}

/** Pids of running guardians (the bundle run with `__guardian`) whose environment has GUARDIAN_TEST_TAG=`tag`. */
export function guardiansTagged(tag: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (!readProc(pid, 'cmdline')?.split('\0').includes('__guardian') || !alive(pid)) continue;
    if (readProc(pid, 'environ')?.split('\0').includes(`GUARDIAN_TEST_TAG=${tag}`)) found.push(pid);
  }
  return found;
}

/** The targets of a process's descriptors (`socket:[123]`, `pipe:[456]`, paths), by fd number. */
export function descriptors(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  let entries: string[] = [];
  try {
    entries = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of entries) {
    try {
      out.set(Number(fd), readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** TCP ports `pid` listens on (its sockets in LISTEN state, IPv4 and IPv6). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set([...descriptors(pid).values()].map((t) => /^socket:\[(\d+)\]$/.exec(t)?.[1]).filter((x): x is string => x !== undefined));
  const ports: number[] = [];
  for (const table of ['net/tcp', 'net/tcp6']) {
    for (const line of (readProc(pid, table) ?? '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f[3] === '0A' && inodes.has(f[9] as string)) ports.push(parseInt((f[1] as string).split(':')[1] as string, 16));
    }
  }
  return ports;
}

/** The uid that owns the files in /proc/<pid>/: root's (0) when the process is not dumpable, whatever its own uid. */
export function procOwner(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}/environ`).uid;
  } catch {
    return undefined;
  }
}

/** The names of a process's threads (Node's inspector signal thread is "SignalInspector"). */
export function threadNames(pid: number): string[] {
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.map((tid) => readProc(pid, `task/${tid}/comm`)?.trim()).filter((name): name is string => name !== undefined);
}

/** The pids of a process's children (forked by any of its threads). */
export function childrenOf(pid: number): number[] {
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => (readProc(pid, `task/${tid}/children`) ?? '').trim().split(/\s+/).filter(Boolean).map(Number));
}
