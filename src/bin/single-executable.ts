// The single executable's entry (Node's SEA; bundled to CommonJS, dist/sea/ilo-agent.cjs).
// Its guardian is the executable itself, and koffi's native module is the koffi-<platform>-<arch>.node file beside
// it: a native module can only be loaded from a file, and the executable writes none.
import { dirname, join } from 'node:path';
import { GUARDIAN_ARGUMENT, setGuardianLaunch } from '../guardian/index.js';
import { useKoffiNativeModule } from '../binding/index.js';
import { runEntry } from './run-entry.js';

// A single executable sees [executable, executable, ...arguments], as node sees [node, script, ...].
setGuardianLaunch({ command: process.execPath, args: [GUARDIAN_ARGUMENT] });
useKoffiNativeModule(join(dirname(process.execPath), `koffi-${process.platform}-${process.arch}.node`));
runEntry();
