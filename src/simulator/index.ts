// The simulator's public surface. It imports nothing from the client side of ilo-agent
// (cli, client, session, transport): a double that shared our code would hide our bugs.
export { startSimulator } from './simulator.js';
export { DEFAULT_USERS } from './simulator-api.js';
export type { Simulator, SimulatorOptions, SimulatorInfo, SimulatorState, ChifState, AppState } from './simulator-api.js';
export { APP_ACCOUNT_STATES, SELF_REGISTER, ILOREST_APP_NAME } from './app-accounts.js';
export type { AppAccountState, AppAccountsView } from './app-accounts.js';
export { APP_OPS } from './app-endpoint.js';
export type { AppCounters } from './app-endpoint.js';
export type { AppFaults, AppFaultsView } from './app-faults.js';
export { parseFaultSpec, FAULT_TYPES, FAULT_TARGETS } from './faults.js';
export type { FaultRule, FaultType, FaultTarget } from './faults.js';
export { SECURITY_STATES } from './chif-core.js';
export type { SecurityState, ChifCounters } from './chif-core.js';
export type { ChifFaults, ChifFaultsView } from './chif-faults.js';
export type { InbandLocation } from './redfish-service.js';
export { PROFILES, isProfileName } from './profiles.js';
export type { Profile, ProfileName } from './profiles.js';
export type { SessionView, EndedSession, SessionEnd } from './sessions.js';
