#!/usr/bin/env node
// The npm package's bin, bundled into one file (dist/bin/ilo-agent.cjs): one file to read and
// compile at start-up instead of some fifty modules. Its guardian is this same file.
import { fileURLToPath } from 'node:url';
import { GUARDIAN_ARGUMENT, guardianExecArgv, setGuardianLaunch } from '../guardian/index.js';
import { runEntry } from './run-entry.js';

setGuardianLaunch({ command: process.execPath, args: [...guardianExecArgv(), fileURLToPath(import.meta.url), GUARDIAN_ARGUMENT] });
runEntry();
