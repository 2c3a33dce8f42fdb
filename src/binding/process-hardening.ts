// The process that holds a session's secrets (the agent, the guardian) keeps them out of reach of
// other users and off the disk: no debugger opens on SIGUSR1, no core file is written, the
// password leaves /proc/<pid>/environ, and (Linux) the process is not dumpable, which also makes
// its /proc files root's and refuses ptrace to other processes of the same user.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { loadKoffi } from './chif-library.js';

/** Variables that carry a secret; their text is wiped from the process's initial environment. */
const SECRET_VARIABLES = ['ILO_PASSWORD'];
/** <sys/resource.h> and <sys/prctl.h>, the same on every Linux architecture. */
const RLIMIT_CORE = 4;
const PR_SET_DUMPABLE = 4;

/**
 * Node opens its inspector (127.0.0.1:9229, no authentication: code execution as our user) on
 * SIGUSR1. A listener of our own replaces Node's: the signal is then ignored. Install it first
 * thing; a SIGUSR1 during Node's own start-up is handled by protectSecrets().
 */
export function refuseDebugSignal(): void {
  if (process.platform === 'win32' || process.listenerCount('SIGUSR1') > 0) return;
  // Said, so that whoever sent it (a log-rotation habit: pkill -USR1 node) knows it did nothing here.
  process.on('SIGUSR1', () => process.stderr.write('ilo-agent: SIGUSR1 ignored (it would open a debugger to every local user)\n'));
}

/** What protectSecrets() managed; `failed` names the steps that did not hold (for a debug line). */
export interface Protection {
  failed: string[];
}

let protection: Promise<Protection> | undefined;

/**
 * Call once the secrets are read, before they are used (a login): wipes the secret variables from
 * /proc/self/environ at once; then, from the next turn of the event loop (loading koffi costs about
 * 5 ms of CPU, which the agent spends while its login is on the wire), turns core files off
 * (RLIMIT_CORE 0, not dumpable) and closes an inspector a SIGUSR1 opened before
 * refuseDebugSignal() ran. Idempotent; never throws. Elsewhere than on Linux only the inspector
 * step applies.
 */
export function protectSecrets(): Promise<Protection> {
  protection ??= (async () => {
    const failed: string[] = [];
    const step = async (name: string, run: () => unknown) => {
      try {
        await run();
      } catch {
        failed.push(name);
      }
    };
    // First, and synchronously (cheap): once the process is not dumpable, /proc/self/mem is root's,
    // and a non-root agent could no longer open it.
    if (process.platform === 'linux') await step('environ', () => wipeSecretVariables(SECRET_VARIABLES));
    await new Promise((next) => setImmediate(next));
    await step('inspector', closeUnaskedInspector);
    if (process.platform === 'linux') await step('core', limitCoreDumps);
    return { failed };
  })();
  return protection;
}

async function limitCoreDumps(): Promise<void> {
  const koffi = await loadKoffi();
  const libc = koffi.load(null);
  // struct rlimit is two rlim_t (unsigned long): { soft 0, hard 0 }, and a hard 0 cannot be raised again.
  const setrlimit = libc.func('int setrlimit(int resource, const uint64_t *limits)');
  const prctl = libc.func('int prctl(int option, ...)');
  const core = setrlimit(RLIMIT_CORE, [0, 0]) as number;
  const dumpable = prctl(PR_SET_DUMPABLE, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) as number;
  if (core !== 0 || dumpable !== 0) throw new Error('setrlimit or prctl refused');
}

/**
 * `delete process.env.X` only unlinks the variable: its text stays in the block the kernel shows
 * as /proc/<pid>/environ (env_start to env_end of /proc/self/stat) for the life of the process.
 * The process may write its own memory through /proc/self/mem: the text is overwritten with NULs.
 */
function wipeSecretVariables(names: readonly string[]): void {
  for (const name of names) delete process.env[name];
  const block = readFileSync('/proc/self/environ');
  const hits: Array<{ offset: number; length: number }> = [];
  for (let start = 0; start < block.length; ) {
    let end = block.indexOf(0, start);
    if (end < 0) end = block.length;
    const entry = block.subarray(start, end).toString('latin1');
    if (names.some((name) => entry.startsWith(`${name}=`))) hits.push({ offset: start, length: end - start });
    start = end + 1;
  }
  if (hits.length === 0) return;
  // The fields after the command name, which may hold spaces and parentheses: env_start is the 50th.
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const envStart = Number(fields[50 - 3]);
  if (!Number.isSafeInteger(envStart) || envStart <= 0) throw new Error('no env_start in /proc/self/stat');
  const mem = openSync('/proc/self/mem', 'r+');
  try {
    for (const hit of hits) writeSync(mem, Buffer.alloc(hit.length), 0, hit.length, envStart + hit.offset);
  } finally {
    closeSync(mem);
  }
}

/** An inspector nobody asked for (no --inspect*): one a SIGUSR1 opened during Node's start-up. */
async function closeUnaskedInspector(): Promise<void> {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (flags.some((flag) => /^--inspect(-brk|-wait)?(=|$)/.test(flag))) return;
  const inspector = await import('node:inspector');
  if (inspector.url() !== undefined) inspector.close();
}
