// PATCH as iLO merges it: only known, writable properties, each of the type it already has, and
// a value from the resource's own `<Property>@Redfish.AllowableValues` list where it publishes one
// (DMTF DSP0266: a value outside it is `PropertyValueNotInList`). Every refusal is collected, so
// one answer names them all, and nothing is applied when there is any (the caller's job).
import type { JsonObject } from './resource-store.js';
import { isJsonObject } from '../redfish/index.js';
import { writability, type SchemaNode } from './writability.js';

export type Fail = (registry: 'Base' | 'iLO', key: string, args: string[]) => void;

export interface MergeContext {
  fail: Fail;
  /** The schema a `$ref` names. */
  resolve: (ref: string) => SchemaNode;
}

/** Merges `changes` into a copy of `current` (null accepts any type; objects merge, arrays are replaced). */
export function mergePatch(current: JsonObject, changes: JsonObject, schema: SchemaNode, context: MergeContext, prefix = ''): JsonObject {
  const merged: JsonObject = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    const path = prefix + name;
    const rule = writability(schema, name, prefix === '' ? 0 : 1);
    if (!(name in current) || !rule.writable) {
      context.fail('iLO', 'PropertyNotWritableOrUnknown', [path]);
      continue;
    }
    const existing = current[name];
    const allowable = allowableValues(current, name);
    if (existing !== null && typeName(existing) !== typeName(value)) {
      context.fail('Base', 'PropertyValueTypeError', [JSON.stringify(value), path]);
    } else if (allowable && !allowable.some((allowed) => allowed === value)) {
      // The property's own name as argument, as for an action parameter (iLO's wording of a
      // nested path here is unverified).
      context.fail('Base', 'PropertyValueNotInList', [typeof value === 'string' ? value : JSON.stringify(value), name]);
    } else if (isObject(existing) && isObject(value)) {
      const child = rule.child ?? (rule.ref ? context.resolve(rule.ref) : undefined);
      merged[name] = mergePatch(existing, value, child, context, `${path}/`);
    } else {
      merged[name] = value;
    }
  }
  return merged;
}

/** `<name>@Redfish.AllowableValues` of an object, when it is a list. */
export function allowableValues(json: JsonObject | undefined, name: string): unknown[] | undefined {
  const list = json?.[`${name}@Redfish.AllowableValues`];
  return Array.isArray(list) ? list : undefined;
}

export function isObject(value: unknown): value is JsonObject {
  return isJsonObject(value);
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}
