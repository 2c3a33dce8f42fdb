// Values without jq (deployment images rarely carry it; cmd.exe has nothing like it):
// `--select A,B.C` keeps those properties, `--value B.C` prints one value as a script wants it.
// Paths are dotted as in `set`; a name that itself holds dots (`@odata.id`,
// `Members@odata.count`) is matched whole, and a whole number indexes an array
// (`Members.0.@odata.id`).
import { MissingPropertyError, UsageError } from '../errors.js';
import { isJsonObject } from '../redfish/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Splits and checks a dotted path before anything is sent. */
export function parsePropertyPath(text: string, option: string): string[] {
  const segments = text.split('.');
  if (text === '' || segments.some((s) => s.trim() === '')) {
    throw new UsageError(`${option} ${JSON.stringify(text)} is not a property path: dotted names with no empty parts, e.g. Oem.Hpe.PostState`);
  }
  return segments;
}

/** `--select A,B.C`: a comma-separated list of paths; the same path twice is refused. */
export function parseSelection(text: string): string[][] {
  const paths = text.split(',').map((p) => parsePropertyPath(p.trim(), '--select'));
  const seen = new Set<string>();
  for (const path of paths) {
    const key = path.join('.');
    if (seen.has(key)) throw new UsageError(`--select names ${key} twice`);
    seen.add(key);
  }
  return paths;
}

/** Where `segments` leads in `value`: the names matched (as they are in the JSON), and the value. */
function find(value: unknown, segments: readonly string[]): { names: (string | number)[]; value: unknown } | undefined {
  if (segments.length === 0) return { names: [], value };
  if (Array.isArray(value)) {
    const head = segments[0] as string;
    if (!/^(0|[1-9]\d*)$/.test(head) || Number(head) >= value.length) return undefined;
    const rest = find(value[Number(head)], segments.slice(1));
    return rest && { names: [Number(head), ...rest.names], value: rest.value };
  }
  if (value === null || typeof value !== 'object') return undefined;
  // The longest name first: `@odata.id` before a property `@odata` holding `id`.
  for (let take = segments.length; take >= 1; take--) {
    const name = segments.slice(0, take).join('.');
    if (!Object.hasOwn(value, name)) continue;
    const rest = find((value as Record<string, unknown>)[name], segments.slice(take));
    if (rest) return { names: [name, ...rest.names], value: rest.value };
  }
  return undefined;
}

/** One value: a string as its text (no quotes), anything else as JSON. */
export function formatValue(body: unknown, path: readonly string[], where: string): string {
  const hit = find(body, path);
  if (!hit) throw new MissingPropertyError(`${where} has no ${path.join('.')}`);
  return typeof hit.value === 'string' ? hit.value : JSON.stringify(hit.value);
}

/**
 * An object of just the selected properties, nested as in the resource (array items selected
 * by index become objects keyed by that index). A path that is absent is an error naming it:
 * a typo must not read as "the iLO has no such value".
 */
export function selectProperties(body: unknown, paths: readonly string[][], where: string): Record<string, Json> {
  const out: Record<string, Json> = {};
  const missing: string[] = [];
  for (const path of paths) {
    const hit = find(body, path);
    if (!hit) {
      missing.push(path.join('.'));
      continue;
    }
    let into: Record<string, Json> = out;
    hit.names.forEach((name, i) => {
      const key = String(name);
      if (i === hit.names.length - 1) {
        into[key] = structuredClone(hit.value) as Json;
        return;
      }
      const next = into[key];
      into = (isJsonObject(next) ? next : (into[key] = {})) as Record<string, Json>;
    });
  }
  if (missing.length > 0) throw new MissingPropertyError(`${where} has no ${missing.join(', ')}`);
  return out;
}
