// ilorest's raw commands, for the people who type them: `rawget PATH`, `rawhead PATH`,
// `rawdelete PATH`, and `rawpatch|rawpost|rawput FILE` where FILE maps paths to bodies as
// ilorest's does ({"/redfish/v1/Systems/1": {"AssetTag": "x"}}). Reads answer as `get`/`raw`;
// a file's requests go over one session, one result line each, as `batch --fail-fast` shows them.
import { Command } from 'commander';
import { checkNotSessionPost, checkPath, parseJsonInput } from '../../client/index.js';
import { InvalidInputError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { sendBatch, type BatchLine } from './batch.js';
import { readTextFile } from '../data-file.js';
import { sendRaw } from './raw.js';
import { valueOptions, withValueOptions } from './show-body.js';

export function rawAliasCommands(ctx: CommandContext): Command[] {
  const rawget = withValueOptions(
    new Command('rawget')
      .description('ilorest\'s rawget: GET a path, the body on stdout (as `get`)')
      .argument('<path>', 'a Redfish path')
      .option('--expand', 'ask for the members too (?$expand=., as ilorest does)'),
  ).action(async (path: string, flags: Record<string, unknown>, command: Command) => {
    checkPath(path);
    const shown = valueOptions(flags);
    const target = flags.expand ? `${path}${path.includes('?') ? '&' : '?'}$expand=.` : path;
    await sendRaw(ctx, command, 'GET', checkPath(target), undefined, shown);
  });
  const rawhead = new Command('rawhead')
    .description('ilorest\'s rawhead: HEAD a path, the answer\'s headers on stdout')
    .argument('<path>', 'a Redfish path')
    .action(async (path: string, _flags: unknown, command: Command) => sendRaw(ctx, command, 'HEAD', checkPath(path), undefined, 'headers'));
  const rawdelete = new Command('rawdelete')
    .description('ilorest\'s rawdelete: DELETE a path; the answer on stdout')
    .argument('<path>', 'a Redfish path')
    .action(async (path: string, _flags: unknown, command: Command) => sendRaw(ctx, command, 'DELETE', checkPath(path), undefined, { kind: 'whole' }));
  const writers = (['POST', 'PUT', 'PATCH'] as const).map((verb) =>
    new Command(`raw${verb.toLowerCase()}`)
      .description(`ilorest's raw${verb.toLowerCase()}: ${verb} each body of FILE to its path, in file order, over one session; one result line each (stops at the first error, exit 6)`)
      .argument('<file>', 'JSON: {"/redfish/v1/...": {body}, ...}; - reads standard input')
      .action(async (file: string, _flags: unknown, command: Command) => {
        const text = file === '-' ? await ctx.connector.readStdin(`the raw${verb.toLowerCase()} file (standard input)`) : readTextFile(file, 'the file');
        await sendBatch(ctx, command, requestsOf(text, verb, file === '-' ? 'standard input' : file), true);
      }),
  );
  return [rawget, rawhead, rawdelete, ...writers];
}

/** ilorest's {path: body} file as requests, all checked before anything is sent. */
export function requestsOf(text: string, method: 'POST' | 'PUT' | 'PATCH', source: string): BatchLine[] {
  const value = parseJsonInput(text.replace(/^\uFEFF/, ''), source);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError(`${source} must be a JSON object of paths and bodies, e.g. {"/redfish/v1/Systems/1": {"AssetTag": "rack-42"}}`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw new InvalidInputError(`${source} holds no request: give at least one "path": {body}`);
  return entries.map(([path, body], i) => {
    try {
      checkPath(path);
      checkNotSessionPost(method, path);
    } catch (error) {
      throw new InvalidInputError(`${source}, entry ${i + 1}: ${(error as Error).message}; nothing was sent`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new InvalidInputError(`${source}, entry ${i + 1} (${path}): the body must be a JSON object; nothing was sent`);
    }
    return { line: i + 1, method, path, body };
  });
}
