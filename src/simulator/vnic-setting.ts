// The iLO 7 vNIC setting as the resource tree stores it (Managers/1 and HostInterfaces/1 show
// the one setting): read when an iLO reset applies it, written at start and by a PATCH.
import type { ResourceStore } from './resource-store.js';

const MANAGER = '/redfish/v1/managers/1';
const HOST_INTERFACE = '/redfish/v1/managers/1/hostinterfaces/1';

/** The vNIC setting as stored: Managers/1 `Oem.Hpe.VirtualNICEnabled` (mirrored in HostInterfaces/1). */
export function readVnicSetting(store: ResourceStore): boolean {
  const hpe = (store.get(MANAGER)?.json.Oem as { Hpe?: { VirtualNICEnabled?: unknown } } | undefined)?.Hpe;
  return hpe?.VirtualNICEnabled !== false;
}

/** Writes the setting into both resources that show it (either may be PATCHed; they are one setting). */
export function writeVnicSetting(store: ResourceStore, enabled: boolean): void {
  const manager = store.get(MANAGER);
  const oem = manager?.json.Oem as { Hpe?: Record<string, unknown> } | undefined;
  if (manager && oem?.Hpe && 'VirtualNICEnabled' in oem.Hpe) {
    store.replace(manager, { ...manager.json, Oem: { ...oem, Hpe: { ...oem.Hpe, VirtualNICEnabled: enabled } } });
  }
  const hostInterface = store.get(HOST_INTERFACE);
  if (hostInterface && 'InterfaceEnabled' in hostInterface.json) store.replace(hostInterface, { ...hostInterface.json, InterfaceEnabled: enabled });
}
