// A Redfish client over one session: verbs, iLO error envelopes as typed errors, collections.
import type { ConnectionFacts } from './open-session.js';
import { InvalidInputError, ProtocolError, RedfishError } from '../errors.js';
import { bodyText, envelopeMessages, isJsonObject, parseJsonBody } from '../redfish/index.js';
import type { Session } from '../session/index.js';
import type { HttpMethod, TransportResponse } from '../transport/index.js';
import { checkHeaders, checkMethod, checkNotSessionPost, checkPath } from './paths.js';

export interface RequestOptions {
  /** A JSON value (sent as JSON) or raw bytes. */
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

export interface RedfishResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

/** What commands use of a connected client, whether it holds its own session or an agent's. */
export interface ConnectedClient extends RedfishClient {
  readonly session: { readonly path: string | null; readonly id: string | null };
  readonly transportDescription: string;
  /** How the iLO was reached (path, generation, login kind, TLS); absent through an agent. */
  readonly connection?: ConnectionFacts;
}

/** The part of a session the client uses (a Session, or anything that sends like one). */
export type SessionLike = Pick<Session, 'request'>;

export class RedfishClient {
  readonly #session: SessionLike;
  readonly #signal: AbortSignal | undefined;
  readonly #origin: string | undefined;

  /**
   * `signal` applies to every request unless one gives its own. `origin` is the iLO's
   * `https://host:port`, when known: a link the iLO gives as an absolute URL of its own is
   * followed by its path.
   */
  constructor(session: SessionLike, options: { signal?: AbortSignal; origin?: string } = {}) {
    this.#session = session;
    this.#signal = options.signal;
    this.#origin = options.origin;
  }

  /** Any method; resolves with any status. Checks the method, path and body before sending. */
  request(method: string, path: string, options: RequestOptions = {}): Promise<RedfishResponse> {
    // Not async: every request passes here, and an async layer costs a promise and a microtask
    // turn. A failed check is still a rejection, never a throw.
    let verb: HttpMethod;
    let headers = options.headers;
    let body: Uint8Array | undefined;
    try {
      verb = checkMethod(method);
      checkPath(path);
      checkNotSessionPost(verb, path);
      checkHeaders(headers);
      if (options.body instanceof Uint8Array) {
        body = options.body;
      } else if (options.body !== undefined) {
        body = Buffer.from(JSON.stringify(options.body));
        if (!hasHeader(headers, 'content-type')) headers = { ...headers, 'Content-Type': 'application/json' };
      }
      if (body && (verb === 'GET' || verb === 'HEAD' || verb === 'DELETE')) throw new InvalidInputError(`${verb} takes no body`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#session.request({ method: verb, path, headers, body, signal: options.signal ?? this.#signal });
  }

  /** GET a resource's JSON; an error status throws RedfishError. */
  get<T = Record<string, unknown>>(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request('GET', path, options).then((response) => expectJson(checkStatus('GET', path, response), 'GET', path) as T);
  }

  async head(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<Readonly<Record<string, string>>> {
    return (await this.#ok('HEAD', path, options)).headers;
  }

  async post(path: string, body: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<unknown> {
    return parseJsonBody((await this.#ok('POST', path, { ...options, body })).body);
  }

  async patch(path: string, body: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<unknown> {
    return parseJsonBody((await this.#ok('PATCH', path, { ...options, body })).body);
  }

  async put(path: string, body: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<unknown> {
    return parseJsonBody((await this.#ok('PUT', path, { ...options, body })).body);
  }

  async delete(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<unknown> {
    return parseJsonBody((await this.#ok('DELETE', path, options)).body);
  }

  /** The `@odata.id` of every member of a collection, following `Members@odata.nextLink`. */
  async members(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<string[]> {
    const out: string[] = [];
    const seen = new Set<string>();
    for (let page: string | undefined = path; page !== undefined; ) {
      if (seen.has(page)) throw new ProtocolError(`the collection ${path} links back to a page already read (${page})`);
      seen.add(page);
      const json: Record<string, unknown> = await this.get(page, options);
      if (!Array.isArray(json.Members)) throw new ProtocolError(`${page} is not a collection (it has no Members)`);
      for (const member of json.Members) {
        const id = isJsonObject(member) ? member['@odata.id'] : undefined;
        if (typeof id === 'string') out.push(this.#linkPath(id, page));
      }
      const next = json['Members@odata.nextLink'];
      page = typeof next === 'string' && next.length > 0 ? this.#linkPath(next, page) : undefined;
    }
    return out;
  }

  /**
   * The path of a link the iLO gave (`from`: where it was read): as it is, or the path of an
   * absolute URL of this very iLO. Anything else is the iLO's fault, not the user's: a
   * ProtocolError (exit 6), nothing sent.
   */
  linkPath(link: string, from: string): string {
    return this.#linkPath(link, from);
  }

  #linkPath(link: string, page: string): string {
    let path = link;
    if (!link.startsWith('/') || link.startsWith('//')) {
      let url: URL | undefined;
      try {
        url = new URL(link);
      } catch {
        // not a URL either: refused below
      }
      if (url && this.#origin !== undefined && url.origin === this.#origin) path = `${url.pathname}${url.search}`;
      else if (url) throw new ProtocolError(`${page} links to ${JSON.stringify(link)}, which is not on this iLO (${this.#origin ?? 'in-band'}): not followed`);
    }
    try {
      return checkPath(path);
    } catch (error) {
      if (error instanceof InvalidInputError) throw new ProtocolError(`${page} gives an odd link ${JSON.stringify(link)}: ${error.message}`);
      throw error;
    }
  }

  #ok(method: HttpMethod, path: string, options: RequestOptions): Promise<RedfishResponse> {
    return this.request(method, path, options).then((response) => checkStatus(method, path, response));
  }
}

export function toRedfishError(method: string, path: string, response: TransportResponse): RedfishError {
  return new RedfishError({ status: response.status, method, path, messages: envelopeMessages(response.body), body: bodyText(response.body) });
}

function checkStatus(method: string, path: string, response: RedfishResponse): RedfishResponse {
  if (response.status >= 400) throw toRedfishError(method, path, response);
  return response;
}

/** Whether headers hold a name, whatever its case. */
function hasHeader(headers: Readonly<Record<string, string>> | undefined, lower: string): boolean {
  for (const name in headers) if (name.toLowerCase() === lower) return true;
  return false;
}

function expectJson(response: RedfishResponse, method: string, path: string): unknown {
  const json = parseJsonBody(response.body);
  if (json === undefined) throw new ProtocolError(`${method} ${path} answered ${response.status} with a body that is not JSON`);
  return json;
}
