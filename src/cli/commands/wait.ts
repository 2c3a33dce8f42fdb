// `ilo-agent wait PATH key=value...`: poll one resource over one session until it holds those
// values (the same key=value forms as `set`), through an iLO reset; exit 0 when it does, 12 when
// --for ran out first. Scripts stop polling by hand with sleeps.
import { Command, Option } from 'commander';
import { buildDesired, checkPath, isPlainObject, parseAssignment, parseJsonInput, waitUntilMatches, type JsonObject } from '../../client/index.js';
import { InvalidInputError, UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { CommandOutcome, EXIT_NOT_MATCHED } from '../exit-codes.js';
import { parseTimeLimit } from '../option-parsers.js';
import { outputFormat, printResult } from '../output.js';

interface WaitFlags {
  for: number;
  interval: number;
  data?: string;
}

const DEFAULT_FOR_MS = 10 * 60_000;
const DEFAULT_INTERVAL_MS = 5_000;

export function waitCommand(ctx: CommandContext): Command {
  return new Command('wait')
    .description('poll a resource until it holds the given values (through an iLO reset); {matched, polls, seconds, current} on stdout; exit 12 when --for runs out')
    .argument('<path>', 'a Redfish path, e.g. /redfish/v1/Systems/1')
    .argument('[assignments...]', 'key=value as for set, e.g. PowerState=On Oem.Hpe.PostState=FinishedPost')
    .option('--data <json>', 'the values as a JSON object (key=value pairs apply on top)')
    // Not --timeout: that is the global limit of one request.
    .addOption(new Option('--for <duration>', 'how long to wait in all').argParser(parseTimeLimit).default(DEFAULT_FOR_MS, '10m'))
    .addOption(new Option('--interval <duration>', 'pause between one answer and the next request').argParser(parseTimeLimit).default(DEFAULT_INTERVAL_MS, '5s'))
    .action(async (path: string, assignments: string[], flags: WaitFlags, command: Command) => {
      // Everything is checked before the login: nothing half-validated is sent.
      checkPath(path);
      if (assignments.length === 0 && flags.data === undefined) throw new UsageError('nothing to wait for: give key=value pairs (e.g. PowerState=On) and/or --data JSON');
      let base: JsonObject | undefined;
      if (flags.data !== undefined) {
        const data = parseJsonInput(flags.data, '--data');
        if (!isPlainObject(data)) throw new InvalidInputError('--data must be a JSON object of the values to wait for, e.g. {"PowerState":"On"}');
        base = data;
      }
      const desired = buildDesired(base, assignments.map(parseAssignment));
      if (Object.keys(desired).length === 0) throw new InvalidInputError('nothing to wait for: --data is an empty object');

      const tty = ctx.io.stderr.isTTY === true;
      const log = ctx.logger();
      let troubled = false;
      const result = await ctx.connector.withClient(command, (client) =>
        waitUntilMatches(client, path, desired, {
          forMs: flags.for,
          intervalMs: flags.interval,
          signal: ctx.lifecycle.signal,
          onPoll: ({ elapsedMs, current, trouble }) => {
            if (trouble && !troubled) log.warn({ err: trouble }, 'the iLO does not answer (an iLO reset takes tens of seconds); still waiting');
            else if (!trouble && troubled) log.warn('the iLO answers again');
            troubled = trouble !== undefined;
            if (tty) ctx.io.stderr.write(`\r\x1b[2Kwait: ${Math.round(elapsedMs / 1000)} s of ${Math.round(flags.for / 1000)} s; ${trouble ? 'no answer' : JSON.stringify(current)}`);
          },
        }),
      );
      if (tty) ctx.io.stderr.write('\n');
      printResult(ctx.io, outputFormat(command, ctx.io), { matched: result.matched, polls: result.polls, seconds: Math.round(result.elapsedMs / 100) / 10, current: result.current });
      if (!result.matched) throw new CommandOutcome(EXIT_NOT_MATCHED, `${path} did not match within --for`);
    });
}
