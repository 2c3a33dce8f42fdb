// What `ilo-agent serve` and its local clients say to each other: one JSON object per line.
// Bodies travel as base64 so that any bytes cross unchanged. The token never crosses.
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AgentRequest {
  id: number;
  /** `hello` asks for the agent's session and transport; `request` sends a Redfish request. */
  op: 'hello' | 'request';
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface AgentHello {
  sessionPath: string | null;
  sessionId: string | null;
  transport: string;
  version: 1;
}

export interface AgentResponse {
  id: number;
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  hello?: AgentHello;
  error?: { code: string; message: string };
}

/** Lines longer than this are refused (64 MiB bodies in base64, plus room). */
export const MAX_LINE = 96 * 1024 * 1024;

/** Headers that never cross the socket in either direction: authentication is the agent's. */
export const PRIVATE_HEADERS = new Set(['x-auth-token', 'authorization', 'set-cookie', 'cookie']);

/** `/run/ilo-agent.sock` for root; otherwise in the user's runtime directory; a named pipe on Windows. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (platform() === 'win32') return '\\\\.\\pipe\\ilo-agent';
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return '/run/ilo-agent.sock';
  return join(env.XDG_RUNTIME_DIR || tmpdir(), `ilo-agent-${uid}.sock`);
}
