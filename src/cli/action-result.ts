// iLO answers a successful action (a reset, a Manager.Reset) with a 200 whose body is its message
// envelope: {"error": {"code": "iLO.0.10.ExtendedInfo", "@Message.ExtendedInfo": [{"MessageId":
// "Base.1.18.Success"}]}} (the error-response shape of DMTF DSP0266, used by iLO for any message list).
// People read "error" as a failure; on a terminal we show it as what it is. Scripts (--output
// json) get the iLO's body byte for byte: they may already parse it.
import { isJsonObject } from '../redfish/index.js';

export interface ActionResult {
  status: number;
  /** MessageIds, with their arguments when they have some. */
  messages: string[];
}

/** The result a person should read, when `body` of a success status is only a message envelope. */
export function actionResult(status: number, body: unknown): ActionResult | undefined {
  if (status >= 400 || !isJsonObject(body) || Object.keys(body).length !== 1 || !isJsonObject(body.error)) return undefined;
  const info = body.error['@Message.ExtendedInfo'];
  if (!Array.isArray(info)) return undefined;
  const messages = info.filter(isJsonObject).map((m) => {
    const id = typeof m.MessageId === 'string' ? m.MessageId : 'unknown';
    const args = Array.isArray(m.MessageArgs) && m.MessageArgs.length > 0 ? ` (${m.MessageArgs.map(String).join(', ')})` : '';
    return `${id}${args}`;
  });
  return { status, messages };
}
