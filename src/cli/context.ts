// What every command receives from program.ts (injected, so commands never reach for globals).
import type { Logger } from 'pino';
import type { Connector, Io } from './connection.js';
import type { Lifecycle } from './lifecycle.js';

export interface CommandContext {
  io: Io;
  connector: Connector;
  logger: (defaultLevel?: string) => Logger;
  lifecycle: Lifecycle;
  /** The process's environment (process.env in the bin): read by the few commands that need more than the connection. */
  env: NodeJS.ProcessEnv;
}
