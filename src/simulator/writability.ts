// Which properties a PATCH may set, from the data the simulator has: HPE's own JSON schemas when
// the tree carries them (`/redfish/v1/SchemaStore/en/<Type>.json`, as the iLO 5, 6 and 7 mockups
// do: each property says `"readonly": true|false`), else a documented list (README, simulator
// section). Everything here is a choice where HPE publishes no rule; see README.
import { keyOf } from './paths.js';
import type { JsonObject, ResourceStore } from './resource-store.js';

/** A schema's `properties` node, or undefined where no schema speaks. */
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

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * HPE's schema for a resource's `@odata.type` (`#ComputerSystem.v1_17_0.ComputerSystem` →
 * `SchemaStore/en/ComputerSystem.json`, or the versioned file name HPE uses for some types).
 */
export function schemaOf(store: ResourceStore, json: JsonObject): SchemaNode {
  const type = json['@odata.type'];
  const m = typeof type === 'string' ? /^#([A-Za-z0-9]+)\.(v\d+_\d+_\d+)\./.exec(type) : null;
  if (!m?.[1] || !m[2]) return undefined;
  for (const file of [`${m[1]}.json`, `${m[1]}.${m[2]}.json`]) {
    const schema = store.get(keyOf(`/redfish/v1/SchemaStore/en/${file}`));
    if (schema && isObject(schema.json.properties)) return schema.json;
  }
  return undefined;
}

/**
 * Whether `name` (at `depth` 0 = top level) may be written, and the schema node beneath it.
 * With a schema entry, `readonly: false` (or an object whose own properties the schema lists)
 * decides; without one, the documented list.
 */
export function writability(node: SchemaNode, name: string, depth: number): { writable: boolean; child: SchemaNode } {
  if (name.includes('@')) return { writable: false, child: undefined };
  const entry = node && isObject(node.properties) ? node.properties[name] : undefined;
  if (isObject(entry)) {
    if (entry.readonly === true) return { writable: false, child: undefined };
    if (isObject(entry.properties)) return { writable: true, child: entry };
    return { writable: entry.readonly === false, child: undefined };
  }
  if (READ_ONLY_ANYWHERE.has(name) || (depth === 0 && READ_ONLY_TOP.has(name))) return { writable: false, child: undefined };
  return { writable: true, child: undefined };
}
