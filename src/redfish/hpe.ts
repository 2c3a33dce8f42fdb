// HPE's OEM session fields (`Oem.Hpe` of a session and of the Sessions collection), read in one place.
import { dig, isJsonObject } from './json.js';

/** A resource's `Oem.Hpe` object, or undefined. */
export function hpeOem(resource: unknown): Record<string, unknown> | undefined {
  const hpe = dig(resource, ['Oem', 'Hpe']);
  return isJsonObject(hpe) ? hpe : undefined;
}

/** The Sessions collection's `Oem.Hpe.Links.MySession` link (unchecked: the caller validates the path). */
export function mySessionLink(collection: unknown): unknown {
  return dig(hpeOem(collection), ['Links', 'MySession', '@odata.id']);
}

/** Whether a session resource says it is the caller's own (`Oem.Hpe.MySession: true`). */
export function isMySession(session: unknown): boolean {
  return hpeOem(session)?.MySession === true;
}

/** The service root's first `Oem.Hpe.Manager` entry (ManagerType: the iLO generation, ManagerFirmwareVersion), or undefined. */
export function hpeManager(root: unknown): Record<string, unknown> | undefined {
  const manager = dig(hpeOem(root), ['Manager', 0]);
  return isJsonObject(manager) ? manager : undefined;
}
