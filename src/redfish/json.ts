// Reading what an iLO says in a body: bytes that may not be JSON, and values that may not be objects.

/** Parses JSON; undefined when the bytes are not JSON (never throws). */
export function parseJsonBody(body: Uint8Array): unknown {
  if (body.byteLength === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A JSON object (not null, not an array): the one object guard of the project. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first `max` bytes of a body as text, for error messages. */
export function bodyText(body: Uint8Array, max = 4096): string {
  return Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, max)).toString('utf8');
}

/** The value at a key path in parsed JSON, or undefined. */
export function dig(value: unknown, keys: readonly (string | number)[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof key === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      if (!isJsonObject(current)) return undefined;
      current = current[key];
    }
  }
  return current;
}
