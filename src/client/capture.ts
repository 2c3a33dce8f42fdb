// `capture`: the writable properties of live resources, as an `apply` file. What is writable is
// read from HPE's own schemas on that iLO (SchemaStore, per @odata.type), else the documented
// list (src/redfish/writability.ts): read-only and volatile-by-nature properties (status,
// links, counts, annotations) stay out, and so do write-only ones (passwords: never readable).
import { RedfishError } from '../errors.js';
import { asSchema, schemaPaths, schemaRefPath, writability, type SchemaNode } from '../redfish/index.js';
import type { RedfishClient } from './client.js';
import type { ApplyPlan, DesiredResource } from './apply-file.js';
import { isPlainObject, isWriteOnly, type JsonObject, type JsonValue } from './diff.js';

export interface CaptureResult {
  plan: ApplyPlan & { comment: string };
  /** Resources with nothing writable, with why. */
  skipped: { path: string; why: string }[];
}

export async function captureResources(client: RedfishClient, paths: readonly string[], options: { source: string; now?: Date; signal?: AbortSignal }): Promise<CaptureResult> {
  const schemas = new Map<string, Promise<SchemaNode>>();
  const refs = new Map<string, Promise<SchemaNode>>();
  const resolve = (ref: string) => {
    if (!refs.has(ref)) refs.set(ref, fetchSchema(client, [schemaRefPath(ref)], options.signal));
    return refs.get(ref) as Promise<SchemaNode>;
  };
  const resources: DesiredResource[] = [];
  const skipped: CaptureResult['skipped'] = [];
  for (const path of paths) {
    const body = await client.get<JsonObject>(path, { signal: options.signal });
    const type = typeof body['@odata.type'] === 'string' ? body['@odata.type'] : '';
    if (!schemas.has(type)) schemas.set(type, fetchSchema(client, schemaPaths(type), options.signal));
    const schema = await (schemas.get(type) as Promise<SchemaNode>);
    const properties = await writable(body, schema, 0, resolve);
    if (Object.keys(properties).length === 0) skipped.push({ path, why: 'no writable property' });
    else resources.push({ path, properties });
  }
  const when = (options.now ?? new Date()).toISOString();
  return { plan: { comment: `captured by ilo-agent from ${options.source} at ${when}`, resources }, skipped };
}

/** HPE's schema from the iLO itself; none (the documented list) when it serves none. */
async function fetchSchema(client: RedfishClient, paths: readonly string[], signal?: AbortSignal): Promise<SchemaNode> {
  for (const path of paths) {
    try {
      const schema = asSchema(await client.get(path, { signal }));
      if (schema) return schema;
    } catch (error) {
      if (!(error instanceof RedfishError && error.status === 404)) throw error;
    }
  }
  return undefined;
}

/**
 * The writable part of `value`; nulls stay out (nothing to bring another iLO to). Under a
 * schema, an object the schema does not describe (no properties, no `$ref` the iLO serves) is
 * left out: unknown is not writable. Without any schema, the documented list decides.
 */
async function writable(value: JsonObject, schema: SchemaNode, depth: number, resolve: (ref: string) => Promise<SchemaNode>): Promise<JsonObject> {
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    const v = value[key] as JsonValue;
    if (v === null || isWriteOnly(key)) continue;
    const w = writability(schema, key, depth);
    if (!w.writable) continue;
    let inner: JsonValue = v;
    if (isPlainObject(v)) {
      const child = w.child ?? (w.ref ? await resolve(w.ref) : undefined);
      if (schema && !child) continue;
      inner = await writable(v, child, depth + 1, resolve);
      if (Object.keys(inner).length === 0) continue;
    }
    Object.defineProperty(out, key, { value: inner, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
