// The transport layer's public surface.
export type { HttpMethod, Transport, TransportRequest, TransportResponse } from './transport.js';
export { HTTP_METHODS } from './transport.js';
export { openHttpsTransport, parseIloUrl, parsePin, DEFAULT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './https/https-transport.js';
export type { HttpsTransportOptions } from './https/https-transport.js';
export { openChifTransport } from './chif/chif-transport.js';
export type { ChifTransportOptions } from './chif/chif-transport.js';
export { openInbandTransport } from './chif/open-inband.js';
export { selectInband, INBAND_MODES } from './vnic/select.js';
export type { InbandMode, InbandSelection, SelectableLibrary } from './vnic/select.js';
export { appTokenLogin, ILOREST_APP_ACCOUNT, CONTENTION_RETRY_PAUSE_MS } from './vnic/app-token.js';
export { planVnic, openVnicTransport, DEFAULT_VNIC_URL } from './vnic/open-vnic.js';
export type { VnicPlan, VnicTrust, TlsMode } from './vnic/open-vnic.js';
export { findVnicLink } from './vnic/link.js';
export { checkVnicAddress } from './vnic/address.js';
export type { InterfaceAddress, VnicLink } from './vnic/link.js';
export { loadChifLibrary } from '../binding/index.js';
export type { ChifLibrary, AppAccountBinding, AppAccountManagement, ComparedAppId, DetectIloResult } from '../binding/index.js';
