// `ilo-agent serve` and its clients.
export { startAgentServer } from './server.js';
export type { AgentServer, AgentServerOptions } from './server.js';
export { AgentConnection, AgentClient, openAgentClient } from './agent-client.js';
export { checkListenPath, defaultSocketPath } from './socket-path.js';
export { systemdNotifier, type Notifier } from './systemd.js';
export type { AgentExpectation } from './target.js';
