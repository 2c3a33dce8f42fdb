import { Command } from 'commander';
import { checkPath } from '../../client/index.js';
import type { CommandContext } from '../context.js';
import { printBody, valueOptions, withValueOptions } from './show-body.js';

export function getCommand(ctx: CommandContext): Command {
  return withValueOptions(
    new Command('get')
      .description('GET a resource; its JSON body on stdout (or just some of it: --select, --value)')
      .argument('<path>', 'a Redfish path, e.g. /redfish/v1/Systems/1'),
  ).action(async (path: string, flags: Record<string, unknown>, command: Command) => {
    checkPath(path);
    const shown = valueOptions(flags);
    const body = await ctx.connector.withClient(command, (client) => client.get(path));
    printBody(ctx, command, body, shown, path);
  });
}
