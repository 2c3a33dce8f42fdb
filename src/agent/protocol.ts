// What `ilo-agent serve` and its local clients say to each other: one JSON object per line.
// Bodies travel as base64 so that any bytes cross unchanged. The token never crosses.
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
  /**
   * Which iLO the session is on: its `https://host:port` over HTTPS, null in-band (CHIF, vNIC).
   * Absent from agents older than this field (clients then read it from `transport`).
   */
  url?: string | null;
  /** The user name the agent logged in with; null without one (in-band, app token). Absent from older agents. */
  username?: string | null;
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

/**
 * A frame (one line, either direction) longer than this is refused and its connection closed:
 * room for a 64 MiB body (the most an iLO answer may carry over HTTPS) in base64, 85.4 MiB, plus
 * method, path and headers.
 */
export const MAX_FRAME = 96 * 1024 * 1024;

/** Headers that never cross the socket in either direction: authentication is the agent's. */
export const PRIVATE_HEADERS = new Set(['x-auth-token', 'authorization', 'set-cookie', 'cookie']);
