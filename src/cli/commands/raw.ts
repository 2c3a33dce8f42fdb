import { Command, Option } from 'commander';
import { checkMethod, checkNotSessionPost, checkPath, followTask, parseJsonInput, startsTask, toRedfishError, type RedfishResponse } from '../../client/index.js';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { actionResult } from '../action-result.js';
import { readDataFile } from '../data-file.js';
import { CommandOutcome, EXIT_NOT_MATCHED } from '../exit-codes.js';
import { parseTimeLimit } from '../option-parsers.js';
import { outputFormat, printResult } from '../output.js';
import { viewResponse } from './response-view.js';
import { printBody, refuseWithInclude, valueOptions, withValueOptions, type Shown } from './show-body.js';

type HttpMethod = ReturnType<typeof checkMethod>;

interface RawFlags {
  data?: string;
  dataFile?: string;
  include?: boolean;
  /** true, or how long (ms) to follow a task for. */
  waitTask?: number | true;
}

const DEFAULT_TASK_WAIT_MS = 30 * 60_000;


export function rawCommand(ctx: CommandContext): Command {
  return withValueOptions(
    new Command('raw')
      .description('send any request; the answer on stdout (exit 6 when the iLO answers an error)')
      .argument('<method>', 'head, get, post, put, patch or delete')
      .argument('<path>', 'a Redfish path')
      .option('--data <json>', 'the JSON body')
      .option('--data-file <file>', 'read the JSON body from FILE, or from standard input with -')
      .option('--include', 'print the status and headers too')
      .addOption(new Option('--wait-task [limit]', 'an answer 202 with a task monitor: follow it over the same session and print the final answer (a failed task exits 6; exit 12 when the limit, default 30m, runs out)').argParser(parseTimeLimit)),
  ).action(async (method: string, path: string, flags: RawFlags & Record<string, unknown>, command: Command) => {
    // Everything is checked before the login: nothing half-validated is sent.
    const verb = checkMethod(method);
    checkPath(path);
    checkNotSessionPost(verb, path);
    const shown = valueOptions(flags);
    refuseWithInclude(shown, flags.include);
    if (flags.data !== undefined && flags.dataFile !== undefined) throw new UsageError('give the body with --data or --data-file, not both');
    let body: unknown;
    if (flags.data !== undefined) body = parseJsonInput(flags.data, '--data');
    if (flags.dataFile !== undefined) body = await readDataFile(ctx.connector, flags.dataFile, 'the request body');
    if (body !== undefined && !['POST', 'PATCH', 'PUT'].includes(verb)) throw new UsageError(`${verb} takes no body`);
    const waitMs = flags.waitTask === undefined ? undefined : flags.waitTask === true ? DEFAULT_TASK_WAIT_MS : flags.waitTask;
    await sendRaw(ctx, command, verb, path, body, flags.include ? 'include' : shown, waitMs);
  });
}

/** Sends one request and shows its answer; an error status is exit 6 after the answer is shown. */
export async function sendRaw(ctx: CommandContext, command: Command, verb: HttpMethod, path: string, body: unknown, shown: Shown | 'include' | 'headers', waitTaskMs?: number): Promise<void> {
  const tty = ctx.io.stderr.isTTY === true;
  const outcome = await ctx.connector.withClient(command, async (client): Promise<{ response: RedfishResponse; unfinished?: unknown }> => {
    const first = await client.request(verb, path, { body });
    if (waitTaskMs === undefined || !startsTask(first)) return { response: first };
    // The task is followed over the same session: its monitor is a resource of this session's iLO.
    const end = await followTask(client, first, path, {
      forMs: waitTaskMs,
      signal: ctx.lifecycle.signal,
      onProgress: (t) => tty && ctx.io.stderr.write(`\r\x1b[2Ktask: ${t.state ?? 'running'}${t.percent === null ? '' : ` ${t.percent}%`} (${Math.round(t.elapsedMs / 1000)} s)`),
    });
    if (tty) ctx.io.stderr.write('\n');
    return end.done ? { response: end.response } : { response: first, unfinished: end.lastTask };
  });
  if (outcome.unfinished !== undefined) {
    printResult(ctx.io, outputFormat(command, ctx.io), outcome.unfinished);
    throw new CommandOutcome(EXIT_NOT_MATCHED, 'the task did not end within --wait-task');
  }
  const response = outcome.response;
  const { headers, body: shownBody } = viewResponse(response);
  const format = outputFormat(command, ctx.io);
  if (shown === 'include') printResult(ctx.io, format, { status: response.status, headers, body: shownBody });
  else if (shown === 'headers') printResult(ctx.io, format, headers);
  // An error's envelope is shown whole: --select/--value name properties of the resource.
  else if (response.status >= 400) {
    if (shownBody !== null) printResult(ctx.io, format, shownBody);
  } else if (format === 'pretty' && shown.kind === 'whole' && actionResult(response.status, shownBody)) {
    printResult(ctx.io, format, actionResult(response.status, shownBody));
  } else if (shownBody !== null || shown.kind !== 'whole') printBody(ctx, command, shownBody, shown, `${verb} ${path}`);
  if (response.status >= 400) throw toRedfishError(verb, path, response);
}
