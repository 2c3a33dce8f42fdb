// `ilo-agent doctor`: what works and what does not on the way to the iLO, with the cure for each,
// in one run instead of one error per try. Exit 0 when everything the chosen path needs works,
// else the exit code of the first failure. It leaves no session.
import { Command } from 'commander';
import { runDoctor, type Check } from '../../client/index.js';
import { IloAgentError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { outputFormat, printResult } from '../output.js';

const MARK: Record<Check['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

export function doctorCommand(ctx: CommandContext): Command {
  return new Command('doctor')
    .description('check every step to the iLO (in-band: library, privileges, path, vNIC, app account; HTTPS: DNS, TCP, TLS, service, clock) and log in once; each with what was found and the fix')
    .action(async (_flags: unknown, command: Command) => {
      const options = await ctx.connector.connectOptions(command);
      const format = outputFormat(command, ctx.io);
      // People see each check as it is done (a TCP timeout takes seconds); scripts get one document.
      const show = (c: Check) => {
        ctx.io.stdout.write(`${MARK[c.status]}  ${c.name.padEnd(12)} ${c.found}\n`);
        if (c.fix && c.status !== 'ok') ctx.io.stdout.write(`${' '.repeat(20)}fix: ${c.fix}\n`);
      };
      const report = await runDoctor({ ...options, signal: ctx.lifecycle.signal }, format === 'pretty' ? show : undefined);
      if (format === 'json') printResult(ctx.io, format, report);
      const failed = report.checks.find((c) => c.status === 'fail');
      if (failed) throw new IloAgentError(`doctor: the ${failed.name} check failed${format === 'pretty' ? ' (above)' : `: ${failed.found}`}`, failed.code ?? 'E_INTERNAL');
    });
}
