// What any transport accepts from an iLO. Redfish answers are small; past these sizes an answer
// is not one an iLO gives, and it is refused (ProtocolError, exit 6) before it fills the memory.

/** An answer's body, after Content-Encoding is undone too. */
export const MAX_RESPONSE_BODY = 64 * 1024 * 1024;
/** An answer's status line and headers. */
export const MAX_RESPONSE_HEAD = 64 * 1024;
