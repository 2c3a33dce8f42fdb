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
  UsageError,
} from '../errors.js';
import type { HttpMethod, Transport, TransportResponse } from '../transport/index.js';
import { withRequestLog } from './request-log.js';
import { bodyText, dig, DOCUMENTED_SESSIONS_PATH, envelopeMessages, hasMessage, isJsonObject, isMySession, mySessionLink, parseJsonBody, SERVICE_ROOT } from '../redfish/index.js';
import { deleteSession, goneByAuthority, goneByToken, isSessionsCollection, sessionPathOf } from './session-path.js';

export interface Credentials {
  username: string;
  password: string;
}

/**
 * A login done by someone else (HPE's library, from an application-account token): it answers a
 * token and the session's location, as a login answer would. A rejection whose error says
 * `mayHaveSession: true` leaves the login "unanswered" (a session may exist, nobody can name it).
 */
export interface ExternalLogin {
  /** Whose session it is, for logs and the guardian (e.g. "iLORest"). */
  label: string;
  acquire(signal: AbortSignal): Promise<{ token: string; location: string }>;
}

export interface SessionOptions {
  transport: Transport;
  /**
   * Who logs in. `null` logs in with null credentials, as HPE's tools do in-band over CHIF in the
   * production security state.
   */
  credentials: Credentials | null;
  /** Instead of a session POST: the session is made elsewhere and adopted (credentials then null). */
  externalLogin?: ExternalLogin;
  logger?: Logger;
  /**
   * Told, synchronously, of every step that changes what the iLO may hold for this session (the
   * guardian process listens). It receives the token: it must keep it in memory only.
   */
  observer?: SessionObserver;
  /** Whether something else (a running guardian) deletes what the session leaves: messages say so. */
  guarded?: () => boolean;
  /**
   * No session at all: every request carries the credentials (HTTP Basic), as HPE documents for
   * a full session table; the iLO makes a transient session per request and ends it with the
   * answer, so nothing is left to delete, whatever happens to this process.
   */
  basic?: boolean;
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

const LOGIN_RETRIES_WHEN_BUSY = 3;
/**
 * A login without an answer for this long is most likely held by the iLO's authentication failure
 * delay (AccountService `Oem.Hpe.AuthFailureDelayTimeSeconds`, 10 s by default, after
 * `AuthFailuresBeforeDelay` failures): said once, so that the wait does not look like a hang.
 */
export const LOGIN_WAIT_NOTICE_MS = 2_000;
/**
 * Re-logins back off: the n-th login since the iLO last accepted a token waits 2^(n-2) s after the
 * previous one (the first is at once), at most RELOGIN_BACKOFF_MAX_MS. An iLO that answers 401 to
 * everything, or a password changed under `serve`, then costs a handful of logins, not one per
 * request: each failed login is an audit-log entry, is delayed, and counts toward a lockout.
 */
const RELOGIN_BACKOFF_BASE_MS = 1_000;
const RELOGIN_BACKOFF_MAX_MS = 300_000;

interface Known {
  path: string;
  token: string | null;
}

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed';

export class Session {
  readonly #transport: Transport;
  readonly #log: Logger | undefined;
  readonly #observer: SessionObserver;
  readonly #guarded: () => boolean;
  readonly #external: ExternalLogin | undefined;
  /** The Authorization header of a Basic "session" (no login, no token); undefined otherwise. */
  #basic: string | undefined;
  #credentials: Credentials | null;
  #token: string | null = null;
  #path: string | null = null;
  #state: State = 'new';
  /** The iLO no longer holds the session (deleted, or found gone). */
  #deleted = false;
  /** A session POST went out and no answer came back: the iLO may hold a session we cannot name. */
  #loginUnanswered = false;
  /** When the last session POST started, and as whom (for a search after an unanswered login). */
  #loginStart: { user: string | null; at: number } | undefined;
  /** Sessions replaced by a re-login whose DELETE failed: deleted again at close. */
  readonly #leftovers: Known[] = [];
  /** A replaced session had a token but no path: it may be on the iLO and nobody can delete it. */
  #unnamedLeft = false;
  /** The path of the Sessions collection the login went to (a session's path must be under it). */
  #collection = DOCUMENTED_SESSIONS_PATH;
  /** Logins since the iLO last accepted a token (see RELOGIN_BACKOFF_BASE_MS), and the last one's start. */
  #streak = 0;
  #lastLoginAt = 0;
  #lastLoginError: unknown;
  #backoffLogged = false;
  #generation = 0;
  /** The generation whose session an accepted iLO reset (Manager.Reset) ended, if any. */
  #resetGeneration: number | undefined;
  #opening: Promise<void> | undefined;
  #relogin: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Aborted only by close()'s deadline: cuts a login or logout that takes too long. */
  readonly #kill = new AbortController();

  constructor(options: SessionOptions) {
    this.#transport = withRequestLog(options.transport, options.logger);
    this.#credentials = options.credentials;
    this.#external = options.externalLogin;
    this.#log = options.logger;
    this.#observer = options.observer ?? {};
    this.#guarded = options.guarded ?? (() => false);
    if (options.basic) {
      if (!options.credentials || options.externalLogin) throw new UsageError('Basic authentication needs a user name and password');
      this.#basic = `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
    }
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
    // Basic: nothing to log in to; a wrong password shows at the first request.
    this.#opening = (this.#basic ? Promise.resolve() : this.#login()).then(() => {
      if (this.#state === 'opening') this.#state = 'open';
    });
    return this.#opening.then(() => {
      if (options.signal?.aborted) throw abortedBy(options.signal);
    });
  }

  /**
   * Sends a request with the session's token; after a 401 logs in again once (shared by every
   * request that saw it, and subject to the re-login backoff) and retries.
   */
  request(request: SessionRequest): Promise<TransportResponse> {
    // Written with then() rather than async/await: this is the path every request takes, and each
    // await and async layer costs a promise and a turn of the microtask queue.
    return this.#attempt(request, true);
  }

  /**
   * A session POST that got no answer (the iLO may hold a session nobody can name): as whom and
   * when it started, for a search of the Sessions collection; null otherwise.
   */
  get interruptedLogin(): { user: string | null; at: number } | null {
    return this.#loginUnanswered && this.#loginStart ? { ...this.#loginStart } : null;
  }

  /** Waits for a re-login in progress, if any, then sends. */
  #attempt(request: SessionRequest, mayRelogin: boolean): Promise<TransportResponse> {
    return this.#relogin ? this.#relogin.catch(ignore).then(() => this.#send(request, mayRelogin)) : this.#send(request, mayRelogin);
  }

  #send(request: SessionRequest, mayRelogin: boolean): Promise<TransportResponse> {
    if (this.#state !== 'open') return Promise.reject(new ClosedError(`the session is ${this.#state}`));
    if (this.#basic) return this.#sendBasic(request, this.#basic);
    const generation = this.#generation;
    // No session: a re-login failed. The next one is tried once its backoff has passed.
    if (this.#token === null) return this.#reloginAfter(generation).then(() => this.#attempt(request, false));
    const sent = this.#transport.request({
      method: request.method,
      path: request.path,
      headers: { ...request.headers, 'X-Auth-Token': this.#token },
      body: request.body,
      signal: request.signal,
    });
    return sent.then((response) => {
      if (response.status !== 401) {
        if (generation === this.#generation) this.#streak = 0; // the iLO accepts this token
        // An iLO reset ends every session (HPE documents it as a way to clear them all).
        if (response.status < 300 && request.method === 'POST' && MANAGER_RESET.test(request.path)) this.#resetGeneration = generation;
        return response;
      }
      if (!mayRelogin || this.#state !== 'open') return response;
      // Another request's re-login gave a new token, or is getting one: try that one.
      if (generation !== this.#generation || this.#relogin) return this.#attempt(request, false);
      const wait = this.#reloginWait();
      if (wait > 0) {
        // The 401 is the answer until the backoff has passed: no login per request.
        if (!this.#backoffLogged) this.#log?.warn({ seconds: Math.ceil(wait / 1000) }, 'the iLO refuses the token of a session it just made; not logging in again yet');
        this.#backoffLogged = true;
        return response;
      }
      return this.#reloginAfter(generation).then(() => this.#attempt(request, false));
    });
  }

  #sendBasic(request: SessionRequest, authorization: string): Promise<TransportResponse> {
    const headers = Object.fromEntries(Object.entries(request.headers ?? {}).filter(([name]) => !/^(x-auth-token|authorization)$/i.test(name)));
    const sent = this.#transport.request({ method: request.method, path: request.path, headers: { ...headers, Authorization: authorization }, body: request.body, signal: request.signal });
    return sent.then((response) => {
      // Every request is a login: a 401 is the credentials refused (there is no token to renew).
      if (response.status === 401) {
        throw new AuthError(`the iLO refused the Basic credentials of ${this.#credentials?.username ?? 'the user'}`, { status: 401, messages: envelopeMessages(response.body) });
      }
      return response;
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
    // After a failed logout the path and token are kept for exactly this.
    if (this.#deleted || !this.#path || !this.#transport.requestSync) return false;
    try {
      for (const known of [...this.#leftovers]) {
        if (this.#deleteSync(known.path, known.token)) this.#leftovers.splice(this.#leftovers.indexOf(known), 1);
      }
      if (!this.#deleteSync(this.#path, this.#token)) return false;
      this.#log?.warn({ session: this.#path }, 'session deleted by a blocking request on the way out');
      this.#deleted = true;
      this.#token = null;
      this.#path = null;
      this.#credentials = null;
      this.#state = 'closed';
      if (this.#leftovers.length === 0 && !this.#unnamedLeft && !this.#loginUnanswered) this.#notify('released');
      return true;
    } catch {
      return false;
    }
  }

  /** deleteSession's rule, with blocking requests. */
  #deleteSync(path: string, token: string | null): boolean {
    const send = (headers: Record<string, string>) => (this.#transport.requestSync as NonNullable<Transport['requestSync']>)({ method: 'DELETE', path, headers });
    if (token && goneByToken(send({ 'X-Auth-Token': token }))) return true;
    const authority = this.#authority();
    return authority !== undefined && goneByAuthority(send(authority));
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
      // Sessions an earlier re-login could not delete go first: the current one's error wins.
      const leftoverError = await this.#deleteLeftovers();
      if (this.#resetGeneration !== undefined && this.#resetGeneration === this.#generation && this.#path !== null) {
        // Nothing to delete, and the iLO may be away for tens of seconds: no DELETE is sent.
        this.#log?.warn({ session: this.#path }, 'the iLO reset (Manager.Reset) ended the session: nothing left to delete');
        this.#deleted = true;
        released = true;
      } else if (this.#path !== null || this.#token !== null) {
        await this.#logout();
        // A token without a path (the iLO named no session) was not deleted: not released.
        released = this.#deleted;
      } else if (previous === 'opening' && this.#kill.signal.aborted) {
        const fate = this.#guarded() ? 'the guardian will look for it and delete it' : 'it stays until its idle timeout';
        this.#log?.error(`the login was cut off before the iLO answered; if the iLO made a session, ${fate}`);
      } else {
        released = true;
      }
      if (this.#leftovers.length > 0) {
        // A replaced session is still on the iLO: whoever watches (the guardian) must not stand down.
        released = false;
        const paths = this.#leftovers.map((k) => k.path).join(', ');
        throw new LogoutError(`could not delete the iLO session ${paths} that a re-login replaced: ${(leftoverError as Error).message}`, leftoverError);
      }
      // A login that got no answer may have made a session nobody can name.
      released &&= !this.#loginUnanswered && !this.#unnamedLeft;
    } finally {
      signal?.removeEventListener('abort', cut);
      if (this.#path === null || this.#deleted) {
        this.#deleted = true;
        this.#token = null;
        this.#path = null;
      }
      this.#credentials = null;
      // The Basic header is the password in another form: it goes with the credentials.
      this.#basic = undefined;
      this.#state = 'closed';
      if (released) this.#notify('released');
    }
  }

  /** Tries once more to delete the sessions replaced by re-logins; answers the last failure. */
  async #deleteLeftovers(): Promise<unknown> {
    let failure: unknown;
    for (const known of [...this.#leftovers]) {
      try {
        await this.#delete(known.path, known.token);
        this.#leftovers.splice(this.#leftovers.indexOf(known), 1);
        this.#log?.info({ session: known.path }, 'earlier session deleted');
      } catch (error) {
        failure = error;
      }
    }
    return failure;
  }

  // ---- login -------------------------------------------------------------------------------

  async #login(): Promise<void> {
    if (this.#external) return this.#loginExternally(this.#external);
    const credentials = this.#credentials;
    const body = Buffer.from(
      JSON.stringify(credentials ? { UserName: credentials.username, Password: credentials.password } : { UserName: null, Password: null }),
    );
    let collection = DOCUMENTED_SESSIONS_PATH;
    let discovered = false;
    for (let attempt = 1; ; attempt++) {
      this.#loginUnanswered = true;
      this.#loginStart = { user: credentials?.username ?? null, at: Date.now() };
      this.#notify('loginStarted', this.#loginStart);
      const notice = setTimeout(
        () => this.#log?.warn({ waitedMs: LOGIN_WAIT_NOTICE_MS }, `the login has had no answer for ${LOGIN_WAIT_NOTICE_MS / 1000} s: the iLO delays logins after failed attempts; waiting`),
        LOGIN_WAIT_NOTICE_MS,
      );
      let response: TransportResponse;
      try {
        response = await this.#transport.request({
          method: 'POST',
          path: collection,
          headers: { 'Content-Type': 'application/json' },
          body,
          signal: this.#kill.signal,
        });
      } finally {
        clearTimeout(notice);
      }
      this.#loginUnanswered = false;
      // Record what the iLO made before anything that could throw.
      if (response.status >= 200 && response.status < 300) {
        this.#collection = collection;
        await this.#adopt(response);
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

  /**
   * Takes the token and the session's path from a successful login answer. The path is checked
   * once, here: a session of the collection the login went to, nothing else (sessionPathOf). A
   * Location that fails falls back to the body's `@odata.id`, then to what the iLO says of the
   * token itself (the collection's MySession). Nothing is guessed: a session found none of these
   * ways is reported, and kept from "released" so that a guardian tries too.
   */
  async #adopt(response: TransportResponse): Promise<void> {
    const body = parseJsonBody(response.body);
    await this.#adoptSession(response.headers['x-auth-token'], response.headers.location, isJsonObject(body) ? body['@odata.id'] : undefined, `the iLO answered the login with ${response.status} but no X-Auth-Token`);
  }

  /**
   * The external login: the observer hears "login started" before the call (the library may make
   * the session before it returns), and the answer is adopted exactly as a POST's would be.
   */
  async #loginExternally(external: ExternalLogin): Promise<void> {
    this.#loginUnanswered = true;
    this.#loginStart = { user: external.label, at: Date.now() };
    this.#notify('loginStarted', this.#loginStart);
    let answer: { token: string; location: string };
    try {
      answer = await external.acquire(this.#kill.signal);
    } catch (error) {
      // Only an error that says so leaves a possible session behind; any other made none.
      if ((error as { mayHaveSession?: unknown }).mayHaveSession !== true && !this.#kill.signal.aborted) {
        this.#loginUnanswered = false;
        this.#notify('loginRefused');
      }
      throw error;
    }
    this.#loginUnanswered = false;
    this.#collection = DOCUMENTED_SESSIONS_PATH;
    await this.#adoptSession(answer.token, answer.location, undefined, `the ${external.label} login answered no session token`);
  }

  async #adoptSession(token: string | undefined, location: string | undefined, odataId: unknown, noTokenMessage: string): Promise<void> {
    const collections = this.#collections();
    if (token) this.#token = token;
    if (location) {
      this.#path = sessionPathOf(location, collections);
      if (!this.#path) this.#log?.warn({ location: location.slice(0, 200) }, 'the login answer\'s Location is not a session of the Sessions collection; ignored');
    }
    if (!this.#path && odataId !== undefined) {
      this.#path = sessionPathOf(odataId, collections);
      if (this.#path) this.#log?.warn('the login answer had no usable Location; using the body\'s @odata.id');
    }
    this.#generation++;
    this.#backoffLogged = false;
    this.#notify('sessionCreated', { path: this.#path, token: this.#token });
    if (!this.#token) {
      // A session may exist that we cannot use; delete it if we can say which.
      throw new ProtocolError(noTokenMessage);
    }
    if (!this.#path) {
      this.#path = await this.#findMySession(this.#collection);
      if (this.#path) this.#notify('sessionCreated', { path: this.#path, token: this.#token });
    }
    if (!this.#path) {
      this.#log?.error('the iLO gave no way to find this session (no usable Location, @odata.id or MySession); it cannot be deleted and stays until its idle timeout');
    }
    this.#log?.info({ session: this.#path }, 'session created');
  }

  /** Where a session of ours may be: the collection the login went to, or the documented one. */
  #collections(): string[] {
    return [this.#collection, DOCUMENTED_SESSIONS_PATH];
  }

  /** The collection's Oem.Hpe.Links.MySession, or the member that says MySession: true. */
  async #findMySession(collection: string): Promise<string | null> {
    const get = async (path: string) => {
      const response = await this.#transport.request({ method: 'GET', path, headers: { 'X-Auth-Token': this.#token ?? '' }, signal: this.#kill.signal });
      return response.status === 200 ? parseJsonBody(response.body) : undefined;
    };
    const json = await get(collection);
    if (!isJsonObject(json)) return null;
    const mine = sessionPathOf(mySessionLink(json), this.#collections());
    if (mine) {
      this.#log?.warn('the login answer named no session; found it through Oem.Hpe.Links.MySession');
      return mine;
    }
    for (const member of Array.isArray(json.Members) ? json.Members : []) {
      const path = sessionPathOf(isJsonObject(member) ? member['@odata.id'] : undefined, this.#collections());
      if (!path) continue;
      const body = await get(path);
      if (isMySession(body)) return path;
    }
    return null;
  }

  async #discoverSessionsPath(): Promise<string | null> {
    const response = await this.#transport.request({ method: 'GET', path: SERVICE_ROOT, signal: this.#kill.signal });
    const root = parseJsonBody(response.body);
    const found = isJsonObject(root) ? dig(root, ['Links', 'Sessions', '@odata.id']) : undefined;
    // Credentials go to it: only a clean path to a Sessions collection.
    return typeof found === 'string' && isSessionsCollection(found) ? found : null;
  }

  /** How long before another login may start (0: now). */
  #reloginWait(): number {
    if (this.#streak === 0) return 0;
    const backoff = Math.min(RELOGIN_BACKOFF_BASE_MS * 2 ** (this.#streak - 1), RELOGIN_BACKOFF_MAX_MS);
    return Math.max(0, this.#lastLoginAt + backoff - Date.now());
  }

  /**
   * One re-login shared by every request that saw the same 401. The old session is deleted first:
   * that frees the slot the new login needs in a full table, and a failed login then leaves
   * nothing behind. An old session that cannot be deleted is kept, and deleted again at close.
   */
  async #reloginAfter(generation: number): Promise<void> {
    if (this.#generation !== generation) return; // another request already logged in again
    if (!this.#relogin) {
      const wait = this.#reloginWait();
      if (wait > 0) throw this.#backoffError(wait);
      const relogin = this.#replaceSession();
      this.#relogin = relogin;
      // Cleared before the requests that wait on it send again (reactions run in order).
      relogin.then(
        () => this.#relogin === relogin && (this.#relogin = undefined),
        () => this.#relogin === relogin && (this.#relogin = undefined),
      );
    }
    await this.#relogin;
  }

  async #replaceSession(): Promise<void> {
    const old = { token: this.#token, path: this.#path };
    this.#token = null;
    this.#path = null;
    if (old.path) {
      this.#log?.warn({ session: old.path }, 'the iLO no longer accepts the session token; deleting it and logging in again');
      // Do not assume the old session is gone: a 401 can have other causes.
      await this.#delete(old.path, old.token).catch((error: unknown) => {
        this.#log?.warn({ err: error, session: old.path }, 'could not delete the old session; trying again at close');
        this.#leftovers.push({ path: old.path as string, token: old.token });
      });
    } else if (old.token) {
      this.#unnamedLeft = true;
    }
    this.#streak++;
    this.#lastLoginAt = Date.now();
    try {
      await this.#login();
      this.#lastLoginError = undefined;
    } catch (error) {
      this.#lastLoginError = error;
      throw error;
    }
  }

  /** What a request gets while there is no session and the next login is not due yet. */
  #backoffError(wait: number): IloAgentError {
    const last = this.#lastLoginError;
    const why = last instanceof Error ? last.message : 'the session was lost and the last login failed';
    const code = last instanceof IloAgentError ? last.code : 'E_AUTH';
    return new IloAgentError(`${why}; no new login for ${Math.ceil(wait / 1000)} s`, code, { cause: last });
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

  /**
   * DELETE with the token; unless that answers a 2xx, with Basic credentials (HPE documents them for
   * deleting sessions, and a 405 to the token form is reported from the field) or in-band on the
   * channel's trust, which also confirms a 401 or 404 (deleteSession). Resolves only when gone.
   */
  async #delete(path: string, token: string | null): Promise<void> {
    const send = (target: string, headers: Record<string, string>) => this.#transport.request({ method: 'DELETE', path: target, headers, signal: this.#kill.signal });
    const refused = await deleteSession(send, path, token, this.#authority());
    if (!refused) return;
    if (refused.status === 0) throw new IloAgentError(`cannot delete ${path}: no token and no credentials`, 'E_REDFISH');
    throw redfishError('DELETE', path, refused);
  }

  /** Who may delete a session without its token: Basic credentials, or in-band the channel itself. */
  #authority(): Record<string, string> | undefined {
    const credentials = this.#credentials;
    if (credentials) return { Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` };
    return this.#transport.kind === 'chif' ? {} : undefined;
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

/** `POST …/Managers/<id>/Actions/Manager.Reset`: the iLO resets and ends every session. */
const MANAGER_RESET = /^\/redfish\/v1\/Managers\/[^/?#]+\/Actions\/Manager\.Reset\/?(?:[?#].*)?$/i;

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
