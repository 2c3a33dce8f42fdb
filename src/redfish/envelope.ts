// An iLO's error envelope: `error.@Message.ExtendedInfo`, with iLO 4's `MessageID` spelling and
// the legacy top-level `Messages`.
import { isJsonObject, parseJsonBody } from './json.js';

/** One message of an envelope; the same shape as errors.ts's RedfishMessage (this leaf imports nothing of ours). */
export interface EnvelopeMessage {
  MessageId: string;
  MessageArgs?: string[];
}

function readMessages(list: unknown): EnvelopeMessage[] {
  if (!Array.isArray(list)) return [];
  const out: EnvelopeMessage[] = [];
  for (const entry of list) {
    if (!isJsonObject(entry)) continue;
    const id = entry.MessageId ?? entry.MessageID;
    if (typeof id !== 'string') continue;
    const message: EnvelopeMessage = { MessageId: id };
    if (Array.isArray(entry.MessageArgs)) message.MessageArgs = entry.MessageArgs.map(String);
    out.push(message);
  }
  return out;
}

/** The MessageIds (and args) of an iLO envelope; [] when there are none or the body is not JSON. */
export function envelopeMessages(body: Uint8Array | unknown): EnvelopeMessage[] {
  const json = body instanceof Uint8Array ? parseJsonBody(body) : body;
  if (!isJsonObject(json)) return [];
  const error = json.error;
  const extended = isJsonObject(error) ? readMessages(error['@Message.ExtendedInfo']) : [];
  return extended.length > 0 ? extended : readMessages(json.Messages);
}

/** Whether a message's id ends in `.key` (registry and version vary: `Base.1.4.NoValidSession`). */
export function hasMessage(messages: readonly EnvelopeMessage[], key: string): boolean {
  return messages.some((m) => m.MessageId.endsWith(`.${key}`));
}
