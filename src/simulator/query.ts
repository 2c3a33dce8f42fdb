// OData query options on GET as HPE documents iLO 5 and later implementing them ("OData query
// options" in HPE's iLO Redfish documentation, servermanagementportal.ext.hpe.com):
// - `$expand=.`, `$expand=*` and `$expand=<either>($levels=n)` are one and the same: the links
//   among the resource's own properties and in `Oem/Hpe` are replaced by the resources they name,
//   one level only whatever n, never those under `Links`. Other forms (`~`) are not implemented.
// - `only`: on a collection with exactly one member, that member; ignored otherwise.
// - `$filter` on collections: `<property> <eq|ne|gt|ge|lt|le> <literal>` (a property path with
//   `.` or `/`, a literal in single quotes, a number, true, false or null); the answer lists the
//   matching members in full, as HPE's examples show, with their count.
// - `$top` / `$skip` on collections: a slice of the members, counted as returned.
// - `$select=A,B/C`: those properties, with `@odata.context`, `@odata.id`, `@odata.type`.
// Options iLO does not implement are "silently discarded" (HPE's words), and so are these where
// they do not apply (`$filter` on a single resource).
import { isObject } from './patch.js';
import type { JsonObject } from './resource-store.js';

export interface QueryOptions {
  expand: boolean;
  only: boolean;
  select?: string[][];
  filter?: Filter;
  top?: number;
  skip?: number;
}

interface Filter {
  path: string[];
  op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
  value: unknown;
}

/** A query option whose value cannot be read: iLO's Base `QueryParameterValueFormatError` (value, option). */
export class QueryError extends Error {
  constructor(
    readonly value: string,
    readonly option: string,
  ) {
    super(`${option}=${value}`);
  }
}

/** The options of a request target (undefined when there are none that the simulator acts on). */
export function parseQuery(target: string): QueryOptions | undefined {
  const cut = target.indexOf('?');
  if (cut < 0) return undefined;
  const params = new URLSearchParams(target.slice(cut + 1).replace(/#.*$/, ''));
  const expand = params.get('$expand');
  const options: QueryOptions = { expand: expand !== null && /^(\.|\*)(\(\$levels=\d+\))?$|^\(\$levels=\d+\)$/.test(expand.trim()), only: params.has('only') };
  const select = params.get('$select');
  if (select !== null) options.select = select.split(',').map((p) => p.trim().split('/').filter((s) => s.length > 0)).filter((p) => p.length > 0);
  const filter = params.get('$filter');
  if (filter !== null) options.filter = parseFilter(filter);
  for (const name of ['$top', '$skip'] as const) {
    const value = params.get(name);
    if (value === null) continue;
    if (!/^\d+$/.test(value.trim())) throw new QueryError(value, name);
    options[name === '$top' ? 'top' : 'skip'] = Number(value);
  }
  const acts = options.expand || options.only || options.select || options.filter || options.top !== undefined || options.skip !== undefined;
  return acts ? options : undefined;
}

function parseFilter(text: string): Filter {
  const m = /^\s*([A-Za-z0-9_@#.\/]+)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$/.exec(text);
  if (!m?.[1] || !m[2] || m[3] === undefined) throw new QueryError(text, '$filter');
  const literal = m[3];
  let value: unknown;
  if (/^'(?:[^']|'')*'$/.test(literal)) value = literal.slice(1, -1).replaceAll("''", "'");
  else if (/^-?\d+(\.\d+)?$/.test(literal)) value = Number(literal);
  else if (literal === 'true' || literal === 'false' || literal === 'null') value = JSON.parse(literal);
  else throw new QueryError(text, '$filter');
  return { path: propertyPath(m[1]), op: m[2] as Filter['op'], value };
}

/** `Oem.Hpe.Severity` or `Oem/Hpe/Severity`; `@odata.id` stays one name. */
function propertyPath(text: string): string[] {
  const parts = text.split(text.includes('/') ? '/' : '.').filter((s) => s.length > 0);
  const out: string[] = [];
  for (const part of parts) {
    const last = out.at(-1);
    if (!text.includes('/') && last !== undefined && /^(?:.*)?@odata$/.test(last)) out[out.length - 1] = `${last}.${part}`;
    else out.push(part);
  }
  return out;
}

/** What a GET of a link gives, or undefined when it gives nothing (the link then stays a link). */
export type Fetch = (uri: string) => JsonObject | undefined;

/**
 * The answer to a GET of `json` with `options`. `only` may answer another resource (the member),
 * which is why the caller gets the JSON back rather than a patch to it.
 */
export function applyQuery(json: JsonObject, options: QueryOptions, fetch: Fetch): JsonObject {
  const members = Array.isArray(json.Members) ? json.Members : undefined;
  let out = json;
  if (options.only && members?.length === 1) {
    const member = linkOf(members[0]);
    const resolved = member ? fetch(member) : undefined;
    if (resolved) out = resolved;
  } else if (members) {
    let list = members;
    if (options.filter) {
      const filter = options.filter;
      list = list.map((m) => resolve(m, fetch)).filter((m) => isObject(m) && compare(valueAt(m, filter.path), filter));
    }
    if (options.skip !== undefined) list = list.slice(options.skip);
    if (options.top !== undefined) list = list.slice(0, options.top);
    if (list !== members) out = { ...out, Members: list, 'Members@odata.count': list.length };
  }
  if (options.expand) out = expand(out, fetch);
  if (options.select) out = select(out, options.select);
  return out;
}

/** One level: the resource's own links (in arrays too) and those in Oem/Hpe, never under Links. */
function expand(json: JsonObject, fetch: Fetch): JsonObject {
  const level = (object: JsonObject): JsonObject => {
    const out: JsonObject = {};
    for (const [name, value] of Object.entries(object)) {
      if (name === 'Links' || name === 'Oem') out[name] = value;
      else out[name] = Array.isArray(value) ? value.map((v) => resolve(v, fetch)) : resolve(value, fetch);
    }
    return out;
  };
  const out = level(json);
  const oem = json.Oem;
  if (isObject(oem) && isObject(oem.Hpe)) out.Oem = { ...oem, Hpe: level(oem.Hpe) };
  return out;
}

/** A link (`{"@odata.id": …}` and nothing else) replaced by what it names; anything else as is. */
function resolve(value: unknown, fetch: Fetch): unknown {
  const uri = linkOf(value);
  if (!uri) return value;
  const resolved = fetch(uri);
  if (!resolved) return value;
  // HPE's examples show expanded members without their own @odata.etag.
  const { '@odata.etag': _etag, ...rest } = resolved;
  void _etag;
  return rest;
}

function linkOf(value: unknown): string | undefined {
  return isObject(value) && Object.keys(value).length === 1 && typeof value['@odata.id'] === 'string' ? value['@odata.id'] : undefined;
}

function select(json: JsonObject, paths: string[][]): JsonObject {
  const out: JsonObject = {};
  for (const name of ['@odata.context', '@odata.id', '@odata.type']) if (name in json) out[name] = json[name];
  for (const path of paths) copyPath(json, out, path);
  return out;
}

function copyPath(from: JsonObject, to: JsonObject, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !(head in from)) return;
  const value = from[head];
  if (rest.length === 0 || !isObject(value)) {
    if (rest.length === 0) to[head] = value;
    return;
  }
  const inner = isObject(to[head]) ? (to[head] as JsonObject) : {};
  copyPath(value, inner, rest);
  if (Object.keys(inner).length > 0) to[head] = inner;
}

function valueAt(json: JsonObject, path: string[]): unknown {
  let value: unknown = json;
  for (const name of path) value = isObject(value) ? value[name] : undefined;
  return value;
}

function compare(actual: unknown, filter: Filter): boolean {
  const { op, value } = filter;
  if (op === 'eq') return actual === value;
  if (op === 'ne') return actual !== value;
  if (typeof actual !== typeof value || (typeof actual !== 'number' && typeof actual !== 'string')) return false;
  const a = actual as number | string;
  const b = value as number | string;
  return op === 'gt' ? a > b : op === 'ge' ? a >= b : op === 'lt' ? a < b : a <= b;
}
