// The simulator's side of writability: finding a resource's schema in its own tree. The rule itself
// is src/redfish/writability.ts, shared with `capture`. See README (simulator section) for the choices.
import { asSchema, schemaPaths, schemaRefPath, type SchemaNode } from '../redfish/index.js';
import { keyOf } from './paths.js';
import type { JsonObject, ResourceStore } from './resource-store.js';

export { writability, type SchemaNode } from '../redfish/index.js';

/** HPE's schema for a resource's `@odata.type`, from the tree's SchemaStore. */
export function schemaOf(store: ResourceStore, json: JsonObject): SchemaNode {
  for (const path of schemaPaths(json['@odata.type'])) {
    const schema = asSchema(store.get(keyOf(path))?.json);
    if (schema) return schema;
  }
  return undefined;
}

/** The schema a `$ref` names, from the tree's SchemaStore (none: the documented list applies). */
export function schemaAt(store: ResourceStore, ref: string): SchemaNode {
  return asSchema(store.get(keyOf(schemaRefPath(ref)))?.json);
}
