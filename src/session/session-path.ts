// What may be trusted in a session's URI, and which DELETE answers prove a session gone. Shared
// by the session (its own logout) and the guardian (the agent's left-overs): one rule for both.
import { DOCUMENTED_SESSIONS_PATH } from '../redfish/index.js';
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
 * A DELETE with the session's own token proves the session gone only by a 2xx. A 401 or 404
 * does not: a token the iLO mangled (two X-Auth-Token headers joined) or a session it no longer
 * accepts gets 401 while the session lives on.
 */
export function goneByToken(response: Pick<TransportResponse, 'status'>): boolean {
  return response.status >= 200 && response.status < 300;
}

/**
 * A DELETE with Basic credentials, or in-band on the channel's own trust, proves it by a 2xx or a
 * 404: the request was authorised (else 401), and the session does not exist.
 */
export function goneByAuthority(response: Pick<TransportResponse, 'status'>): boolean {
  return goneByToken(response) || response.status === 404;
}

export type SendDelete = (path: string, headers: Record<string, string>) => Promise<TransportResponse>;

/**
 * Deletes a session and answers undefined once it is known gone, or the answer that refused it.
 * First with its token; then, unless that was a 2xx, with `authority` (Basic credentials, or `{}`
 * in-band: the channel's trust), which both deletes and confirms. Without an authority, a token
 * DELETE that is not a 2xx leaves the session unconfirmed: not gone.
 */
export async function deleteSession(send: SendDelete, path: string, token: string | null, authority: Record<string, string> | undefined): Promise<TransportResponse | undefined> {
  const viaToken = token ? await send(path, { 'X-Auth-Token': token }) : undefined;
  if (viaToken && goneByToken(viaToken)) return undefined;
  if (!authority) return viaToken ?? { status: 0, headers: {}, body: new Uint8Array() };
  const viaAuthority = await send(path, authority);
  return goneByAuthority(viaAuthority) ? undefined : viaAuthority;
}
