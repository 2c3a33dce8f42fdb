// `ilo-agent crawl [root]`: the whole Redfish tree through one session, as one JSON object
// {path: body} on stdout or in --out FILE. A progress line on stderr when it is a terminal.
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { checkPath, crawl, DEFAULT_MAX_RESOURCES } from '../../client/index.js';
import { InvalidInputError, PartialFailureError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { CommandOutcome, EXIT_PARTIAL } from '../exit-codes.js';
import { parseWholeNumber } from '../option-parsers.js';

export function crawlCommand(ctx: CommandContext): Command {
  return new Command('crawl')
    .description('walk the Redfish tree from root, following every @odata.id once; one JSON object {path: body}')
    .argument('[root]', 'where to start', '/redfish/v1')
    .option('--concurrency <n>', 'requests at once (in-band the channel is serial anyway)', parseWholeNumber(1, 64), 4)
    .option('--out <file>', 'write the result to FILE instead of stdout')
    .option('--max-resources <n>', 'stop following links once the result holds N entries (exit 11)', parseWholeNumber(1), DEFAULT_MAX_RESOURCES)
    .option('--allow-partial', 'exit 0 although resources failed (each is still named on stderr and recorded in the output)')
    .action(async (root: string, flags: { concurrency: number; out?: string; maxResources: number; allowPartial?: boolean }, command: Command) => {
      checkPath(root);
      let limited = false;
      const failed: Array<{ path: string; message: string }> = [];
      const tty = ctx.io.stderr.isTTY === true;
      const started = Date.now();
      let last = 0;
      const progress = (done: number, discovered: number) => {
        const now = Date.now();
        if (!tty || (now - last < 100 && done !== discovered)) return;
        last = now;
        const rate = done / Math.max((now - started) / 1000, 0.001);
        ctx.io.stderr.write(`\r\x1b[2Kcrawl: ${done}/${discovered} resources, ${rate.toFixed(0)}/s`);
      };
      const result = await ctx.connector.withClient(command, (client) => crawl(client, root, { concurrency: flags.concurrency, onProgress: progress, maxResources: flags.maxResources, onLimit: () => (limited = true), onFailure: (path, { message }) => failed.push({ path, message }) }), { maxConnections: flags.concurrency });
      if (tty) ctx.io.stderr.write('\n');
      const text = `${JSON.stringify(result)}\n`;
      if (flags.out) {
        try {
          writeFileSync(flags.out, text);
        } catch (error) {
          throw new InvalidInputError(`cannot write --out ${flags.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        }
      } else {
        ctx.io.stdout.write(text);
      }
      // A failed resource is an entry shaped {"error": …}, which an iLO body can be too: it must not
      // pass unseen. Each is named, then the count; exit 6 unless --allow-partial (an error outranks
      // the cut of --max-resources, exit 11).
      for (const { path, message } of failed) ctx.io.stderr.write(`ilo-agent: crawl: ${path}: ${message}\n`);
      // Partial output must not pass for a whole tree (an endless one would otherwise fill memory).
      if (limited) ctx.io.stderr.write(`ilo-agent: crawl: stopped following links at ${flags.maxResources} resources (--max-resources); the output is partial\n`);
      if (failed.length > 0) {
        const summary = `crawl: ${failed.length} of ${Object.keys(result).length} resources failed (each recorded in the output as {"error": …})`;
        if (!flags.allowPartial) throw new PartialFailureError(`${summary}; --allow-partial exits 0 for such a result`);
        ctx.io.stderr.write(`ilo-agent: ${summary}\n`);
      }
      if (limited) throw new CommandOutcome(EXIT_PARTIAL, 'crawl stopped at --max-resources');
    });
}
