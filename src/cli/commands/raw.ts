import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { checkMethod, checkNotSessionPost, checkPath, parseJsonInput, toRedfishError } from '../../client/index.js';
import { InvalidInputError, UsageError } from '../../errors.js';
import { parseJsonBody } from '../../session/index.js';
import type { CommandContext } from '../context.js';
import { readDataFile } from '../data-file.js';
import { outputFormat, printResult } from '../output.js';
import { printBody, refuseWithInclude, valueOptions, withValueOptions, type Shown } from './show-body.js';

type HttpMethod = ReturnType<typeof checkMethod>;

interface RawFlags {
  data?: string;
  dataFile?: string;
  include?: boolean;
}

/** Response headers never shown: they would carry secrets. */
const HIDDEN_HEADERS = new Set(['x-auth-token', 'set-cookie']);

export function rawCommand(ctx: CommandContext): Command {
  return withValueOptions(
    new Command('raw')
      .description('send any request; the answer on stdout (exit 6 when the iLO answers an error)')
      .argument('<method>', 'head, get, post, put, patch or delete')
      .argument('<path>', 'a Redfish path')
      .option('--data <json>', 'the JSON body')
      .option('--data-file <file>', 'read the JSON body from FILE, or from standard input with -')
      .option('--include', 'print the status and headers too'),
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
    await sendRaw(ctx, command, verb, path, body, flags.include ? 'include' : shown);
  });
}

/** Sends one request and shows its answer; an error status is exit 6 after the answer is shown. */
export async function sendRaw(ctx: CommandContext, command: Command, verb: HttpMethod, path: string, body: unknown, shown: Shown | 'include' | 'headers'): Promise<void> {
  const response = await ctx.connector.withClient(command, (client) => client.request(verb, path, { body }));
  const parsed = parseJsonBody(response.body);
  const shownBody = parsed ?? (response.body.byteLength > 0 ? Buffer.from(response.body).toString('utf8') : null);
  const format = outputFormat(command, ctx.io);
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => !HIDDEN_HEADERS.has(name)));
  if (shown === 'include') printResult(ctx.io, format, { status: response.status, headers, body: shownBody });
  else if (shown === 'headers') printResult(ctx.io, format, headers);
  // An error's envelope is shown whole: --select/--value name properties of the resource.
  else if (response.status >= 400) {
    if (shownBody !== null) printResult(ctx.io, format, shownBody);
  } else if (shownBody !== null || shown.kind !== 'whole') printBody(ctx, command, shownBody, shown, `${verb} ${path}`);
  if (response.status >= 400) throw toRedfishError(verb, path, response);
}

export function readBodyFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
