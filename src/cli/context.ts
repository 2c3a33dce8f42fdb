// What every command receives from program.ts (injected, so commands never reach for globals).
import type { Logger } from 'pino';
import type { Connector, Io } from './connection.js';
import type { Lifecycle } from './lifecycle.js';

export interface CommandContext {
  io: Io;
  connector: Connector;
  logger: (defaultLevel?: string) => Logger;
  lifecycle: Lifecycle;
}
