// The one interface every way of reaching an iLO implements (HTTPS, CHIF, the iLO 7 vNIC). Types only;
// the contract lives in these comments and in test/transport/contract.test.ts, run against each.

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * What either transport puts on the wire as the request target: a `/`, then printable ASCII
 * only (RFC 9112 §3.2; anything else must come %-encoded). Both refuse the rest the same way.
 */
export const SENDABLE_PATH = /^\/[\x21-\x7e]*$/;

export interface TransportRequest {
  method: HttpMethod;
  /** An absolute path (and query) on the iLO, e.g. `/redfish/v1/Systems/1`. */
  path: string;
  headers?: Readonly<Record<string, string>>;
  body?: Uint8Array;
  /** Aborting rejects the request with AbortedError and leaves the transport usable. */
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** Lower-cased names. */
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

/**
 * The contract:
 * 1. Any HTTP status is a response, not an error: 401 and 503 resolve. Only the failure to get
 *    a whole response rejects (ConnectError, TimeoutError, TlsError, AbortedError, ClosedError,
 *    ProtocolError). Interpreting statuses belongs to session/ and client/. `request` never
 *    throws: a request it cannot send is a rejection too, before anything is sent.
 * 2. Bodies are opaque bytes; a transport never parses JSON and never logs headers or bodies
 *    (the login body holds the password, responses hold the token).
 * 3. Every body is sent with its Content-Length, every request with `OData-Version: 4.0`.
 * 4. `close()` is idempotent and waits for requests in flight; after it, `request` rejects
 *    with ClosedError.
 */
export interface Transport {
  readonly kind: 'https' | 'chif';
  /** Where requests go, for messages and `info` (never carries credentials). */
  readonly description: string;
  /** CHIF: the library file in use (absolute), so that a guardian loads that file and searches nothing. */
  readonly library?: string;
  request(request: TransportRequest): Promise<TransportResponse>;
  /**
   * The same, blocking, for a process that is leaving and can run nothing asynchronous any more
   * (CHIF only: a synchronous FFI call on a fresh channel). Small requests only.
   */
  requestSync?(request: TransportRequest): TransportResponse;
  close(): Promise<void>;
}
