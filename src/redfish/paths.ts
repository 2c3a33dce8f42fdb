// Well-known Redfish URIs that an iLO always serves (DMTF DSP0266; HPE iLO Redfish reference).

/** The service root, with its trailing slash as iLO links it. */
export const SERVICE_ROOT = '/redfish/v1/';
export const SESSION_SERVICE_PATH = '/redfish/v1/SessionService';
/** The documented URI (docs/reference/ilo-sessions.md §2.1). Tried first: iLO always has it, and it saves a round trip. */
export const DOCUMENTED_SESSIONS_PATH = '/redfish/v1/SessionService/Sessions';
