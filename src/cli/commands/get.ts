import { Command } from 'commander';
import { checkPath } from '../../client/index.js';
import type { CommandContext } from '../context.js';
import { outputFormat, printResult } from '../output.js';

export function getCommand(ctx: CommandContext): Command {
  return new Command('get')
    .description('GET a resource; its JSON body on stdout')
    .argument('<path>', 'a Redfish path, e.g. /redfish/v1/Systems/1')
    .action(async (path: string, _flags: unknown, command: Command) => {
      checkPath(path);
      const body = await ctx.connector.withClient(command, (client) => client.get(path));
      printResult(ctx.io, outputFormat(command, ctx.io), body);
    });
}
