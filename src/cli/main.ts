#!/usr/bin/env node
// The bin. The only place that sets process.exitCode; nothing ends the process early, so every
// finally (and later every logout) runs before the exit.
import { CommanderError } from 'commander';
import { IloAgentError } from '../errors.js';
import { EXIT_CODES, exitCodeFor } from './exit-codes.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its message (or the help) to the right stream.
      return error.exitCode === 0 ? 0 : EXIT_CODES.E_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`ilo-agent: ${message}\n`);
    if (!(error instanceof IloAgentError) && process.env.ILO_AGENT_DEBUG && error instanceof Error) {
      process.stderr.write(`${error.stack ?? ''}\n`);
    }
    return exitCodeFor(error);
  }
}

process.exitCode = await main(process.argv);
