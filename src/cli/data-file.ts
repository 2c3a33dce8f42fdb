// Files a command reads (a body, a batch, an apply file), and `--data-file FILE` (or `-`, standard
// input): read as UTF-8 text, errors naming the file and what it was for.
import { readFileSync } from 'node:fs';
import { parseJsonInput } from '../client/index.js';
import { InvalidInputError } from '../errors.js';
import type { Connector } from './connection.js';

/** FILE's text; `what` names it in the error (`cannot read the batch FILE: ENOENT`). */
export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The parsed JSON of FILE, or of standard input for `-`; errors name the file. */
export async function readDataFile(connector: Connector, file: string, purpose: string): Promise<unknown> {
  if (file === '-') return parseJsonInput(await connector.readStdin(`${purpose} (--data-file -)`), `${purpose} on standard input`);
  return parseJsonInput(readTextFile(file, '--data-file'), file);
}
