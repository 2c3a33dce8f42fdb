// Redfish knowledge that both sides use (the client and the simulator): a leaf, importing nothing of ours.
export { asSchema, schemaPaths, schemaRefPath, writability } from './writability.js';
export type { SchemaNode } from './writability.js';
