// Redfish over HTTPS: keep-alive, bounded connect and request times, TLS verified by default.
import { Agent, request as httpsRequest, type AgentOptions, type RequestOptions } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import * as tlsDefaults from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { AbortedError, ClosedError, ConnectError, InvalidInputError, ProtocolError, TimeoutError, TlsError, UsageError } from '../../errors.js';
import { MAX_RESPONSE_BODY } from '../limits.js';
import { SENDABLE_PATH, type Transport, type TransportRequest, type TransportResponse } from '../transport.js';

export interface HttpsTransportOptions {
  /** `https://host[:port]`; `http://` is refused: credentials never cross in clear text. */
  url: string;
  /** PEM of the CA (or the self-signed certificate) to trust, in addition to nothing else. */
  ca?: string;
  /** Skip certificate verification. An explicit, loud opt-in (the CLI warns on stderr). */
  insecure?: boolean;
  /** Time for one whole request, from sending to the last byte of the answer. Default 60 s. */
  timeoutMs?: number;
  /** Time to open a connection (TCP + TLS). Default 10 s. */
  connectTimeoutMs?: number;
  /** Parallel connections to the iLO. Default 4. */
  maxSockets?: number;
  /** Bind every connection to this local address (link-bound TLS on the vNIC). */
  localAddress?: string;
  /**
   * Accept exactly the leaf certificate of this SHA-256 fingerprint (64 hex digits), whoever
   * signed it and whatever it names; checked before the connection carries a byte of ours.
   */
  pin?: string;
  /** The name the certificate must carry (and the SNI sent), instead of the URL's host. */
  servername?: string;
  /** Added to the message of a failed TLS handshake (the vNIC's: iLO 7 security states). */
  handshakeHint?: () => string;
}

/** `sha256:<hex>` (colons allowed) → 64 lower-case hex digits, or undefined when malformed. */
export function parsePin(raw: string): string | undefined {
  const hex = raw.replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const TLS_ERROR = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|HOSTNAME_MISMATCH)/;
/** OpenSSL's failures of the handshake itself (an alert, no common version or cipher, not TLS): not of verification. */
const HANDSHAKE_ERROR = /^(ERR_SSL_|EPROTO$)/;

/** OpenSSL's reason ("tlsv1 alert protocol version", "wrong version number"), from the error or its message. */
function openSslReason(error: { reason?: string; message: string }): string | undefined {
  return error.reason ?? /:SSL routines:[^:]*:([^:]+):/.exec(error.message)?.[1];
}

/** What this client offers, for a failed handshake's message. */
function tlsClientWords(): string {
  const version = (v: string) => v.replace(/^TLSv/, '');
  return `Node ${process.version} with OpenSSL ${process.versions.openssl}, offering TLS ${version(tlsDefaults.DEFAULT_MIN_VERSION)} to ${version(tlsDefaults.DEFAULT_MAX_VERSION)}`;
}

/** Checks an iLO address and returns its origin (`https://host:port`). */
export function parseIloUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `https://${raw}`);
  } catch {
    // Never echo credentials someone put into the address.
    const shown = raw.includes('@') ? raw.replace(/^([^:/]*:\/\/)?[^@]*@/, '$1…@') : raw;
    throw new UsageError(`not a valid iLO address: ${JSON.stringify(shown)} (expected https://host[:port])`);
  }
  if (url.protocol === 'http:') throw new UsageError('http:// is refused: the iLO is reached over https:// only, so credentials never cross in clear text');
  if (url.protocol !== 'https:') throw new UsageError(`unsupported scheme ${url.protocol} in the iLO address (expected https://host[:port])`);
  if (url.username || url.password) throw new UsageError('put no credentials in the iLO address; use --username and ILO_PASSWORD, --password-file or --password-stdin');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new UsageError(`the iLO address takes no path or query (got ${url.pathname}${url.search}); give https://host[:port]`);
  }
  if (url.hash || raw.includes('#')) throw new UsageError(`the iLO address takes no #fragment (got ${url.hash || '#'}); give https://host[:port]`);
  return url;
}

export function openHttpsTransport(options: HttpsTransportOptions): Transport {
  return new HttpsTransport(options);
}

/** Names the transport sets itself (compared lower-cased); a caller's header of the same name is dropped. */
const OWN_HEADERS = new Set(['host', 'odata-version', 'accept', 'content-length', 'transfer-encoding']);
const CONNECT_TIMED_OUT = 'ILO_AGENT_CONNECT_TIMEOUT';
const PIN_MISMATCH = 'ILO_AGENT_PIN_MISMATCH';
const HEADER_ERRORS = new Set(['ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_CHAR', 'ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_INVALID_ARG_VALUE']);

/** A keep-alive agent that bounds each new connection's TCP + TLS set-up: one timer per connection, not per request. */
class ConnectBoundAgent extends Agent {
  readonly #connectTimeoutMs: number;
  readonly #pin: string | undefined;

  constructor(options: AgentOptions, connectTimeoutMs: number, pin?: string) {
    super(options);
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#pin = pin;
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection(options, this.#pin ? undefined : callback) as TLSSocket | null | undefined;
    if (!socket) return socket;
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error('connection set-up timed out'), { code: CONNECT_TIMED_OUT }));
    }, this.#connectTimeoutMs);
    const stop = () => clearTimeout(timer);
    socket.once('secureConnect', stop);
    socket.once('close', stop);
    if (!this.#pin || !callback) return socket;
    // Pinned: the request gets the socket only once the leaf is checked, so not a byte of ours
    // (a password, a token) goes to a certificate that is not the pinned one.
    const pin = this.#pin;
    const early = (error: Error) => callback(error, socket);
    socket.once('error', early);
    socket.once('secureConnect', () => {
      socket.removeListener('error', early);
      const seen = (socket.getPeerCertificate()?.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
      if (seen === pin) {
        callback(null, socket);
        return;
      }
      const error = Object.assign(new Error('the certificate is not the pinned one'), { code: PIN_MISMATCH, fingerprint: seen });
      socket.destroy();
      callback(error, socket);
    });
    return undefined;
  }
}

/** One request in flight, as the shared deadline timer sees it. */
interface Deadline {
  at: number;
  expire(): void;
}

class HttpsTransport implements Transport {
  readonly kind = 'https' as const;
  readonly description: string;
  // read once: URL's getters cost on every request
  readonly #hostname: string;
  readonly #port: number;
  /** The Host header: the address as the URL gives it (IPv6 bracketed, port only when not 443). */
  readonly #host: string;
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  /**
   * Requests in flight, oldest first. Every request gets the same time, so the oldest expires
   * first and one timer, armed for it, serves them all (a timer per request costs more than the
   * rest of the transport's own work).
   */
  readonly #deadlines = new Set<Deadline>();
  #deadlineTimer: NodeJS.Timeout | undefined;
  #inFlight = 0;
  readonly #handshakeHint: (() => string) | undefined;
  #whenIdle: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: HttpsTransportOptions) {
    const url = parseIloUrl(options.url);
    this.description = url.origin;
    // An IPv6 address is bracketed in a URL ([fd00::1]) but not in a socket's host name.
    this.#hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.#port = Number(url.port || 443);
    this.#host = url.host;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#handshakeHint = options.handshakeHint;
    // A pin replaces the chain check (iLO's certificate is self-signed by default); the
    // fingerprint is checked on every new connection (createConnection), never on a resumed one.
    const agentOptions: AgentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 4, ca: options.ca, rejectUnauthorized: !options.insecure && !options.pin };
    if (options.localAddress) agentOptions.localAddress = options.localAddress;
    if (options.servername) agentOptions.servername = options.servername;
    if (options.pin) agentOptions.maxCachedSessions = 0;
    this.#agent = new ConnectBoundAgent(agentOptions, this.#connectTimeoutMs, options.pin);
  }

  request(request: TransportRequest): Promise<TransportResponse> {
    if (this.#closed) return Promise.reject(new ClosedError('the HTTPS transport is closed'));
    this.#inFlight++;
    return new Promise<TransportResponse>((resolve, reject) => {
      const settle = (error: Error | undefined, response?: TransportResponse) => {
        if (--this.#inFlight === 0) this.#whenIdle?.();
        if (error) reject(error);
        else resolve(response as TransportResponse);
      };
      this.#send(request, true, settle);
    });
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      if (this.#inFlight === 0) resolve();
      else this.#whenIdle = resolve;
    }).then(() => {
      clearTimeout(this.#deadlineTimer);
      this.#agent.destroy();
    });
    return this.#closed;
  }

  /** Sends once; a kept-alive socket the iLO had closed gets one more try (`mayRetry`). */
  #send(request: TransportRequest, mayRetry: boolean, settle: (error: Error | undefined, response?: TransportResponse) => void): void {
    const { method, path, signal } = request;
    if (signal?.aborted) {
      settle(new AbortedError(`${method} ${path} aborted before sending`));
      return;
    }
    if (!SENDABLE_PATH.test(path)) {
      // Node would throw on some (ERR_UNESCAPED_CHARACTERS) and send others as raw Latin-1 bytes.
      settle(new ProtocolError(`cannot send the path ${JSON.stringify(path)}: only printable ASCII goes on the wire (%-encode the rest)`));
      return;
    }
    let settled = false;
    let req: ClientRequest | undefined;
    const deadline: Deadline = {
      at: performance.now() + this.#timeoutMs,
      expire: () => fail(new TimeoutError(`${method} ${path}: no complete answer within ${this.#timeoutMs / 1000} s`)),
    };
    const finish = (error: Error | undefined, response?: TransportResponse) => {
      if (settled) return;
      settled = true;
      this.#deadlines.delete(deadline);
      signal?.removeEventListener('abort', onAbort);
      settle(error, response);
    };
    /** Ends the exchange with an error and drops its connection (the answer may still come). */
    const fail = (error: Error) => {
      finish(error);
      req?.destroy();
    };
    const onAbort = () => fail(new AbortedError(`${method} ${path} aborted`));
    const truncated = () => finish(new ConnectError(`${method} ${path}: the iLO closed the connection in the middle of its answer`));
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#watch(deadline);

    try {
      req = httpsRequest(
        { hostname: this.#hostname, port: this.#port, method, path, headers: this.#headerList(request), agent: this.#agent },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BODY) fail(new ProtocolError(`${method} ${path}: the answer is larger than ${MAX_RESPONSE_BODY} bytes`));
            else chunks.push(chunk);
          });
          // A connection lost mid-answer destroys the response with an error ('aborted').
          res.on('error', truncated);
          res.on('end', () => {
            if (!res.complete) return truncated();
            finish(undefined, { status: res.statusCode ?? 0, headers: singleValued(res.headers), body: Buffer.concat(chunks, size) });
          });
        },
      );
    } catch (error) {
      // Node checks header names and values as it writes them; nothing was sent.
      const code = (error as NodeJS.ErrnoException).code ?? '';
      finish(HEADER_ERRORS.has(code) ? new InvalidInputError(`${method} ${path}: ${(error as Error).message}`) : (error as Error));
      return;
    }
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      // Node's advice for a kept-alive socket the iLO already closed: retry once. Only idempotent
      // methods: a POST may have been done.
      if (mayRetry && req?.reusedSocket && IDEMPOTENT.has(method) && !signal?.aborted) {
        settled = true;
        this.#deadlines.delete(deadline);
        signal?.removeEventListener('abort', onAbort);
        this.#send(request, false, settle);
        return;
      }
      finish(this.#mapError(error, method, path));
    });
    req.end(request.body);
  }

  /** The headers on the wire, as a flat [name, value, …] list: Node writes it without copying it again. */
  #headerList(request: TransportRequest): string[] {
    const list = ['Host', this.#host, 'OData-Version', '4.0', 'Accept', 'application/json'];
    const given = request.headers;
    if (given) {
      for (const name in given) {
        if (!OWN_HEADERS.has(name.toLowerCase())) list.push(name, given[name] as string);
      }
    }
    if (request.body !== undefined || BODY_METHODS.has(request.method)) list.push('Content-Length', String(request.body?.byteLength ?? 0));
    return list;
  }

  #watch(deadline: Deadline): void {
    this.#deadlines.add(deadline);
    if (this.#deadlineTimer === undefined) this.#armDeadlineTimer(this.#timeoutMs);
  }

  #armDeadlineTimer(ms: number): void {
    // Unref'd: a request in flight holds the process by its socket, not by its deadline.
    this.#deadlineTimer = setTimeout(this.#expireDue, Math.max(1, ms)).unref();
  }

  readonly #expireDue = (): void => {
    this.#deadlineTimer = undefined;
    const now = performance.now();
    for (const deadline of this.#deadlines) {
      if (deadline.at > now) {
        this.#armDeadlineTimer(deadline.at - now);
        return;
      }
      deadline.expire();
    }
  };

  #mapError(error: NodeJS.ErrnoException & { reason?: string; host?: string; cert?: { subjectaltname?: string } }, method: string, path: string): Error {
    const code = error.code ?? '';
    if (code === PIN_MISMATCH) {
      const seen = (error as { fingerprint?: string }).fingerprint;
      return new TlsError(`the certificate at ${this.description} is not the pinned one (--pin): its SHA-256 fingerprint is sha256:${seen}; nothing was sent`, { cause: error });
    }
    if (code === CONNECT_TIMED_OUT) return new TimeoutError(`cannot connect to ${this.description} within ${this.#connectTimeoutMs / 1000} s`);
    // llhttp's complaint about the answer's bytes (Node's http "Parse Error"): the iLO was reached
    // and answered, wrongly. Its fixed reason text only, never the raw bytes (they may hold a token).
    if (code.startsWith('HPE_')) {
      return new ProtocolError(`${method} ${path}: the iLO's answer is not valid HTTP (${error.reason ?? error.message}; ${code})`, { cause: error });
    }
    if (HANDSHAKE_ERROR.test(code)) {
      const reason = openSslReason(error);
      const hint = this.#handshakeHint?.();
      return new TlsError(
        `the TLS handshake with the iLO at ${this.description} failed (${code}${reason ? `: ${reason}` : ''}): the iLO and this client agree on no TLS version, cipher or key-exchange group, or it does not speak TLS there; ` +
          `this client is ${tlsClientWords()}${hint ? `; ${hint}` : ''}`,
        { cause: error },
      );
    }
    // The CA was right in these two: --ca-cert is not the cure.
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new TlsError(
        `the iLO's certificate at ${this.description} is not for "${error.host ?? this.#hostname}": it names ${error.cert?.subjectaltname || 'no host (no subjectAltName)'}; ` +
          'reach the iLO by one of those names in --url, or give it a certificate for this name',
        { cause: error },
      );
    }
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
      const state = code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet';
      return new TlsError(
        `the iLO's certificate at ${this.description} ${state} (by this machine's clock: ${new Date().toISOString()}); renew it on the iLO, or set this machine's clock right`,
        { cause: error },
      );
    }
    if (TLS_ERROR.test(code)) {
      return new TlsError(
        `cannot verify the iLO's certificate at ${this.description} (${code}): give its CA with --ca-cert FILE, or accept any certificate with --insecure`,
        { cause: error },
      );
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') return new ConnectError(`${method} ${path}: the iLO closed the connection (${code})`, { cause: error });
    return new ConnectError(`cannot reach the iLO at ${this.description}: ${code || error.message}`, { cause: error });
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'DELETE', 'PUT']);
const BODY_METHODS = new Set(['POST', 'PATCH', 'PUT']);

/** Node's parsed headers are single strings except Set-Cookie's list; the contract wants strings. */
function singleValued(received: IncomingMessage['headers']): Readonly<Record<string, string>> {
  const cookies = received['set-cookie'];
  if (cookies === undefined) return received as Record<string, string>;
  return { ...received, 'set-cookie': cookies.join(', ') } as Record<string, string>;
}
