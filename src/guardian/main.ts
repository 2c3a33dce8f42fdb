// The guardian's process: started by an agent (guardian/spawn.ts) in its own process group, fed
// over its stdin, never given anything in argv or the environment. It exits when the pipe
// closes: at once after "released", otherwise once it has deleted what the agent left, and
// never later than its deadline after the pipe closed (guardianTimeouts).
//
// It installs no signal handlers: being in its own process group and session, the signals aimed
// at the agent (a terminal's, a supervisor's kill of the group) do not reach it.
import { createInterface } from 'node:readline';
import { exitNow, nativeCallsPending } from '../transport/index.js';
import { runGuardian } from './guardian.js';

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
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });

// No top-level await: the single executable's bundle is CommonJS.
void runGuardian({
  lines,
  onInputEnd: (deadlineMs) => setTimeout(() => leave(1), deadlineMs).unref(),
  createLogger: async (level) => {
    const { createLogger } = await import('../log/logger.js');
    return createLogger(level, { pretty: process.stderr.isTTY === true, name: 'ilo-agent-guardian' });
  },
})
  .catch(() => 'failed' as const)
  .then((outcome) => leave(outcome === 'failed' ? 1 : 0));
