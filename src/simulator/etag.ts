// The simulator's entity tags: a digest of the resource without its own `@odata.etag`, so that an
// unchanged resource keeps its tag and any change gives a new one. iLO 5/6/7 write them as 8 hex
// digits, iLO 5 before 1.40 in decimal (profiles.ts); always weak, `W/"…"`.
import { createHash } from 'node:crypto';
import type { JsonObject } from './resource-store.js';

export type EtagStyle = 'hex' | 'decimal';

/** The opaque part (no `W/`, no quotes). */
export function etagDigest(json: JsonObject, style: EtagStyle): string {
  const { '@odata.etag': _old, ...hashed } = json;
  void _old;
  const digest = createHash('sha1').update(JSON.stringify(hashed)).digest().readUInt32BE(0);
  return style === 'hex' ? digest.toString(16).toUpperCase().padStart(8, '0') : String(digest);
}

export function etagOf(json: JsonObject, style: EtagStyle): string {
  return `W/"${etagDigest(json, style)}"`;
}
