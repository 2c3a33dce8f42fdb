// The binding layer's public surface: the only door to koffi and HPE's library.
export { loadChifLibrary, candidatePaths, exitNow, useKoffiNativeModule } from './chif-library.js';
export { nativeCallsPending } from './native-calls.js';
export type { ChifLibrary, ChifHandle, ChifSizes } from './chif-binding.js';
export { peerUid } from './peer-credentials.js';
export { sendUnixDatagram } from './unix-datagram.js';
export { protectSecrets, refuseDebugSignal, type Protection } from './process-hardening.js';
export { formatSid, pipeServer, type PipeServer } from './pipe-server.js';
export { APP_ACCOUNT_SYMBOLS, APP_ACCOUNT_MANAGEMENT_SYMBOLS, bindAppAccount, bindAppAccountManagement, serialised, serialisedManagement, SerialQueue } from './app-account.js';
export type { AppAccountBinding, AppAccountManagement, ComparedAppId, DetectIloResult } from './app-account.js';
