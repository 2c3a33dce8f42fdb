// How `get` and `raw` show an answer's body: whole, or the properties --select / --value name.
import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { outputFormat, printResult } from '../output.js';
import { formatValue, parsePropertyPath, parseSelection, selectProperties } from '../values.js';

export type Shown = { kind: 'whole' } | { kind: 'select'; paths: string[][] } | { kind: 'value'; path: string[] };

export function withValueOptions(command: Command): Command {
  return command
    .addOption(new Option('--select <paths>', 'print an object of just these properties: comma-separated dotted paths, e.g. PowerState,Oem.Hpe.PostState'))
    .addOption(new Option('--value <path>', 'print one property alone: a string as plain text, anything else as JSON (exit 6 when absent)').conflicts('select'));
}

/** Checked before the login: a bad path is a usage error, nothing is sent. */
export function valueOptions(flags: Record<string, unknown>): Shown {
  if (typeof flags.select === 'string') return { kind: 'select', paths: parseSelection(flags.select) };
  if (typeof flags.value === 'string') return { kind: 'value', path: parsePropertyPath(flags.value, '--value') };
  return { kind: 'whole' };
}

export function printBody(ctx: CommandContext, command: Command, body: unknown, shown: Shown, where: string): void {
  if (shown.kind === 'whole') return printResult(ctx.io, outputFormat(command, ctx.io), body);
  if (shown.kind === 'select') return printResult(ctx.io, outputFormat(command, ctx.io), selectProperties(body, shown.paths, where));
  ctx.io.stdout.write(`${formatValue(body, shown.path, where)}\n`);
}

/** `--include` shows status and headers around the body: one property alone makes no sense there. */
export function refuseWithInclude(shown: Shown, include: boolean | undefined): void {
  if (include && shown.kind !== 'whole') throw new UsageError('--include prints the whole answer: give it without --select/--value');
}
