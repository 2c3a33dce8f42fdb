// Which properties of a resource a PATCH may set, from HPE's own JSON schemas where the iLO serves
// them (`/redfish/v1/SchemaStore/en/<Type>.json`: each property says `"readonly": true|false`),
// else a documented list. One rule for the simulator (which refuses the rest, as iLO does) and for
// `capture` (which keeps only what `apply` may write). Imports nothing outside src/redfish/: a leaf.
import { isJsonObject } from './json.js';

type JsonObject = { [key: string]: unknown };

/** A schema node that has `properties`, or undefined where no schema speaks. */
export type SchemaNode = JsonObject | undefined;

/** Top-level properties no PATCH may set when no schema says otherwise (DMTF marks them read-only). */
const READ_ONLY_TOP = new Set([
  'Id',
  'Name',
  'Description',
  'Actions',
  'Links',
  'Members',
  'Members@odata.count',
  'UUID',
  'SerialNumber',
  'Model',
  'Manufacturer',
  'PartNumber',
  'SKU',
  'PowerState',
  'BiosVersion',
  'FirmwareVersion',
]);
/** Read-only at any depth. */
const READ_ONLY_ANYWHERE = new Set(['Status', 'Links', 'Actions']);

const isObject = isJsonObject;

/**
 * Where HPE serves the schema of an `@odata.type` (`#ComputerSystem.v1_17_0.ComputerSystem` →
 * `ComputerSystem.json`, or the versioned name HPE uses for some types), most likely first.
 */
export function schemaPaths(odataType: unknown): string[] {
  const m = typeof odataType === 'string' ? /^#([A-Za-z0-9]+)\.(v\d+_\d+_\d+)\./.exec(odataType) : null;
  if (!m?.[1] || !m[2]) return [];
  return [`/redfish/v1/SchemaStore/en/${m[1]}.json`, `/redfish/v1/SchemaStore/en/${m[1]}.${m[2]}.json`];
}

/** The schema's root node when it is one (it lists `properties`). */
export function asSchema(json: unknown): SchemaNode {
  return isObject(json) && isObject(json.properties) ? json : undefined;
}

/**
 * Whether `name` (at `depth` 0 = top level) may be written, and the schema node beneath it.
 * With a schema entry, `readonly: false` (or an object whose own properties the schema lists)
 * decides; without one, the documented list. Annotations (`X@Redfish.AllowableValues`,
 * `@odata.id`) never are.
 */
export function writability(node: SchemaNode, name: string, depth: number): { writable: boolean; child: SchemaNode; ref?: string } {
  if (name.includes('@')) return { writable: false, child: undefined };
  const entry = node && isObject(node.properties) ? node.properties[name] : undefined;
  if (isObject(entry)) {
    if (entry.readonly === true) return { writable: false, child: undefined };
    if (isObject(entry.properties)) return { writable: true, child: entry };
    // Another schema describes what is below (Oem.Hpe → HpeComputerSystemExt.json): the caller
    // fetches it (schemaRefPath) and judges the children by it.
    const ref = typeof entry.$ref === 'string' ? /^([A-Za-z0-9_.]+\.json)#?$/.exec(entry.$ref)?.[1] : undefined;
    if (ref) return { writable: true, child: undefined, ref };
    return { writable: entry.readonly === false, child: undefined };
  }
  if (READ_ONLY_ANYWHERE.has(name) || (depth === 0 && READ_ONLY_TOP.has(name))) return { writable: false, child: undefined };
  return { writable: true, child: undefined };
}

/** Where the iLO serves a schema a `$ref` names (a whole file: `HpeComputerSystemExt.json#`). */
export function schemaRefPath(ref: string): string {
  return `/redfish/v1/SchemaStore/en/${ref}`;
}
