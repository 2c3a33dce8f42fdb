// Exactly one iLO session, held in memory only, and always deleted.
//
// The token and password live in private fields of this object and nowhere else: never logged,
// never in an error message, never on disk. What can be said about the session (its URI) is not
// a secret: anyone who may list sessions sees it.
import type { Logger } from 'pino';
import {
  AbortedError,
  AuthError,
  ClosedError,
  IloAgentError,
  LogoutError,
  ProtocolError,
  RedfishError,
  SessionLimitError,
} from '../errors.js';
import type { HttpMethod, Transport, TransportResponse } from '../transport/index.js';
import { bodyText, dig, envelopeMessages, hasMessage, isJsonObject, parseJsonBody } from './envelope.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface SessionOptions {
  transport: Transport;
  /**
   * Who logs in. `null` logs in with null credentials, as HPE's tools do in-band over CHIF in the
   * production security state.
   */
  credentials: Credentials | null;
  logger?: Logger;
  /**
   * Told, synchronously, of every step that changes what the iLO may hold for this session (the
   * guardian process listens). It receives the token: it must keep it in memory only.
   */
  observer?: SessionObserver;
  /** Whether something else (a running guardian) deletes what the session leaves: messages say so. */
  guarded?: () => boolean;
}

/**
 * What someone who must delete the session if this process dies needs to know, in order. Each
 * call happens before the step it announces can have an effect (`loginStarted` before the POST is
 * sent), so whatever the moment of death, the observer knows at least as much as the iLO did.
 */
export interface SessionObserver {
  /** A session POST is about to be sent (user null: in-band null credentials); `at` is Date.now(). */
  loginStarted?(login: { user: string | null; at: number }): void;
  /** The iLO answered that POST with an error status: it made no session. */
  loginRefused?(): void;
  /** The iLO made a session; `path` may follow in a second call when the answer did not name it. */
  sessionCreated?(session: { path: string | null; token: string | null }): void;
  /** Nothing of ours is left on the iLO: every session made was deleted or found gone. */
  released?(): void;
}

export interface SessionRequest {
  method: HttpMethod;
  path: string;
  headers?: Readonly<Record<string, string>>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

/** The documented URI (reference §2.1). Tried first: iLO always has it, and it saves a round trip. */
export const DOCUMENTED_SESSIONS_PATH = '/redfish/v1/SessionService/Sessions';
const SERVICE_ROOT = '/redfish/v1/';
/** DELETE answers that mean the session is gone (401/404: it had expired or was deleted already). */
const GONE = new Set([200, 202, 204, 401, 404]);
const LOGIN_RETRIES_WHEN_BUSY = 3;

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed';

export class Session {
  readonly #transport: Transport;
  readonly #log: Logger | undefined;
  readonly #observer: SessionObserver;
  readonly #guarded: () => boolean;
  #credentials: Credentials | null;
  #token: string | null = null;
  #path: string | null = null;
  #state: State = 'new';
  /** The iLO no longer holds the session (deleted, or found gone). */
  #deleted = false;
  /** A session POST went out and no answer came back: the iLO may hold a session we cannot name. */
  #loginUnanswered = false;
  /** The DELETE of a session replaced by a re-login failed: it may still be on the iLO. */
  #oldSessionLeft = false;
  #generation = 0;
  #opening: Promise<void> | undefined;
  #relogin: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Aborted only by close()'s deadline: cuts a login or logout that takes too long. */
  readonly #kill = new AbortController();

  constructor(options: SessionOptions) {
    this.#transport = options.transport;
    this.#credentials = options.credentials;
    this.#log = options.logger;
    this.#observer = options.observer ?? {};
    this.#guarded = options.guarded ?? (() => false);
  }

  get state(): State {
    return this.#state;
  }

  /** The session's URI path on the iLO, once known. */
  get path(): string | null {
    return this.#path;
  }

  /** The session's Id (last segment of its URI). */
  get id(): string | null {
    const segments = this.#path?.split('/').filter(Boolean);
    return segments?.at(-1) ?? null;
  }

  get transport(): Transport {
    return this.#transport;
  }

  /**
   * Logs in. A `signal` that fires while the login is in flight does not cut it: the iLO may
   * already have made the session, and only its answer tells what to delete. Once the answer is
   * in, open() throws AbortedError and the caller's close() deletes the session. `deadline`
   * is the limit on that wait.
   */
  open(options: { signal?: AbortSignal; deadline?: AbortSignal } = {}): Promise<void> {
    if (this.#state !== 'new') return Promise.reject(new ClosedError(`open() on a session that is ${this.#state}`));
    if (options.signal?.aborted) return Promise.reject(abortedBy(options.signal));
    // Only a deadline cuts a login in flight (then nothing can tell whether the iLO made a session).
    if (options.deadline?.aborted) this.#kill.abort();
    options.deadline?.addEventListener('abort', () => this.#kill.abort(), { once: true });
    this.#state = 'opening';
    this.#opening = this.#login().then(() => {
      if (this.#state === 'opening') this.#state = 'open';
    });
    return this.#opening.then(() => {
      if (options.signal?.aborted) throw abortedBy(options.signal);
    });
  }

  /** Sends a request with the session's token; after a 401 logs in again once (shared) and retries. */
  request(request: SessionRequest): Promise<TransportResponse> {
    // Written with then() rather than async/await: this is the path every request takes, and each
    // await and async layer costs a promise and a turn of the microtask queue.
    return this.#attempt(request, true);
  }

  /** Waits for a re-login in progress, if any, then sends. */
  #attempt(request: SessionRequest, mayRelogin: boolean): Promise<TransportResponse> {
    return this.#relogin ? this.#relogin.catch(ignore).then(() => this.#send(request, mayRelogin)) : this.#send(request, mayRelogin);
  }

  #send(request: SessionRequest, mayRelogin: boolean): Promise<TransportResponse> {
    if (this.#state !== 'open') return Promise.reject(new ClosedError(`the session is ${this.#state}`));
    const generation = this.#generation;
    const sent = this.#transport.request({
      method: request.method,
      path: request.path,
      headers: { ...request.headers, 'X-Auth-Token': this.#token ?? '' },
      body: request.body,
      signal: request.signal,
    });
    if (!mayRelogin) return sent;
    return sent.then((response) => {
      if (response.status !== 401 || this.#state !== 'open') return response;
      return this.#reloginAfter(generation).then(() => this.#attempt(request, false));
    });
  }

  /**
   * Deletes the session (idempotent: every call returns the same promise). Waits for a login
   * in flight first, so a session the iLO is making is deleted too. `signal` bounds the whole
   * close; when it fires, whatever is still in flight is cut.
   */
  close(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#closing ??= this.#close(options.signal);
    return this.#closing;
  }

  /**
   * For a process that is leaving and can run nothing asynchronous: deletes the session with a
   * blocking request, when the transport can send one (CHIF). Answers whether it did.
   */
  closeSync(): boolean {
    const path = this.#path;
    const token = this.#token;
    // After a failed logout the path and token are kept for exactly this.
    if (this.#deleted || !path || !this.#transport.requestSync) return false;
    try {
      const response = this.#transport.requestSync({ method: 'DELETE', path, headers: token ? { 'X-Auth-Token': token } : {} });
      if (!GONE.has(response.status)) return false;
      this.#log?.warn({ session: path }, 'session deleted by a blocking request on the way out');
      this.#deleted = true;
      this.#token = null;
      this.#path = null;
      this.#credentials = null;
      this.#state = 'closed';
      if (!this.#oldSessionLeft && !this.#loginUnanswered) this.#notify('released');
      return true;
    } catch {
      return false;
    }
  }

  async #close(signal: AbortSignal | undefined): Promise<void> {
    const previous = this.#state;
    this.#state = 'closing';
    const cut = () => this.#kill.abort();
    if (signal?.aborted) cut();
    signal?.addEventListener('abort', cut, { once: true });
    let released = false;
    try {
      await this.#opening?.catch(() => undefined);
      await this.#relogin?.catch(() => undefined);
      if (this.#path !== null || this.#token !== null) {
        await this.#logout();
        // A token without a path (the iLO named no session) was not deleted: not released.
        released = this.#deleted;
      } else if (previous === 'opening' && this.#kill.signal.aborted) {
        const fate = this.#guarded() ? 'the guardian will look for it and delete it' : 'it stays until its idle timeout';
        this.#log?.error(`the login was cut off before the iLO answered; if the iLO made a session, ${fate}`);
      } else {
        released = true;
      }
      // A login that got no answer may have made a session nobody can name.
      released &&= !this.#loginUnanswered && !this.#oldSessionLeft;
    } finally {
      signal?.removeEventListener('abort', cut);
      if (this.#path === null || this.#deleted) {
        this.#deleted = true;
        this.#token = null;
        this.#path = null;
      }
      this.#credentials = null;
      this.#state = 'closed';
      if (released) this.#notify('released');
    }
  }

  // ---- login -------------------------------------------------------------------------------

  async #login(): Promise<void> {
    const credentials = this.#credentials;
    const body = Buffer.from(
      JSON.stringify(credentials ? { UserName: credentials.username, Password: credentials.password } : { UserName: null, Password: null }),
    );
    let collection = DOCUMENTED_SESSIONS_PATH;
    let discovered = false;
    for (let attempt = 1; ; attempt++) {
      this.#loginUnanswered = true;
      this.#notify('loginStarted', { user: credentials?.username ?? null, at: Date.now() });
      const response = await this.#transport.request({
        method: 'POST',
        path: collection,
        headers: { 'Content-Type': 'application/json' },
        body,
        signal: this.#kill.signal,
      });
      this.#loginUnanswered = false;
      // Record what the iLO made before anything that could throw.
      if (response.status >= 200 && response.status < 300) {
        await this.#adopt(response, collection);
        return;
      }
      this.#notify('loginRefused');
      const messages = envelopeMessages(response.body);
      if ((response.status === 404 || response.status === 405) && !discovered) {
        discovered = true;
        const found = await this.#discoverSessionsPath();
        if (found && found !== collection) {
          collection = found;
          continue;
        }
      }
      if (hasMessage(messages, 'SessionLimitExceeded')) throw new SessionLimitError({ status: response.status, messages });
      if (response.status === 503 && hasMessage(messages, 'ServiceTemporarilyUnavailable') && attempt < LOGIN_RETRIES_WHEN_BUSY) {
        await this.#pause(retryAfterMs(response.headers['retry-after']));
        continue;
      }
      if (response.status === 401 || (response.status === 403 && hasMessage(messages, 'InsufficientPrivilege'))) {
        throw new AuthError(`the iLO refused the login${credentials ? ` of ${credentials.username}` : ''}`, { status: response.status, messages });
      }
      // An at-limit answer has no published form: treat 503/403 on the session POST as "full".
      if (response.status === 503 || response.status === 403) throw new SessionLimitError({ status: response.status, messages });
      throw new RedfishError({ status: response.status, method: 'POST', path: collection, messages, body: bodyText(response.body) });
    }
  }

  /** Takes the token and the session's path from a successful login answer. */
  async #adopt(response: TransportResponse, collection: string): Promise<void> {
    const token = response.headers['x-auth-token'];
    if (token) this.#token = token;
    const location = response.headers.location;
    if (location) this.#path = pathOfLocation(location);
    if (!this.#path) {
      const body = parseJsonBody(response.body);
      const id = isJsonObject(body) ? body['@odata.id'] : undefined;
      if (typeof id === 'string' && id.startsWith('/')) {
        this.#path = id;
        this.#log?.warn('the login answer had no usable Location; using the body\'s @odata.id');
      }
    }
    this.#generation++;
    this.#notify('sessionCreated', { path: this.#path, token: this.#token });
    if (!this.#token) {
      // A session may exist that we cannot use; delete it if we can say which.
      throw new ProtocolError(`the iLO answered the login with ${response.status} but no X-Auth-Token`);
    }
    if (!this.#path) {
      this.#path = await this.#findMySession(collection);
      if (this.#path) this.#notify('sessionCreated', { path: this.#path, token: this.#token });
    }
    if (!this.#path) {
      this.#log?.error('the iLO gave no way to find this session (no Location, @odata.id or MySession); it cannot be deleted and stays until its idle timeout');
    }
    this.#log?.info({ session: this.#path }, 'session created');
  }

  /** The collection's Oem.Hpe.Links.MySession, or the member that says MySession: true. */
  async #findMySession(collection: string): Promise<string | null> {
    const get = async (path: string) => {
      const response = await this.#transport.request({ method: 'GET', path, headers: { 'X-Auth-Token': this.#token ?? '' }, signal: this.#kill.signal });
      return response.status === 200 ? parseJsonBody(response.body) : undefined;
    };
    const json = await get(collection);
    if (!isJsonObject(json)) return null;
    const mine = dig(json, ['Oem', 'Hpe', 'Links', 'MySession', '@odata.id']);
    if (typeof mine === 'string') {
      this.#log?.warn('the login answer named no session; found it through Oem.Hpe.Links.MySession');
      return mine;
    }
    for (const member of Array.isArray(json.Members) ? json.Members : []) {
      const path = isJsonObject(member) ? member['@odata.id'] : undefined;
      if (typeof path !== 'string') continue;
      const body = await get(path);
      if (isJsonObject(body) && dig(body, ['Oem', 'Hpe', 'MySession']) === true) return path;
    }
    return null;
  }

  async #discoverSessionsPath(): Promise<string | null> {
    const response = await this.#transport.request({ method: 'GET', path: SERVICE_ROOT, signal: this.#kill.signal });
    const root = parseJsonBody(response.body);
    const found = isJsonObject(root) ? dig(root, ['Links', 'Sessions', '@odata.id']) : undefined;
    return typeof found === 'string' && found.startsWith('/') ? found : null;
  }

  /** One re-login shared by every request that saw the same 401; then the old session is deleted. */
  async #reloginAfter(generation: number): Promise<void> {
    if (this.#generation !== generation) return; // another request already logged in again
    this.#relogin ??= (async () => {
      const old = { token: this.#token, path: this.#path };
      this.#log?.warn({ session: old.path }, 'the iLO no longer accepts the session token; logging in again');
      this.#token = null;
      this.#path = null;
      try {
        await this.#login();
      } finally {
        this.#relogin = undefined;
      }
      // Do not assume the old session is gone: a 401 can have other causes.
      if (old.path) {
        await this.#delete(old.path, old.token).catch(() => {
          this.#oldSessionLeft = true;
        });
      } else if (old.token) {
        this.#oldSessionLeft = true;
      }
    })();
    await this.#relogin;
  }

  // ---- logout ------------------------------------------------------------------------------

  async #logout(): Promise<void> {
    const path = this.#path;
    if (!path) return;
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.#delete(path, this.#token);
        this.#deleted = true;
        this.#log?.info({ session: path }, 'session deleted');
        return;
      } catch (error) {
        lastError = error;
        if (this.#kill.signal.aborted || !(error instanceof IloAgentError) || error instanceof RedfishError) break;
        await this.#pause(200).catch(() => undefined);
      }
    }
    throw new LogoutError(`could not delete the iLO session ${path}: ${(lastError as Error).message}`, lastError);
  }

  /** DELETE with the token; when the iLO refuses that form (405 seen in the field), with Basic. */
  async #delete(path: string, token: string | null): Promise<void> {
    const viaToken = token
      ? await this.#transport.request({ method: 'DELETE', path, headers: { 'X-Auth-Token': token }, signal: this.#kill.signal })
      : undefined;
    if (viaToken && GONE.has(viaToken.status)) return;
    const credentials = this.#credentials;
    if (credentials) {
      const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
      const viaBasic = await this.#transport.request({ method: 'DELETE', path, headers: { Authorization: `Basic ${basic}` }, signal: this.#kill.signal });
      if ((viaBasic.status >= 200 && viaBasic.status < 300) || viaBasic.status === 404) return;
      if (!viaToken) throw redfishError('DELETE', path, viaBasic);
    }
    throw redfishError('DELETE', path, viaToken as TransportResponse);
  }

  /** Tells the observer; its failure is never the session's. */
  #notify<K extends keyof SessionObserver>(event: K, ...args: Parameters<NonNullable<SessionObserver[K]>>): void {
    try {
      (this.#observer[event] as ((...a: unknown[]) => void) | undefined)?.call(this.#observer, ...args);
    } catch (error) {
      this.#log?.debug({ err: error, event }, 'the session observer failed');
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.#kill.signal;
      if (signal.aborted) {
        reject(new AbortedError('stopped'));
        return;
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new AbortedError('stopped'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * The path of a Location header. iLO sends an absolute URL with its own address, which breaks
 * clients that reached it by another name, through a port-forward or over IPv6 (python-ilorest-
 * library#114, #176): only the path is kept, and this never throws.
 */
export function pathOfLocation(location: string): string | null {
  const trimmed = location.trim();
  const path = trimmed.startsWith('/') ? trimmed : /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(trimmed)?.[1];
  if (!path) return null;
  return path.replace(/[?#].*$/, '') || null;
}

function retryAfterMs(header: string | undefined): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 5) * 1000 : 1000;
}

function redfishError(method: string, path: string, response: TransportResponse): RedfishError {
  return new RedfishError({ status: response.status, method, path, messages: envelopeMessages(response.body), body: bodyText(response.body) });
}


function ignore(): void {}

function abortedBy(signal: AbortSignal): AbortedError {
  const reason: unknown = signal.reason;
  return reason instanceof AbortedError ? reason : new AbortedError('stopped', typeof reason === 'string' ? (reason as NodeJS.Signals) : undefined);
}
