// What a bundled entry runs: the guardian when started as one (GUARDIAN_ARGUMENT), else the CLI.
// Both programs start on import; each is loaded only when it is the one wanted.
import { GUARDIAN_ARGUMENT } from '../guardian/index.js';
import { refuseDebugSignal } from '../binding/index.js';

export function runEntry(): void {
  // Before anything else: from here on a SIGUSR1 opens no debugger (Node's default does).
  refuseDebugSignal();
  if (process.argv[2] === GUARDIAN_ARGUMENT) {
    void import('../guardian/main.js');
  } else {
    void import('../cli/main.js');
  }
}
