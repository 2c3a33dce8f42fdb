// How raw and batch show a response: one rule for which headers never reach stdout.
import type { RedfishResponse } from '../../client/index.js';
import { parseJsonBody } from '../../redfish/index.js';

/** The session token and cookies stay in memory: never printed, whatever the transport. */
const HIDDEN_HEADERS = new Set(['x-auth-token', 'set-cookie']);

export interface ResponseView {
  status: number;
  /** Lower-cased names, secrets left out. */
  headers: Record<string, string>;
  /** Parsed JSON, else the text, else null for an empty body. */
  body: unknown;
}

export function viewResponse(response: RedfishResponse): ResponseView {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    const lower = name.toLowerCase();
    if (!HIDDEN_HEADERS.has(lower)) headers[lower] = value;
  }
  const parsed = parseJsonBody(response.body);
  const body = parsed ?? (response.body.byteLength > 0 ? Buffer.from(response.body).toString('utf8') : null);
  return { status: response.status, headers, body };
}
