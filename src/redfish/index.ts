// Redfish knowledge that every side uses (cli, client, guardian, session, simulator): a leaf, importing nothing of ours.
export { asSchema, schemaPaths, schemaRefPath, writability } from './writability.js';
export type { SchemaNode } from './writability.js';
export { bodyText, dig, isJsonObject, parseJsonBody } from './json.js';
export { envelopeMessages, hasMessage } from './envelope.js';
export type { EnvelopeMessage } from './envelope.js';
export { DOCUMENTED_SESSIONS_PATH, SERVICE_ROOT, SESSION_SERVICE_PATH } from './paths.js';
export { hpeManager, hpeOem, isMySession, mySessionLink } from './hpe.js';
