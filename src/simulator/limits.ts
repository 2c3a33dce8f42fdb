// Limits shared by the simulator's two fronts (HTTPS and CHIF), so that neither imports the other.

/** Larger bodies are refused with 413 before they reach the service. */
export const MAX_REQUEST_BODY = 1024 * 1024;

/** Bytes per chunk of a chunked answer (a choice: several chunks for any sizeable body). */
export const CHUNK_BYTES = 4096;
