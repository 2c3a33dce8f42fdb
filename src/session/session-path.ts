// What may be trusted in a session's URI: a clean path, a Sessions collection, one session of it,
// and a Sessions listing read with those rules. Shared by the session (its login's answer) and the
// guardian (the listings it reads).
import { DOCUMENTED_SESSIONS_PATH, isJsonObject, mySessionLink, parseJsonBody } from '../redfish/index.js';
import type { TransportResponse } from '../transport/index.js';

/** RFC 3986 path characters (pchar and "/"), with every "%" starting a two-digit escape. */
const CLEAN_PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})+$/;
/** Escapes that a server decodes into a separator or a dot segment, and NUL. */
const ENCODED_SEPARATOR = /%(?:2f|5c|2e|00)/i;
const ABSOLUTE_URL = /^https?:\/\/[^/?#\\]*(\/[^?#]*)?$/i;

/**
 * A path that goes nowhere but where it says: absolute, no authority (`//host`), no dot segment,
 * no encoded separator or dot, no query or fragment, nothing outside RFC 3986's path characters.
 */
export function isCleanPath(path: string): boolean {
  if (!path.startsWith('/') || path.startsWith('//') || !CLEAN_PATH.test(path) || ENCODED_SEPARATOR.test(path)) return false;
  return !path.split('/').some((segment) => segment === '.' || segment === '..');
}

/** A Sessions collection as a service root may name it: a clean path under /redfish/v1 ending in /Sessions. */
export function isSessionsCollection(path: string): boolean {
  const bare = path.replace(/\/$/, '');
  return isCleanPath(bare) && /^\/redfish\/v1\/(?:[^/]+\/)*sessions$/i.test(bare) && !bare.includes('//');
}

/**
 * The path of one session of `collections` (compared case-insensitively, the iLO's spelling kept),
 * taken from a Location header or an `@odata.id`; null when it is anything else. iLO sends an
 * absolute URL with its own address, which breaks clients that reached it by another name (a
 * port-forward, IPv6: python-ilorest-library#114, #176): only the path of an http(s) URL is
 * kept, and requests always go to the configured iLO, so the token never goes to another host.
 */
export function sessionPathOf(value: unknown, collections: readonly string[] = [DOCUMENTED_SESSIONS_PATH]): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  const path = trimmed.startsWith('/') ? trimmed : ABSOLUTE_URL.exec(trimmed)?.[1];
  if (!path || !isCleanPath(path)) return null;
  const bare = path.endsWith('/') ? path.slice(0, -1) : path;
  const cut = bare.lastIndexOf('/');
  const collection = bare.slice(0, cut).toLowerCase();
  const id = bare.slice(cut + 1);
  if (id === '' || !collections.some((c) => c.replace(/\/$/, '').toLowerCase() === collection)) return null;
  return path;
}

/**
 * The members of a Sessions listing (sessions of `collections` only) and its MySession link (the
 * session of whoever asked); undefined unless a 200 with a JSON object.
 */
export function readListing(response: TransportResponse, collections: readonly string[] = [DOCUMENTED_SESSIONS_PATH]): { members: string[]; mine: string | null } | undefined {
  if (response.status !== 200) return undefined;
  const body = parseJsonBody(response.body);
  if (!isJsonObject(body)) return undefined;
  const members = (Array.isArray(body.Members) ? body.Members : [])
    .map((m) => sessionPathOf(isJsonObject(m) ? m['@odata.id'] : undefined, collections))
    .filter((p): p is string => p !== null);
  return { members, mine: sessionPathOf(mySessionLink(body), collections) };
}
