// URI handling shared by the simulator's routes: iLO tolerates a trailing slash on every URI
// and matches URIs case-insensitively (its own links say both /Systems/1/Bios and /systems/1/bios).

export const SERVICE_ROOT = '/redfish/v1';
export const SESSION_SERVICE = '/redfish/v1/SessionService';
export const SESSIONS = '/redfish/v1/SessionService/Sessions';
/** The alias iLO also answers (docs/reference/ilo-sessions.md §2.1). */
export const SESSIONS_ALIAS = '/redfish/v1/Sessions';

export interface RequestPath {
  /** As the client wrote it, without query, fragment or trailing slash. */
  path: string;
  /** Lower-cased and %-decoded: what routes and the resource store compare. */
  key: string;
}

export function parseTarget(target: string): RequestPath | undefined {
  const cut = target.search(/[?#]/);
  let path = cut === -1 ? target : target.slice(0, cut);
  if (!path.startsWith('/') || path.includes('\0')) return undefined;
  path = path.replace(/\/{2,}/g, '/');
  while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  // Nothing may climb out of the tree (a mockup is served from a folder on disk).
  if (decoded.split('/').some((segment) => segment === '..' || segment === '.')) return undefined;
  return { path, key: decoded.toLowerCase() };
}

export function keyOf(uri: string): string {
  return parseTarget(uri)?.key ?? uri.toLowerCase();
}
