// `ilo-agent completion SHELL` and `ilo-agent man`: made from the command tree at run time, so they
// always match the program that prints them.
import { Argument, Command } from 'commander';
import type { CommandContext } from '../context.js';
import { completionScript, SHELLS, type Shell } from '../help/completion.js';
import { manPage } from '../help/render.js';

export function completionCommand(ctx: CommandContext): Command {
  return new Command('completion')
    .description('print a shell completion script (commands, options, choices) generated from the command tree')
    .addArgument(new Argument('<shell>', 'bash, zsh or powershell').choices(SHELLS))
    .action((shell: Shell, _flags: unknown, self: Command) => {
      ctx.io.stdout.write(completionScript(root(self), shell));
    });
}

export function manCommand(ctx: CommandContext): Command {
  return new Command('man')
    .description('print the manual page (roff) generated from the command tree')
    .action((_flags: unknown, self: Command) => {
      ctx.io.stdout.write(manPage(root(self)));
    });
}

function root(command: Command): Command {
  let top = command;
  while (top.parent) top = top.parent;
  return top;
}
