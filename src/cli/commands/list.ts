import { Command } from 'commander';
import { checkPath, mapLimit } from '../../client/index.js';
import type { CommandContext } from '../context.js';
import { parseWholeNumber } from '../option-parsers.js';
import { outputFormat, printResult } from '../output.js';

export function listCommand(ctx: CommandContext): Command {
  return new Command('list')
    .description('the members of a collection (following paging); with --expand, each member\'s body')
    .argument('<collection>', 'a collection path, e.g. /redfish/v1/Systems')
    .option('--expand', 'GET each member and print the bodies')
    .option('--concurrency <n>', 'members fetched at once with --expand', parseWholeNumber(1, 32), 4)
    .action(async (path: string, flags: { expand?: boolean; concurrency: number }, command: Command) => {
      checkPath(path);
      const result = await ctx.connector.withClient(command, async (client) => {
        const members = await client.members(path);
        return flags.expand ? mapLimit(members, flags.concurrency, (member) => client.get(member)) : members;
      }, { maxConnections: flags.concurrency });
      printResult(ctx.io, outputFormat(command, ctx.io), result);
    });
}
