// In-band: load HPE's CHIF library (or the one named) and open the transport over it.
import type { Logger } from 'pino';
import { loadChifLibrary } from '../../binding/index.js';
import type { Transport } from '../transport.js';
import { openChifTransport } from './chif-transport.js';

export interface InbandOptions {
  /** --chif-lib / ILO_CHIF_LIB; otherwise the search (binding's candidatePaths). */
  libraryPath?: string;
  credentials: { username: string; password: string } | null;
  timeoutMs?: number;
  logger?: Logger;
}

export async function openInbandTransport(options: InbandOptions): Promise<Transport> {
  // A candidate skipped as unsafe is a sign of a planted file: always said, with or without a logger.
  const warn = (message: string) => (options.logger ? options.logger.warn(message) : process.emitWarning(message));
  const library = await loadChifLibrary(options.libraryPath, { warn });
  return openChifTransport({ library, credentials: options.credentials, timeoutMs: options.timeoutMs, logger: options.logger });
}
