// What the agent tells its guardian, one JSON object per line on the guardian's stdin (an
// inherited pipe: never argv, the environment or a file). The lines carry the token and the
// password; neither side ever logs a line.
import type { LevelWithSilent } from 'pino';
import { isJsonObject } from '../redfish/index.js';

export const GUARDIAN_PROTOCOL_VERSION = 1;

/** How the guardian reaches the iLO: the agent's transport, rebuilt from what it was made of. */
export type GuardianTransport =
  | {
      kind: 'https';
      url: string;
      ca: string | null;
      insecure: boolean;
      /** The vNIC's TLS trust, as the agent's (link-bound: the local address; --pin; --tls-servername). */
      localAddress?: string;
      pin?: string;
      servername?: string;
    }
  /** `library`: the file the agent loaded; the guardian checks it again and searches nothing. */
  | { kind: 'chif'; library: string };

export interface HelloMessage {
  type: 'hello';
  version: typeof GUARDIAN_PROTOCOL_VERSION;
  agentPid: number;
  logLevel: LevelWithSilent;
  transport: GuardianTransport;
  /** Over HTTPS to list and delete sessions when the agent died in its login; in-band for a secured channel. */
  credentials: { username: string; password: string } | null;
  /** The agent's time for one request (`--timeout`, `timeoutMs`); absent: the guardian's floor. */
  timeoutMs?: number;
}

export type AgentMessage =
  | HelloMessage
  /** A session POST is about to go out; user null: in-band null credentials; `at`: Date.now(). */
  | { type: 'login'; user: string | null; at: number }
  /** The iLO answered that POST with an error: no session was made. */
  | { type: 'refused' }
  /** The iLO made a session (path null: not named yet; token null: the answer had none). */
  | { type: 'session'; path: string | null; token: string | null }
  /** Everything the agent made is deleted or found gone: exit without doing anything. */
  | { type: 'released' };

export function encodeMessage(message: AgentMessage): string {
  return `${JSON.stringify(message)}\n`;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const stringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** One line from the pipe, checked; undefined for anything malformed (never echoed: it may hold secrets). */
export function parseMessage(line: string): AgentMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isJsonObject(value)) return undefined;
  switch (value.type) {
    case 'hello': {
      const { version, agentPid, logLevel, transport, credentials, timeoutMs } = value;
      if (version !== GUARDIAN_PROTOCOL_VERSION || typeof agentPid !== 'number' || typeof logLevel !== 'string' || !LEVELS.has(logLevel)) return undefined;
      if (!isJsonObject(transport)) return undefined;
      if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs >= 0)) return undefined;
      let parsedTransport: GuardianTransport;
      if (transport.kind === 'https' && typeof transport.url === 'string' && stringOrNull(transport.ca) && typeof transport.insecure === 'boolean') {
        parsedTransport = { kind: 'https', url: transport.url, ca: transport.ca, insecure: transport.insecure };
        for (const key of ['localAddress', 'pin', 'servername'] as const) {
          const value = transport[key];
          if (value === undefined) continue;
          if (typeof value !== 'string' || value === '') return undefined;
          parsedTransport[key] = value;
        }
      } else if (transport.kind === 'chif' && typeof transport.library === 'string' && transport.library !== '') {
        parsedTransport = { kind: 'chif', library: transport.library };
      } else {
        return undefined;
      }
      let parsedCredentials: HelloMessage['credentials'] = null;
      if (credentials !== null) {
        if (!isJsonObject(credentials) || typeof credentials.username !== 'string' || typeof credentials.password !== 'string') return undefined;
        parsedCredentials = { username: credentials.username, password: credentials.password };
      }
      return {
        type: 'hello',
        version: GUARDIAN_PROTOCOL_VERSION,
        agentPid,
        logLevel: logLevel as LevelWithSilent,
        transport: parsedTransport,
        credentials: parsedCredentials,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      };
    }
    case 'login':
      return stringOrNull(value.user) && typeof value.at === 'number' && Number.isFinite(value.at) ? { type: 'login', user: value.user, at: value.at } : undefined;
    case 'refused':
      return { type: 'refused' };
    case 'session':
      return stringOrNull(value.path) && stringOrNull(value.token) ? { type: 'session', path: value.path, token: value.token } : undefined;
    case 'released':
      return { type: 'released' };
    default:
      return undefined;
  }
}
