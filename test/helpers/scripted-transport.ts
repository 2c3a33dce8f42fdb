// One in-memory Transport for tests that script the iLO's answers (session, guardian). It keeps
// the whole contract of src/transport/transport.ts, so that code tested against it meets what
// the real transports do: it never throws, refuses what cannot be sent before the handler sees
// it, rejects with coded errors (AbortedError, TimeoutError, ClosedError), lower-cases header
// names, and its close() waits for requests in flight. test/transport/contract.test.ts runs the
// same contract cases against it as against HTTPS, CHIF and the vNIC.
import { AbortedError, ClosedError, InvalidInputError, ProtocolError, TimeoutError } from '../../src/errors.js';
import { SENDABLE_PATH } from '../../src/transport/transport.js';
import type { Transport, TransportRequest, TransportResponse } from '../../src/transport/index.js';

/** The iLO's side: an answer, or a throw/rejection that stands for a failure to get one. */
export type ScriptHandler = (request: TransportRequest) => TransportResponse | Promise<TransportResponse>;

export interface ScriptedOptions {
  kind?: Transport['kind'];
  description?: string;
  /** Time for one whole request; default 60 s, as the real transports. */
  timeoutMs?: number;
}

export interface Scripted {
  transport: Transport;
  /** Every request the handler got (refused ones never reach it), as the caller gave it. */
  calls: TransportRequest[];
}

// What Node's HTTP client and src/transport/chif/http1.ts both refuse in a header.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\r\n\0]/;

/** Why a request cannot be sent, or undefined. */
function unsendable(request: TransportRequest): Error | undefined {
  const { method, path, headers } = request;
  if (!SENDABLE_PATH.test(path)) return new ProtocolError(`cannot send the path ${JSON.stringify(path)}: only printable ASCII goes on the wire (%-encode the rest)`);
  for (const name in headers) {
    if (!TOKEN.test(name) || BAD_VALUE.test(headers[name] as string)) return new InvalidInputError(`${method} ${path}: the header ${JSON.stringify(name)} cannot be sent`);
  }
  return undefined;
}

export function scripted(handler: ScriptHandler, options: ScriptedOptions = {}): Scripted {
  const calls: TransportRequest[] = [];
  const timeoutMs = options.timeoutMs ?? 60_000;
  const inFlight = new Set<Promise<unknown>>();
  let closed: Promise<void> | undefined;

  const exchange = (request: TransportRequest): Promise<TransportResponse> =>
    new Promise<TransportResponse>((resolve, reject) => {
      const { method, path, signal } = request;
      let settled = false;
      const settle = (error: unknown, response?: TransportResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (response) resolve(response);
        else reject(error);
      };
      const onAbort = () => settle(new AbortedError(`${method} ${path} aborted`));
      // Unref'd, as HTTPS's: a handler that never answers must not hold a test process open.
      const timer = setTimeout(() => settle(new TimeoutError(`${method} ${path}: no complete answer within ${timeoutMs / 1000} s`)), timeoutMs).unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      calls.push(request);
      // A handler's throw, sync or async, is the request's rejection.
      Promise.resolve()
        .then(() => handler(request))
        .then(
          (response) => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) headers[name.toLowerCase()] = value;
            settle(undefined, { ...response, headers });
          },
          (error: unknown) => settle(error),
        );
    });

  const transport: Transport = {
    kind: options.kind ?? 'https',
    description: options.description ?? 'scripted',
    request(request) {
      if (closed) return Promise.reject(new ClosedError('the scripted transport is closed'));
      if (request.signal?.aborted) return Promise.reject(new AbortedError(`${request.method} ${request.path} aborted before sending`));
      const refused = unsendable(request);
      if (refused) return Promise.reject(refused);
      const done = exchange(request);
      inFlight.add(done);
      const forget = () => inFlight.delete(done);
      done.then(forget, forget);
      return done;
    },
    close() {
      closed ??= Promise.allSettled([...inFlight]).then(() => undefined);
      return closed;
    },
  };
  return { transport, calls };
}

/** A JSON answer, as an iLO gives one. */
export function json(status: number, body: unknown = {}, headers: Record<string, string> = {}): TransportResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

/** A time as iLO writes one (LoginTime, Date): whole seconds, no fraction. */
export function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
