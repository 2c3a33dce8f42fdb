// `ilo-agent capture PATH...`: the writable properties of those resources as an `apply` file, on
// stdout or in --out FILE. `capture` on one server and `apply --check` on another shows the drift.
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { captureResources, checkPath } from '../../client/index.js';
import { InvalidInputError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { outputFormat, printResult } from '../output.js';

export function captureCommand(ctx: CommandContext): Command {
  return new Command('capture')
    .description('read resources and write an apply file of their writable properties (passwords never); on stdout or --out FILE')
    .argument('<paths...>', 'Redfish paths, in the order apply should write them')
    .option('--out <file>', 'write the file here (owner-only permissions) instead of stdout')
    .action(async (paths: string[], flags: { out?: string }, command: Command) => {
      paths.forEach((p) => checkPath(p));
      const source = command.optsWithGlobals<{ url?: string }>().url ?? 'the iLO';
      const { plan, skipped } = await ctx.connector.withClient(command, (client) => captureResources(client, paths, { source, signal: ctx.lifecycle.signal }));
      for (const s of skipped) ctx.io.stderr.write(`ilo-agent: capture: ${s.path}: ${s.why}; left out\n`);
      if (flags.out) {
        try {
          writeFileSync(flags.out, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
        } catch (error) {
          throw new InvalidInputError(`cannot write --out ${flags.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        }
        return;
      }
      printResult(ctx.io, outputFormat(command, ctx.io), plan);
    });
}
