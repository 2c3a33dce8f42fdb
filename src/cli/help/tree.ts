// The command tree as data, for what is generated from it (completion, man page, docs/cli.md).
import type { Command, Option } from 'commander';

export interface OptionInfo {
  flags: string[];
  takesValue: boolean;
  choices: readonly string[];
}

export interface CommandInfo {
  /** Names from the root's first subcommand down ([] for the root). */
  path: string[];
  command: Command;
  subcommands: string[];
  /** Its own options, with -h/--help (the root's are the global ones, valid everywhere). */
  options: OptionInfo[];
}

/** The root first, then every command depth-first, in the order `--help` lists them. */
export function commandTree(root: Command): CommandInfo[] {
  const out: CommandInfo[] = [];
  const visit = (command: Command, path: string[]) => {
    const visible = command.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
    out.push({ path, command, subcommands: visible.map((c) => c.name()), options: [...command.options.filter((o) => !o.hidden).map(optionInfo), HELP] });
    for (const sub of visible) visit(sub, [...path, sub.name()]);
  };
  visit(root, []);
  return out;
}

const HELP: OptionInfo = { flags: ['-h', '--help'], takesValue: false, choices: [] };

function optionInfo(option: Option): OptionInfo {
  return {
    flags: [option.short, option.long].filter((f): f is string => f !== undefined),
    takesValue: option.required || option.optional,
    choices: option.argChoices ?? [],
  };
}
