// The file `apply` reads and `capture` writes: resources and their desired properties, in order.
//   {"resources": [{"path": "/redfish/v1/Systems/1", "properties": {"AssetTag": "rack-42"}}, ...]}
// The whole file is checked before any login: a mistake in the last entry sends nothing.
import { InvalidInputError } from '../errors.js';
import { isPlainObject, writeOnlyPaths, type JsonObject } from './diff.js';
import { checkPath, parseJsonInput } from './paths.js';

export interface DesiredResource {
  path: string;
  properties: JsonObject;
}

export interface ApplyPlan {
  resources: DesiredResource[];
}

const TOP_KEYS = new Set(['resources', 'comment']);
const ENTRY_KEYS = new Set(['path', 'properties', 'comment']);

export function parseApplyFile(text: string, source: string): ApplyPlan {
  const value = parseJsonInput(text.replace(/^\uFEFF/, ''), source);
  if (!isPlainObject(value)) throw new InvalidInputError(`${source} must be a JSON object {"resources": [{"path", "properties"}, ...]}`);
  const unknown = Object.keys(value).filter((k) => !TOP_KEYS.has(k));
  if (unknown.length > 0) throw new InvalidInputError(`${source}: unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected "resources")`);
  const list = value.resources;
  if (!Array.isArray(list) || list.length === 0) throw new InvalidInputError(`${source}: "resources" must be a non-empty array of {"path", "properties"}`);
  const seen = new Map<string, number>();
  const problems: string[] = [];
  const resources: DesiredResource[] = [];
  list.forEach((entry, i) => {
    const where = `resource ${i + 1}`;
    if (!isPlainObject(entry)) return void problems.push(`${where}: expected {"path", "properties"}`);
    const extra = Object.keys(entry).filter((k) => !ENTRY_KEYS.has(k));
    if (extra.length > 0) problems.push(`${where}: unknown key ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
    const path = entry.path;
    if (typeof path !== 'string') return void problems.push(`${where}: "path" is required`);
    try {
      checkPath(path);
    } catch (error) {
      return void problems.push(`${where}: ${(error as Error).message}`);
    }
    // Paths are case-insensitive on iLO, and a trailing slash is the same resource.
    const key = path.replace(/\/+$/, '').toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) problems.push(`${where}: ${path} is also resource ${earlier}: give each resource once`);
    seen.set(key, i + 1);
    const properties = entry.properties;
    if (!isPlainObject(properties) || Object.keys(properties).length === 0) return void problems.push(`${where} (${path}): "properties" must be a non-empty object`);
    const secret = writeOnlyPaths(properties);
    // The iLO never shows them, so they never compare equal: each run would "change" them.
    if (secret.length > 0) problems.push(`${where} (${path}): ${secret.join(', ')} is write-only (the iLO never shows it): apply cannot tell whether it is set; use set for it`);
    resources.push({ path, properties });
  });
  if (problems.length > 0) throw new InvalidInputError(`${source} was refused, nothing was sent: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`);
  return { resources };
}
