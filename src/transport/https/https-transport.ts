// Redfish over HTTPS: keep-alive, bounded connect and request times, TLS verified by default.
import { Agent, request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { AbortedError, ClosedError, ConnectError, ProtocolError, TimeoutError, TlsError, UsageError } from '../../errors.js';
import type { Transport, TransportRequest, TransportResponse } from '../transport.js';

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
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Redfish bodies are small; anything past this is not an iLO answer. */
const MAX_RESPONSE_BODY = 64 * 1024 * 1024;

const TLS_ERROR = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

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
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new UsageError(`the iLO address takes no path or query (got ${url.pathname}${url.search}); give https://host[:port]`);
  }
  return url;
}

export function openHttpsTransport(options: HttpsTransportOptions): Transport {
  return new HttpsTransport(options);
}

class HttpsTransport implements Transport {
  readonly kind = 'https' as const;
  readonly description: string;
  // read once: URL's getters cost on every request
  readonly #hostname: string;
  readonly #port: number;
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed: Promise<void> | undefined;

  constructor(options: HttpsTransportOptions) {
    const url = parseIloUrl(options.url);
    this.description = url.origin;
    // An IPv6 address is bracketed in a URL ([fd00::1]) but not in a socket's host name.
    this.#hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.#port = Number(url.port || 443);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets ?? 4,
      ca: options.ca,
      rejectUnauthorized: !options.insecure,
    });
  }

  request(request: TransportRequest): Promise<TransportResponse> {
    if (this.#closed) return Promise.reject(new ClosedError('the HTTPS transport is closed'));
    const done = this.#send(request, true);
    this.#inFlight.add(done);
    const forget = () => this.#inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  close(): Promise<void> {
    this.#closed ??= Promise.allSettled([...this.#inFlight]).then(() => this.#agent.destroy());
    return this.#closed;
  }

  async #send(request: TransportRequest, mayRetry: boolean): Promise<TransportResponse> {
    try {
      return await this.#once(request);
    } catch (error) {
      // A kept-alive socket the iLO already closed fails before any answer; Node's advice is
      // to retry such a request once. Only idempotent methods: a POST may have been done.
      const retryable = (error as { reusedSocket?: boolean }).reusedSocket && ['GET', 'HEAD', 'DELETE', 'PUT'].includes(request.method);
      if (mayRetry && retryable && !request.signal?.aborted) return this.#send(request, false);
      throw (error as { mapped?: Error }).mapped ?? error;
    }
  }

  #once(request: TransportRequest): Promise<TransportResponse> {
    return new Promise<TransportResponse>((resolve, reject) => {
      if (request.signal?.aborted) {
        reject(new AbortedError(`${request.method} ${request.path} aborted before sending`));
        return;
      }
      const headers: Record<string, string> = { ...request.headers, 'OData-Version': '4.0', Accept: 'application/json' };
      if (request.body !== undefined || ['POST', 'PATCH', 'PUT'].includes(request.method)) {
        headers['Content-Length'] = String(request.body?.byteLength ?? 0);
      }
      let settled = false;
      let req: ClientRequest | undefined;
      const timers: NodeJS.Timeout[] = [];
      const finish = (error: Error | undefined, response?: TransportResponse, reusedSocket = false) => {
        if (settled) return;
        settled = true;
        timers.forEach(clearTimeout);
        request.signal?.removeEventListener('abort', onAbort);
        if (error) reject(Object.assign(new Error('request failed'), { mapped: error, reusedSocket }));
        else resolve(response as TransportResponse);
      };
      const what = `${request.method} ${request.path}`;
      const onAbort = () => {
        finish(new AbortedError(`${what} aborted`));
        req?.destroy();
      };
      request.signal?.addEventListener('abort', onAbort, { once: true });

      req = httpsRequest(
        { protocol: 'https:', hostname: this.#hostname, port: this.#port, method: request.method, path: request.path, headers, agent: this.#agent },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BODY) {
              finish(new ProtocolError(`${what}: the answer is larger than ${MAX_RESPONSE_BODY} bytes`));
              req?.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', () => finish(new ConnectError(`${what}: the iLO closed the connection in the middle of its answer`)));
          res.on('close', () => {
            if (!res.complete) finish(new ConnectError(`${what}: the iLO closed the connection in the middle of its answer`));
          });
          res.on('end', () => {
            if (!res.complete) return;
            const out: Record<string, string> = {};
            const received = res.headers;
            for (const name in received) {
              const value = received[name];
              if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            finish(undefined, { status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
          });
        },
      );

      timers.push(
        setTimeout(() => {
          finish(new TimeoutError(`${what}: no complete answer within ${this.#timeoutMs / 1000} s (--timeout)`));
          req?.destroy();
        }, this.#timeoutMs),
      );
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => {
          finish(new TimeoutError(`cannot connect to ${this.description} within ${this.#connectTimeoutMs / 1000} s`));
          req?.destroy();
        }, this.#connectTimeoutMs);
        timers.push(timer);
        socket.once('secureConnect', () => clearTimeout(timer));
      });
      req.on('error', (error: NodeJS.ErrnoException) => finish(this.#mapError(error, what), undefined, req?.reusedSocket ?? false));
      req.end(request.body);
    });
  }

  #mapError(error: NodeJS.ErrnoException, what: string): Error {
    const code = error.code ?? '';
    if (TLS_ERROR.test(code)) {
      return new TlsError(
        `cannot verify the iLO's certificate at ${this.description} (${code}): give its CA with --ca-cert FILE, or accept any certificate with --insecure`,
        { cause: error },
      );
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') return new ConnectError(`${what}: the iLO closed the connection (${code})`, { cause: error });
    return new ConnectError(`cannot reach the iLO at ${this.description}: ${code || error.message}`, { cause: error });
  }
}
