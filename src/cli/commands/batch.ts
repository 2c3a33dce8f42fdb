// `batch`: many requests over one session. JSON Lines in ({"method","path","body"?} per line),
// JSON Lines out, one per input line and in input order. The whole input is read and checked
// before the login, so an invalid line is known before anything is sent.
import { Command } from 'commander';
import { checkMethod, checkNotSessionPost, checkPath, parseJsonInput, toRedfishError, type RedfishResponse } from '../../client/index.js';
import { AbortedError, IloAgentError, InvalidInputError, PartialFailureError, UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { readTextFile } from '../data-file.js';
import { viewResponse, type ResponseView } from './response-view.js';

type HttpMethod = ReturnType<typeof checkMethod>;

interface BatchFlags {
  failFast?: boolean;
}

/** One non-empty input line: a request to send, or why it cannot be sent. */
export type BatchLine = { line: number; method: HttpMethod; path: string; body: unknown } | { line: number; invalid: string };

type Outcome = ResponseView | { line: number; error: { code: string; message: string } };

const KEYS = new Set(['method', 'path', 'body']);
const WITH_BODY: readonly HttpMethod[] = ['POST', 'PATCH', 'PUT'];
/** How many invalid lines a refusal lists (the rest are counted). */
const LISTED = 10;

export function batchCommand(ctx: CommandContext): Command {
  return new Command('batch')
    .description('send the requests of a JSON Lines file over one session; one JSON line per request on stdout, in order')
    .argument('[file]', 'JSON Lines, one {"method","path","body"?} per line; - or nothing: standard input')
    .option('--fail-fast', 'refuse the whole batch if a line is invalid (nothing sent), and stop at the first error status or failure')
    .action(async (file: string | undefined, flags: BatchFlags, command: Command) => {
      if (file === undefined && ctx.io.stdin.isTTY) {
        throw new UsageError('give a FILE of JSON Lines, or pipe them on standard input (batch - reads a terminal)');
      }
      const text = file === undefined || file === '-' ? await ctx.connector.readStdin('the batch (standard input)') : readTextFile(file, 'the batch');
      const lines = parseBatch(text);
      const invalid = lines.filter((l): l is Extract<BatchLine, { invalid: string }> => 'invalid' in l);
      if (invalid.length > 0 && (flags.failFast || invalid.length === lines.length)) {
        const listed = invalid.slice(0, LISTED).map((l) => `line ${l.line}: ${l.invalid}`);
        if (invalid.length > LISTED) listed.push(`and ${invalid.length - LISTED} more`);
        const why = flags.failFast ? '(--fail-fast)' : '(no valid line)';
        if (!flags.failFast) for (const l of invalid) await writeLine(ctx, errorLine(l.line, 'E_INPUT', l.invalid));
        throw new InvalidInputError(`the batch was refused, nothing was sent ${why}: ${listed.join('; ')}`);
      }
      if (lines.length === 0) return; // an empty batch: nothing to do, no login
      await sendBatch(ctx, command, lines, flags.failFast === true);
    });
}

/**
 * Sends the lines over one session, one result line each on stdout as it is known; an invalid
 * line is reported in its place. `failFast` stops at the first error status or failure.
 */
export async function sendBatch(ctx: CommandContext, command: Command, lines: readonly BatchLine[], failFast: boolean): Promise<void> {
  // Sequential, in input order, never in parallel: a batch of writes means what it says in
  // that order (a PATCH then the GET that checks it, a reset after the settings); in-band, the
  // CHIF channel carries one exchange at a time anyway, so parallel requests would only queue.
  const failures = await ctx.connector.withClient(command, async (client) => {
    const failed: string[] = [];
    for (const entry of lines) {
      if ('invalid' in entry) {
        failed.push(`line ${entry.line}: E_INPUT`);
        await writeLine(ctx, errorLine(entry.line, 'E_INPUT', entry.invalid));
        continue;
      }
      let response: RedfishResponse;
      try {
        response = await client.request(entry.method, entry.path, { body: entry.body });
      } catch (error) {
        // A stop (signal, closed stdout) ends the batch; anything that is not ours is a bug.
        if (!(error instanceof IloAgentError) || error instanceof AbortedError || ctx.lifecycle.signal.aborted) throw error;
        await writeLine(ctx, errorLine(entry.line, error.code, error.message));
        if (failFast) throw error;
        failed.push(`line ${entry.line}: ${error.code}`);
        continue;
      }
      await writeLine(ctx, viewResponse(response));
      if (response.status >= 400) {
        if (failFast) throw toRedfishError(entry.method, entry.path, response);
        failed.push(`line ${entry.line}: ${response.status}`);
      }
    }
    return failed;
  });
  if (failures.length > 0) {
    const listed = failures.slice(0, LISTED).join('; ') + (failures.length > LISTED ? `; and ${failures.length - LISTED} more` : '');
    throw new PartialFailureError(`${failures.length} of ${lines.length} lines did not succeed (${listed})`);
  }
}


/** Every non-empty line, numbered as an editor numbers it (from 1, empty lines counted). */
export function parseBatch(text: string): BatchLine[] {
  const out: BatchLine[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, i) => {
      if (raw.trim() === '') return;
      try {
        out.push({ line: i + 1, ...parseLine(raw) });
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        out.push({ line: i + 1, invalid: error.message });
      }
    });
  return out;
}

function parseLine(raw: string): { method: HttpMethod; path: string; body: unknown } {
  // A body number JSON would change (1e400 as null) is refused as --data's is.
  const request = parseJsonInput(raw, 'the line');
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new InvalidInputError('expected an object {"method","path","body"?}');
  }
  const fields = request as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) throw new InvalidInputError(`unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected method, path, body)`);
  if (typeof fields.method !== 'string') throw new InvalidInputError('"method" is required: one of get, head, post, put, patch, delete');
  if (typeof fields.path !== 'string') throw new InvalidInputError('"path" is required, e.g. "/redfish/v1/Systems/1"');
  const method = checkMethod(fields.method);
  const path = checkPath(fields.path);
  checkNotSessionPost(method, path);
  const hasBody = Object.hasOwn(fields, 'body');
  if (hasBody && !WITH_BODY.includes(method)) throw new InvalidInputError(`${method} takes no body`);
  return { method, path, body: hasBody ? fields.body : undefined };
}

function errorLine(line: number, code: string, message: string): Outcome {
  return { line, error: { code, message } };
}

/**
 * Writes one result line as soon as it is known. When the reader is slower than the iLO, waits
 * for the pipe to drain rather than holding a large batch's answers in memory; a stop (the
 * reader went away: EPIPE) ends the wait.
 */
async function writeLine(ctx: CommandContext, value: Outcome): Promise<void> {
  const { stdout } = ctx.io;
  if (stdout.write(`${JSON.stringify(value)}\n`)) return;
  const signal = ctx.lifecycle.signal;
  if (signal.aborted) throw signal.reason;
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      stdout.off('drain', done);
      signal.removeEventListener('abort', stopped);
      resolve();
    };
    const stopped = () => {
      stdout.off('drain', done);
      reject(signal.reason as Error);
    };
    stdout.on('drain', done);
    signal.addEventListener('abort', stopped, { once: true });
  });
}
