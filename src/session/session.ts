// Exactly one iLO session, held in memory only, and always deleted: its states (new, opening,
// open, closing, closed), the request path with one shared re-login after a 401, close and the
// blocking last-resort close, and the observer told of each step. Creating the session is in
// login.ts, deleting it in logout.ts.
//
// The token and password live in private fields of this object and nowhere else: never logged,
// never in an error message, never on disk. What can be said about the session (its URI) is not
// a secret: anyone who may list sessions sees it.
import type { Logger } from 'pino';
import { AbortedError, AuthError, ClosedError, LogoutError, UsageError } from '../errors.js';
import type { HttpMethod, Transport, TransportResponse } from '../transport/index.js';
import { withRequestLog } from './request-log.js';
import { DOCUMENTED_SESSIONS_PATH, envelopeMessages } from '../redfish/index.js';
import { logIn, ReloginBackoff, type Credentials, type ExternalLogin, type LoginContext, type LoginState } from './login.js';
import { authorityOf, basicAuthorization, deleteKnown, deleteKnownSync, deleteLeftovers, deleteLeftoversSync, logOut, type Deleter, type Leftover } from './logout.js';

export type { Credentials, ExternalLogin } from './login.js';
export { LOGIN_WAIT_NOTICE_MS } from './login.js';

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
  /** The current session's token and path, as the login (login.ts) learns them. */
  readonly #held: LoginState = { token: null, path: null, collection: DOCUMENTED_SESSIONS_PATH, unanswered: false, start: undefined };
  #state: State = 'new';
  /** The iLO no longer holds the session (deleted, or found gone). */
  #deleted = false;
  /** Sessions replaced by a re-login whose DELETE failed: deleted again at close. */
  readonly #leftovers: Leftover[] = [];
  /** A replaced session had a token but no path: it may be on the iLO and nobody can delete it. */
  #unnamedLeft = false;
  readonly #backoff = new ReloginBackoff();
  #generation = 0;
  /** The generation whose session an accepted iLO reset (Manager.Reset) ended, if any. */
  #resetGeneration: number | undefined;
  #opening: Promise<void> | undefined;
  #relogin: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Aborted only by close()'s deadline: cuts a login or logout that takes too long. */
  readonly #kill = new AbortController();
  readonly #deleter: Deleter;

  constructor(options: SessionOptions) {
    this.#transport = withRequestLog(options.transport, options.logger);
    this.#credentials = options.credentials;
    this.#external = options.externalLogin;
    this.#log = options.logger;
    this.#observer = options.observer ?? {};
    this.#guarded = options.guarded ?? (() => false);
    if (options.basic) {
      if (!options.credentials || options.externalLogin) throw new UsageError('Basic authentication needs a user name and password');
      this.#basic = basicAuthorization(options.credentials);
    }
    this.#deleter = {
      transport: this.#transport,
      authority: () => authorityOf(this.#credentials, this.#transport),
      signal: this.#kill.signal,
      log: this.#log,
    };
  }

  get state(): State {
    return this.#state;
  }

  /** The session's URI path on the iLO, once known. */
  get path(): string | null {
    return this.#held.path;
  }

  /** The session's Id (last segment of its URI). */
  get id(): string | null {
    const segments = this.#held.path?.split('/').filter(Boolean);
    return segments?.at(-1) ?? null;
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
    const held = this.#held;
    return held.unanswered && held.start ? { ...held.start } : null;
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
    const token = this.#held.token;
    if (token === null) return this.#reloginAfter(generation).then(() => this.#attempt(request, false));
    const sent = this.#transport.request({
      method: request.method,
      path: request.path,
      headers: { ...request.headers, 'X-Auth-Token': token },
      body: request.body,
      signal: request.signal,
    });
    return sent.then((response) => {
      if (response.status !== 401) {
        if (generation === this.#generation) this.#backoff.accepted(); // the iLO accepts this token
        // An iLO reset ends every session (HPE documents it as a way to clear them all).
        if (response.status < 300 && request.method === 'POST' && MANAGER_RESET.test(request.path)) this.#resetGeneration = generation;
        return response;
      }
      if (!mayRelogin || this.#state !== 'open') return response;
      // Another request's re-login gave a new token, or is getting one: try that one.
      if (generation !== this.#generation || this.#relogin) return this.#attempt(request, false);
      const wait = this.#backoff.wait();
      if (wait > 0) {
        // The 401 is the answer until the backoff has passed: no login per request.
        if (this.#backoff.firstRefusal()) this.#log?.warn({ seconds: Math.ceil(wait / 1000) }, 'the iLO refuses the token of a session it just made; not logging in again yet');
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
    const held = this.#held;
    if (this.#deleted || !held.path || !this.#transport.requestSync) return false;
    try {
      deleteLeftoversSync(this.#deleter, this.#leftovers);
      if (!deleteKnownSync(this.#deleter, held.path, held.token)) return false;
      this.#log?.warn({ session: held.path }, 'session deleted by a blocking request on the way out');
      this.#deleted = true;
      held.token = null;
      held.path = null;
      this.#credentials = null;
      this.#state = 'closed';
      if (this.#leftovers.length === 0 && !this.#unnamedLeft && !held.unanswered) this.#notify('released');
      return true;
    } catch {
      return false;
    }
  }

  async #close(signal: AbortSignal | undefined): Promise<void> {
    const held = this.#held;
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
      const leftoverError = await deleteLeftovers(this.#deleter, this.#leftovers);
      if (this.#resetGeneration !== undefined && this.#resetGeneration === this.#generation && held.path !== null) {
        // Nothing to delete, and the iLO may be away for tens of seconds: no DELETE is sent.
        this.#log?.warn({ session: held.path }, 'the iLO reset (Manager.Reset) ended the session: nothing left to delete');
        this.#deleted = true;
        released = true;
      } else if (held.path !== null || held.token !== null) {
        if (held.path) {
          await logOut(this.#deleter, held.path, held.token);
          this.#deleted = true;
        }
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
      released &&= !held.unanswered && !this.#unnamedLeft;
    } finally {
      signal?.removeEventListener('abort', cut);
      if (held.path === null || this.#deleted) {
        this.#deleted = true;
        held.token = null;
        held.path = null;
      }
      this.#credentials = null;
      // The Basic header is the password in another form: it goes with the credentials.
      this.#basic = undefined;
      this.#state = 'closed';
      if (released) this.#notify('released');
    }
  }

  // ---- login (login.ts) ---------------------------------------------------------------------

  #login(): Promise<void> {
    return logIn(this.#held, this.#loginContext());
  }

  #loginContext(): LoginContext {
    return {
      transport: this.#transport,
      credentials: this.#credentials,
      external: this.#external,
      log: this.#log,
      signal: this.#kill.signal,
      events: {
        loginStarted: (login) => this.#notify('loginStarted', login),
        loginRefused: () => this.#notify('loginRefused'),
        sessionCreated: (session) => this.#notify('sessionCreated', session),
      },
      adopted: () => {
        this.#generation++;
        this.#backoff.newSession();
      },
    };
  }

  /**
   * One re-login shared by every request that saw the same 401. The old session is deleted first:
   * that frees the slot the new login needs in a full table, and a failed login then leaves
   * nothing behind. An old session that cannot be deleted is kept, and deleted again at close.
   */
  async #reloginAfter(generation: number): Promise<void> {
    if (this.#generation !== generation) return; // another request already logged in again
    if (!this.#relogin) {
      const wait = this.#backoff.wait();
      if (wait > 0) throw this.#backoff.error(wait);
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
    const held = this.#held;
    const old = { token: held.token, path: held.path };
    held.token = null;
    held.path = null;
    if (old.path) {
      this.#log?.warn({ session: old.path }, 'the iLO no longer accepts the session token; deleting it and logging in again');
      // Do not assume the old session is gone: a 401 can have other causes.
      await deleteKnown(this.#deleter, old.path, old.token).catch((error: unknown) => {
        this.#log?.warn({ err: error, session: old.path }, 'could not delete the old session; trying again at close');
        this.#leftovers.push({ path: old.path as string, token: old.token });
      });
    } else if (old.token) {
      this.#unnamedLeft = true;
    }
    await this.#backoff.run(() => this.#login());
  }

  /** Tells the observer; its failure is never the session's. */
  #notify<K extends keyof SessionObserver>(event: K, ...args: Parameters<NonNullable<SessionObserver[K]>>): void {
    try {
      (this.#observer[event] as ((...a: unknown[]) => void) | undefined)?.call(this.#observer, ...args);
    } catch (error) {
      this.#log?.debug({ err: error, event }, 'the session observer failed');
    }
  }

}

/** `POST …/Managers/<id>/Actions/Manager.Reset`: the iLO resets and ends every session. */
const MANAGER_RESET = /^\/redfish\/v1\/Managers\/[^/?#]+\/Actions\/Manager\.Reset\/?(?:[?#].*)?$/i;

function ignore(): void {}

function abortedBy(signal: AbortSignal): AbortedError {
  const reason: unknown = signal.reason;
  return reason instanceof AbortedError ? reason : new AbortedError('stopped', typeof reason === 'string' ? (reason as NodeJS.Signals) : undefined);
}
