// `ilo-agent apply FILE|-`: bring the iLO to the state a file describes, through one session;
// `--check` says whether it is there already (exit 0) or would change (exit 10).
import { Command } from 'commander';
import { applyPlan, parseApplyFile } from '../../client/index.js';
import type { CommandContext } from '../context.js';
import { readTextFile } from '../data-file.js';
import { CommandOutcome, EXIT_CHANGED, EXIT_RESET_DUE, EXIT_WOULD_CHANGE } from '../exit-codes.js';
import { outputFormat, printResult } from '../output.js';

interface ApplyFlags {
  check?: boolean;
  continueOnError?: boolean;
  detailedExit?: boolean;
}

export function applyCommand(ctx: CommandContext): Command {
  return new Command('apply')
    .description('bring resources to the values a file gives, in file order, over one session (settings objects staged for the next reset); one JSON report on stdout')
    .argument('<file>', 'JSON {"resources": [{"path", "properties"}, ...]} (as capture writes it); - reads standard input')
    .option('--check', 'change nothing: exit 0 when everything matches (or is staged), 10 when something would change')
    .option('--continue-on-error', 'go on after a resource fails (default: stop, since order matters; the rest are reported not-run)')
    .option('--detailed-exit', 'exit 0 when nothing changed, 13 when something changed, 14 when a reboot or iLO reset is due (with --check: 14 when nothing would change but staged values wait for a reset)')
    .action(async (file: string, flags: ApplyFlags, command: Command) => {
      const source = file === '-' ? 'standard input' : file;
      const text = file === '-' ? await ctx.connector.readStdin('the apply file (standard input)') : readTextFile(file, 'the apply file');
      // The whole file is checked before the login: nothing half-validated is sent.
      const plan = parseApplyFile(text, source);
      const tty = ctx.io.stderr.isTTY === true;
      const { report, failure } = await ctx.connector.withClient(command, (client) =>
        applyPlan(client, plan, {
          check: flags.check,
          continueOnError: flags.continueOnError,
          signal: ctx.lifecycle.signal,
          onResource: (r) => tty && ctx.io.stderr.write(`apply: ${r.path}: ${r.status}\n`),
        }),
      );
      printResult(ctx.io, outputFormat(command, ctx.io), report);
      if (failure) throw failure;
      if (flags.check) {
        if (report.changed) throw new CommandOutcome(EXIT_WOULD_CHANGE, 'something would change');
        // Nothing to write, but what is staged still waits for a reset: a guard can say so without parsing.
        if (flags.detailedExit && (report.rebootRequired || report.iloResetRequired)) throw new CommandOutcome(EXIT_RESET_DUE, 'a reset is due');
        return;
      }
      if (flags.detailedExit && (report.rebootRequired || report.iloResetRequired)) throw new CommandOutcome(EXIT_RESET_DUE, 'a reset is due');
      if (flags.detailedExit && report.changed) throw new CommandOutcome(EXIT_CHANGED, 'changed');
    });
}
