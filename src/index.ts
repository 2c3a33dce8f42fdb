// ilo-agent's library entry. The Redfish client API arrives with the session core; today the
// package exposes the simulator (also at `ilo-agent/simulator`) and the error types.
export * from './errors.js';
export * from './simulator/index.js';
