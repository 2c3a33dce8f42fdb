// The guardian: a small process that deletes the session when the agent dies without doing so.
// The agent's side (startGuardian) is the public surface; main.ts is the process's entry point.
export { startGuardian, guardianEntry, guardianExecArgv, setGuardianLaunch, GUARDIAN_ARGUMENT, type GuardianLaunch } from './spawn.js';
export type { Guardian, GuardianSpec } from './spawn.js';
export type { GuardianTransport } from './protocol.js';
export { deleteInterruptedLogin, type LoginGapSearch } from './login-gap.js';
