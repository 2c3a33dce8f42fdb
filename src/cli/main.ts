#!/usr/bin/env node
// The bin: the process glue. The only place that sets the exit code or handles signals, crashes
// and a closed stdout. Each of those stops the work, lets the session be deleted, then exits:
// 128+n for signal n, 1 for a crash. Only a cleanup that overruns the shutdown timeout is cut.
import { CommanderError } from 'commander';
import { exitNow, nativeCallsPending } from '../binding/index.js';
import { AbortedError, IloAgentError } from '../errors.js';
import { CommandOutcome, EXIT_CODES, exitCodeFor } from './exit-codes.js';
import { Lifecycle } from './lifecycle.js';
import { lazyLogger } from './lazy-logger.js';
import { buildProgram, type LoggerFactory } from './program.js';
import { SHUTDOWN_SIGNALS } from './signals.js';

// stdin only when a command reads it: opening it at start-up loads stream code (~4 ms) most runs never use.
const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  get stdin() {
    return process.stdin;
  },
};
const lifecycle = new Lifecycle();
// pino is bundled in and initialised only when a line is due: require() is synchronous (a line
// can be due on the way out, when nothing asynchronous runs) and, unlike an import, it is not
// hoisted into start-up. This file only ever runs bundled (CommonJS), where require exists.
const createLogger: LoggerFactory = (level, options) =>
  lazyLogger(level, (at) => (require('../log/logger.js') as typeof import('../log/logger.js')).createLogger(at, options));
const program = buildProgram(io, process.env, lifecycle, createLogger);
const say = (line: string) => io.stderr.write(`ilo-agent: ${line}\n`);

/** Set once the work and its cleanup are done (no session is open): leaves, whatever stdout holds. */
let leave: (() => void) | undefined;

for (const signal of SHUTDOWN_SIGNALS) {
  process.on(signal, () => {
    if (!lifecycle.reason && !lifecycle.stopsOnSignal) say(`received ${signal}; stopping (an open session is deleted first)`);
    lifecycle.stop(signal);
    // Nothing is left to delete, only output to drain: a signal now (a second one, say) ends it at once.
    leave?.();
  });
}
const crash = (error: unknown) => {
  if (!lifecycle.reason) say(`internal error: ${error instanceof Error ? error.message : String(error)}; stopping`);
  if (process.env.ILO_AGENT_DEBUG && error instanceof Error) say(error.stack ?? '');
  lifecycle.crash(error);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
// A reader that went away (`| head`): stop quietly, as a pipe's writer does, after cleanup.
process.stdout.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? lifecycle.stop('SIGPIPE') : crash(error)));
lifecycle.onOverrun = () => {
  if (lifecycle.lastResortCleanup() === 0) {
    say('the session could not be deleted within the shutdown timeout; exiting anyway (it ends at its idle timeout)');
  }
  exitNow(lifecycle.exitCode() ?? 1);
  process.exit(lifecycle.exitCode() ?? 1);
};

async function run(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_CODES.E_USAGE;
    if (error instanceof CommandOutcome) return error.exitCode; // a result, not an error: no message
    if (!(error instanceof AbortedError && lifecycle.reason)) {
      say(error instanceof IloAgentError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`);
      if (!(error instanceof IloAgentError) && process.env.ILO_AGENT_DEBUG && error instanceof Error) say(error.stack ?? '');
    }
    return exitCodeFor(error);
  }
}

// No top-level await: the single executable's bundle is CommonJS.
void run(process.argv).then((code) => {
  // A stop can still come after the command (EPIPE while the result drains): decide at exit.
  process.on('exit', () => {
    // Normally every session is closed by now; if one is not, only a blocking DELETE can still go.
    lifecycle.lastResortCleanup();
    process.exitCode = lifecycle.exitCode() ?? code;
  });
  lifecycle.dispose();
  // The work and its cleanup are done. An in-band exchange that was given up on may still sit in
  // a native call the iLO never answers; it must not hold the process.
  leave = () => {
    if (nativeCallsPending()) {
      lifecycle.lastResortCleanup();
      exitNow(lifecycle.exitCode() ?? code);
    }
    process.exit();
  };
  // Exit once stdout drained; but a reader that never reads does not hold a stopped process past
  // its shutdown timeout (what it has not read is lost: it was told to stop).
  const deadline = lifecycle.shutdownDeadline;
  if (deadline !== undefined) setTimeout(leave, Math.max(0, deadline - Date.now())).unref();
  process.stdout.write('', (error?: Error | null) => {
    if ((error as NodeJS.ErrnoException | null | undefined)?.code === 'EPIPE') lifecycle.stop('SIGPIPE');
    leave?.();
  });
});
