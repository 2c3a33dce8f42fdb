// The guardian's process: started by an agent (guardian/spawn.ts) in its own process group, fed
// over its stdin, never given anything in argv or the environment. It exits when the pipe
// closes: at once after "released", otherwise once it has deleted what the agent left, and
// never later than its deadline after the pipe closed (guardianTimeouts).
//
// It handles no stopping signal: being in its own process group and session, the signals aimed
// at the agent (a terminal's, a supervisor's kill of the group) do not reach it. It will hold the
// password and the token: SIGUSR1 opens no debugger, and core files are off (protectSecrets).
import { closeSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { exitNow, nativeCallsPending, protectSecrets, refuseDebugSignal } from '../binding/index.js';
import { runGuardian } from './guardian.js';

refuseDebugSignal();
closeInheritedDescriptors();

/**
 * Descriptors the agent's caller handed down without close-on-exec (a script's pipe at fd 251):
 * the agent passes them on, and the guardian may outlive the agent, keeping a reader waiting for
 * an EOF. Node's and libuv's own descriptors are close-on-exec (fdinfo flags 02000000); stdio
 * (0-2) stays.
 */
function closeInheritedDescriptors(): void {
  if (process.platform !== 'linux') return;
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return;
  }
  for (const entry of entries) {
    const fd = Number(entry);
    if (!(fd > 2)) continue;
    try {
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0) closeSync(fd);
    } catch {
      // gone meanwhile: the listing's own descriptor
    }
  }
}

/** Leaves now: a native call stuck in the iLO would hold a normal exit (see exitNow). */
function leave(code: number): never {
  if (nativeCallsPending()) exitNow(code);
  process.exit(code);
}

// Only an agent starts a guardian, with a pipe: a person who typed the internal argument gets a word.
if (process.stdin.isTTY) {
  process.stderr.write('ilo-agent: the guardian is started by ilo-agent itself, with a pipe on its standard input; it is not a command\n');
  process.exit(2);
}
process.stdin.on('error', () => undefined); // a broken pipe is the end of input, as EOF is

// The pipe brings the token and the password: it is read once they are protected (never throws).
// No top-level await: the single executable's bundle is CommonJS.
void protectSecrets()
  .then(() =>
    runGuardian({
      lines: createInterface({ input: process.stdin, crlfDelay: Infinity }),
      onInputEnd: (deadlineMs) => setTimeout(() => leave(1), deadlineMs).unref(),
      createLogger: async (level) => {
        const { createLogger } = await import('../log/logger.js');
        return createLogger(level, { pretty: process.stderr.isTTY === true, name: 'ilo-agent-guardian' });
      },
    }),
  )
  .catch(() => 'failed' as const)
  .then((outcome) => leave(outcome === 'failed' ? 1 : 0));
