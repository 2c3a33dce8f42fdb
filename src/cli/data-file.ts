// `--data-file FILE` (or `-`, standard input): a JSON body or desired state kept in a file.
import { readFileSync } from 'node:fs';
import { parseJsonInput } from '../client/index.js';
import { InvalidInputError } from '../errors.js';
import type { Connector } from './connection.js';

/** The parsed JSON of FILE, or of standard input for `-`; errors name the file. */
export async function readDataFile(connector: Connector, file: string, purpose: string): Promise<unknown> {
  if (file === '-') return parseJsonInput(await connector.readStdin(`${purpose} (--data-file -)`), `${purpose} on standard input`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read --data-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseJsonInput(text, file);
}
