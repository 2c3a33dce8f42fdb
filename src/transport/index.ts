// The transport layer's public surface.
export type { HttpMethod, Transport, TransportRequest, TransportResponse } from './transport.js';
export { HTTP_METHODS } from './transport.js';
export { openHttpsTransport, parseIloUrl, DEFAULT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './https/https-transport.js';
export type { HttpsTransportOptions } from './https/https-transport.js';
export { openChifTransport } from './chif/chif-transport.js';
export type { ChifTransportOptions } from './chif/chif-transport.js';
export { openInbandTransport } from './chif/open-inband.js';
export { nativeCallsPending, exitNow, useKoffiNativeModule, protectSecrets, refuseDebugSignal } from '../binding/index.js';
