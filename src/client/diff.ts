// Desired state against a resource, for idempotent settings (`ilo-agent set`): pure functions,
// no I/O. Only what was asked for matters: a desired object lists properties, nested objects
// are compared property by property (extra properties on the resource are ignored), anything
// else (strings, numbers, booleans, null, arrays) is compared whole, by value.
import { isJsonObject } from '../redfish/index.js';
import { InvalidInputError } from '../errors.js';
import { inexactMessage, inexactNumber } from './exact-numbers.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A property to set: its path (`['Boot', 'BootSourceOverrideTarget']`) and value. */
export interface Assignment {
  path: string[];
  value: JsonValue;
}

export interface Difference {
  /** True when the resource already holds every requested value. */
  matches: boolean;
  /** The smallest PATCH body that makes it so (only differing properties); `{}` when it matches. */
  patch: JsonObject;
  /** The requested properties as the resource holds them (absent when it lacks them). */
  before: JsonObject;
  /** Dotted paths of the properties that differ, in the order they were asked for. */
  differing: string[];
}

export function isPlainObject(value: unknown): value is JsonObject {
  return isJsonObject(value);
}

/** Own property only: a key such as `constructor` or `__proto__` is data, never inherited. */
function own(object: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Sets a property as data (`__proto__` included), never through a setter. */
function put(object: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Equality of JSON values: objects by their keys (any order), arrays element by element, numbers by value. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

/** Compares `actual` (the resource) with `desired`: what differs, and what the resource holds now. */
export function diffResource(actual: unknown, desired: JsonObject): Difference {
  const differing: string[] = [];
  const patch = diffObject(isPlainObject(actual) ? actual : {}, desired, '', differing);
  return { matches: differing.length === 0, patch, before: project(actual, desired), differing };
}

function diffObject(actual: JsonObject, desired: JsonObject, prefix: string, differing: string[]): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(desired)) {
    const want = desired[key] as JsonValue;
    const has = Object.hasOwn(actual, key);
    const have = own(actual, key);
    const path = `${prefix}${key}`;
    if (isPlainObject(want) && has && isPlainObject(have)) {
      const sub = diffObject(have, want, `${path}.`, differing);
      if (Object.keys(sub).length > 0) put(patch, key, sub);
    } else if (!has || !deepEqual(have, want)) {
      put(patch, key, want);
      differing.push(path);
    }
  }
  return patch;
}

/** A property `desired` names that the resource lacks, and the resource's nearest key at that level. */
export interface MissingProperty {
  path: string;
  /** Dotted path of a key of the resource that looks like a typo of it (case, up to 2 edits). */
  near?: string;
}

/**
 * The properties `desired` names that the resource does not have (dotted paths). Below a
 * property that is present but not an object nothing is looked for: that is a difference.
 */
export function missingProperties(actual: unknown, desired: JsonObject, prefix = ''): MissingProperty[] {
  if (!isPlainObject(actual)) return [];
  return Object.keys(desired).flatMap((key): MissingProperty[] => {
    const want = desired[key];
    if (Object.hasOwn(actual, key)) return isPlainObject(want) ? missingProperties(actual[key], want, `${prefix}${key}.`) : [];
    const near = nearestKey(key, Object.keys(actual));
    return [{ path: `${prefix}${key}`, ...(near === undefined ? {} : { near: `${prefix}${near}` }) }];
  });
}

/** The key closest to `key` (same letters in another case first, then at most 2 edits), if any. */
function nearestKey(key: string, keys: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = keys.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: { key: string; distance: number } | undefined;
  for (const k of keys) {
    if (Math.abs(k.length - key.length) > 2) continue;
    const distance = editDistance(lower, k.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { key: k, distance };
  }
  return best?.key;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/**
 * The part of `actual` that `desired` asks about: the same keys, nested objects as requested.
 * A property the resource lacks is left out; a non-object where an object was asked for is shown
 * as it is.
 */
export function project(actual: unknown, desired: JsonObject): JsonObject {
  const out: JsonObject = {};
  if (!isPlainObject(actual)) return out;
  for (const key of Object.keys(desired)) {
    if (!Object.hasOwn(actual, key)) continue;
    const want = desired[key];
    const have = actual[key] as JsonValue;
    put(out, key, isPlainObject(want) && isPlainObject(have) ? project(have, want) : structuredClone(have));
  }
  return out;
}

/**
 * `actual` with `patch` applied as Redfish applies a PATCH: objects merged property by
 * property, anything else (arrays included) replaced. For the would-be state of `set --check`.
 */
export function applyPatch(actual: unknown, patch: JsonObject): JsonObject {
  const out: JsonObject = {};
  if (isPlainObject(actual)) for (const key of Object.keys(actual)) put(out, key, actual[key] as JsonValue);
  for (const key of Object.keys(patch)) {
    const value = patch[key] as JsonValue;
    const have = own(out, key);
    put(out, key, isPlainObject(value) && isPlainObject(have) ? applyPatch(have, value) : structuredClone(value));
  }
  return out;
}

/**
 * Parses `key=value`: the key is a dotted path (`Boot.BootSourceOverrideTarget`), split at the
 * first `=`; the value is JSON when it parses as JSON (numbers, true/false/null, objects,
 * arrays, "quoted strings"), else the text itself (`Pxe`, `01`, the empty string).
 */
export function parseAssignment(text: string): Assignment {
  const at = text.indexOf('=');
  if (at < 0) throw new InvalidInputError(`expected key=value, got ${JSON.stringify(text)} (e.g. Boot.BootSourceOverrideTarget=Pxe)`);
  const key = text.slice(0, at);
  if (key === '') throw new InvalidInputError(`a property name is missing before "=" in ${JSON.stringify(text)}`);
  const path = key.split('.');
  if (path.some((segment) => segment.trim() === '')) {
    throw new InvalidInputError(`${JSON.stringify(key)} is not a property path: no empty parts, e.g. Boot.BootSourceOverrideTarget`);
  }
  const raw = text.slice(at + 1);
  let value: JsonValue;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    return { path, value: raw };
  }
  // A secret is text: Password=123456 is the string "123456" (and no iLO error message about a
  // number ever repeats it).
  if (isWriteOnly(path[path.length - 1] as string)) return { path, value: typeof value === 'string' ? value : raw };
  const inexact = inexactNumber(raw);
  if (inexact) throw new InvalidInputError(`${inexactMessage(text, inexact)}, e.g. ${key}='"${inexact.literal}"'`);
  return { path, value };
}

/**
 * Properties the iLO never shows (it answers null, as Redfish asks of write-only properties
 * such as ManagerAccount.Password): by name, any `…Password`, `…Passphrase` or `…Secret`, and
 * the SNMP and Kerberos keys. Their values are never printed.
 */
const WRITE_ONLY = /(?:password|passphrase|secret)$|^(?:authenticationkey|encryptionkey|kerberoskeytab)$/i;

export function isWriteOnly(name: string): boolean {
  return WRITE_ONLY.test(name);
}

/** Dotted paths of the write-only properties a desired object sets. */
export function writeOnlyPaths(desired: JsonObject, prefix = ''): string[] {
  return Object.keys(desired).flatMap((key) => {
    const value = desired[key];
    if (isWriteOnly(key)) return [`${prefix}${key}`];
    return isPlainObject(value) ? writeOnlyPaths(value, `${prefix}${key}.`) : [];
  });
}

/** A copy in which every write-only property holds null, as the iLO shows it. */
export function masked(object: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(object)) {
    const value = object[key] as JsonValue;
    put(out, key, isWriteOnly(key) ? null : maskedValue(value));
  }
  return out;
}

function maskedValue(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(maskedValue);
  return isPlainObject(value) ? masked(value) : value;
}

/**
 * The desired object: `base` (from --data) with each assignment applied on top. The same
 * property given twice with different values, or given both whole and in part (`Boot=…` and
 * `Boot.X=…`), is refused: one of them would silently lose.
 */
export function buildDesired(base: JsonObject | undefined, assignments: readonly Assignment[]): JsonObject {
  const seen = new Map<string, { path: string[]; value: JsonValue }>();
  for (const assignment of assignments) {
    const key = assignment.path.join('.');
    const earlier = seen.get(key);
    if (earlier && !deepEqual(earlier.value, assignment.value)) {
      const values = isWriteOnly(assignment.path[assignment.path.length - 1] as string) ? '' : ` (${JSON.stringify(earlier.value)} and ${JSON.stringify(assignment.value)})`;
      throw new InvalidInputError(`${key} is given twice with different values${values}`);
    }
    for (const other of seen.values()) {
      const [shorter, longer] = other.path.length < assignment.path.length ? [other.path, assignment.path] : [assignment.path, other.path];
      if (shorter.length < longer.length && shorter.every((segment, i) => segment === longer[i])) {
        throw new InvalidInputError(`${longer.join('.')} is given both on its own and inside ${shorter.join('.')}: give it one way`);
      }
    }
    seen.set(key, assignment);
  }
  const desired = base === undefined ? {} : (structuredClone(base) as JsonObject);
  for (const { path, value } of seen.values()) {
    let node = desired;
    for (const segment of path.slice(0, -1)) {
      let next = own(node, segment);
      if (!isPlainObject(next)) {
        next = {};
        put(node, segment, next);
      }
      node = next;
    }
    put(node, path[path.length - 1] as string, structuredClone(value));
  }
  return desired;
}
