// The part of `--help` commander cannot derive: examples, the environment a command reads and
// its exit statuses. Kept with the command (so the help page, docs/cli.md, the man page and the
// completion scripts all come from the one command tree).
import type { Command } from 'commander';
import { EXIT_MEANINGS, type ExitStatus } from '../exit-codes.js';
import { CONNECTION_ENV, ENVIRONMENT, type EnvName } from './environment.js';

export interface CommandDoc {
  /** Shell lines; a line starting with `#` is a comment on the next. */
  examples: readonly string[];
  env: readonly EnvName[];
  exits: readonly ExitStatus[];
}

/** What any command that logs in to an iLO can end with. */
export const CONNECTED_EXITS: readonly ExitStatus[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 130];

const docs = new WeakMap<Command, CommandDoc>();

/** `doc` for a command that talks to an iLO: the connection's variables and exit statuses, plus `extra`. */
export function connected(examples: readonly string[], extra: { exits?: readonly ExitStatus[]; env?: readonly EnvName[] } = {}): CommandDoc {
  return { examples, env: [...CONNECTION_ENV, ...(extra.env ?? [])], exits: [...CONNECTED_EXITS, ...(extra.exits ?? [])].sort((a, b) => a - b) };
}

/** Attaches `doc` to `command` and to the end of its `--help`. */
export function document(command: Command, doc: CommandDoc): Command {
  docs.set(command, doc);
  command.addHelpText('after', `\n${helpSections(doc)}`);
  return command;
}

export function docOf(command: Command): CommandDoc | undefined {
  return docs.get(command);
}

/** `128+n` for the signal line: the table keys it by 130 (SIGINT). */
export function exitLabel(status: ExitStatus): string {
  return status === 130 ? '128+n' : String(status);
}

function helpSections(doc: CommandDoc): string {
  const width = (labels: readonly string[]) => Math.max(...labels.map((l) => l.length));
  const block = (title: string, rows: ReadonlyArray<readonly [string, string]>) => {
    const w = width(rows.map(([l]) => l));
    return `${title}:\n${rows.map(([l, text]) => `  ${l.padEnd(w)}  ${text}`).join('\n')}\n`;
  };
  const parts: string[] = [];
  if (doc.examples.length > 0) parts.push(`Examples:\n${doc.examples.map((l) => `  ${l.startsWith('#') ? l : `$ ${l}`}`).join('\n')}\n`);
  if (doc.env.length > 0) parts.push(block('Environment', doc.env.map((name) => [name, ENVIRONMENT[name]] as const)));
  parts.push(block('Exit status', doc.exits.map((s) => [exitLabel(s), EXIT_MEANINGS[s]] as const)));
  return parts.join('\n');
}
