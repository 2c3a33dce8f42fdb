// Reading what an iLO says in a body: JSON that may be malformed, and its error envelope
// (`error.@Message.ExtendedInfo`, with iLO 4's `MessageID` spelling and legacy `Messages`).
import type { RedfishMessage } from '../errors.js';

/** Parses JSON; undefined when the bytes are not JSON (never throws). */
export function parseJsonBody(body: Uint8Array): unknown {
  if (body.byteLength === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readMessages(list: unknown): RedfishMessage[] {
  if (!Array.isArray(list)) return [];
  const out: RedfishMessage[] = [];
  for (const entry of list) {
    if (!isJsonObject(entry)) continue;
    const id = entry.MessageId ?? entry.MessageID;
    if (typeof id !== 'string') continue;
    const message: RedfishMessage = { MessageId: id };
    if (Array.isArray(entry.MessageArgs)) message.MessageArgs = entry.MessageArgs.map(String);
    out.push(message);
  }
  return out;
}

/** The MessageIds (and args) of an iLO envelope; [] when there are none or the body is not JSON. */
export function envelopeMessages(body: Uint8Array | unknown): RedfishMessage[] {
  const json = body instanceof Uint8Array ? parseJsonBody(body) : body;
  if (!isJsonObject(json)) return [];
  const error = json.error;
  const extended = isJsonObject(error) ? readMessages(error['@Message.ExtendedInfo']) : [];
  return extended.length > 0 ? extended : readMessages(json.Messages);
}

export function hasMessage(messages: readonly RedfishMessage[], key: string): boolean {
  return messages.some((m) => m.MessageId.endsWith(`.${key}`));
}

export function bodyText(body: Uint8Array, max = 4096): string {
  return Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, max)).toString('utf8');
}

/** The value at a key path in parsed JSON, or undefined. */
export function dig(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isJsonObject(current)) return undefined;
    current = current[key];
  }
  return current;
}
