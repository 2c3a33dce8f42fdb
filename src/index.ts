// ilo-agent's library entry: one memory-only iLO session per use, always deleted.
export * from './errors.js';
export { openSession, withSession, IloClient, RedfishClient } from './client/index.js';
export type { ConnectOptions, ConnectionFacts, RedfishResponse, RequestOptions } from './client/index.js';
export type { Transport, TransportRequest, TransportResponse, HttpMethod, AppAccountBinding, InbandMode, InterfaceAddress } from './transport/index.js';
export { openHttpsTransport } from './transport/index.js';
