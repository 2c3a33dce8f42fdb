// Creating the session: the POST to the Sessions collection (or the external, app-token login),
// what its answer may be trusted for (the token; a path only under the collection the login went
// to), finding a session the answer did not name, and when a re-login may start. The Session
// (session.ts) owns the state; this file fills in what a login learns, as it learns it, so that a
// login that fails half-way still leaves the session knowing what to delete.
import type { Logger } from 'pino';
import { AbortedError, AuthError, IloAgentError, ProtocolError, RedfishError, SessionLimitError } from '../errors.js';
import { bodyText, dig, DOCUMENTED_SESSIONS_PATH, envelopeMessages, hasMessage, isJsonObject, isMySession, parseJsonBody, SERVICE_ROOT } from '../redfish/index.js';
import type { Transport, TransportResponse } from '../transport/index.js';
import { isSessionsCollection, readListing, sessionPathOf } from './session-path.js';

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

/** What the login knows of the session the iLO holds or may hold: written by the login, read by the Session. */
export interface LoginState {
  token: string | null;
  path: string | null;
  /** The path of the Sessions collection the login went to (a session's path must be under it). */
  collection: string;
  /** A session POST went out and no answer came back: the iLO may hold a session we cannot name. */
  unanswered: boolean;
  /** When the last session POST started, and as whom (for a search after an unanswered login). */
  start: { user: string | null; at: number } | undefined;
}

/** The SessionObserver events a login announces, each before the step can have an effect. */
export interface LoginEvents {
  loginStarted(login: { user: string | null; at: number }): void;
  loginRefused(): void;
  sessionCreated(session: { path: string | null; token: string | null }): void;
}

export interface LoginContext {
  transport: Transport;
  /** Null: in-band null credentials. Ignored when `external` is given. */
  credentials: Credentials | null;
  external: ExternalLogin | undefined;
  log: Logger | undefined;
  /** Cuts the login (close()'s deadline). */
  signal: AbortSignal;
  events: LoginEvents;
  /** The iLO made a session: called just before `sessionCreated` is told. */
  adopted(): void;
}

const LOGIN_RETRIES_WHEN_BUSY = 3;
/**
 * A login without an answer for this long is most likely held by the iLO's authentication failure
 * delay (AccountService `Oem.Hpe.AuthFailureDelayTimeSeconds`, 10 s by default, after
 * `AuthFailuresBeforeDelay` failures): said once, so that the wait does not look like a hang.
 */
export const LOGIN_WAIT_NOTICE_MS = 2_000;

export async function logIn(state: LoginState, context: LoginContext): Promise<void> {
  if (context.external) return loginExternally(state, context, context.external);
  const { credentials, events, log } = context;
  const body = Buffer.from(
    JSON.stringify(credentials ? { UserName: credentials.username, Password: credentials.password } : { UserName: null, Password: null }),
  );
  let collection = DOCUMENTED_SESSIONS_PATH;
  let discovered = false;
  for (let attempt = 1; ; attempt++) {
    state.unanswered = true;
    state.start = { user: credentials?.username ?? null, at: Date.now() };
    events.loginStarted(state.start);
    const notice = setTimeout(
      () => log?.warn({ waitedMs: LOGIN_WAIT_NOTICE_MS }, `the login has had no answer for ${LOGIN_WAIT_NOTICE_MS / 1000} s: the iLO delays logins after failed attempts; waiting`),
      LOGIN_WAIT_NOTICE_MS,
    );
    let response: TransportResponse;
    try {
      response = await context.transport.request({
        method: 'POST',
        path: collection,
        headers: { 'Content-Type': 'application/json' },
        body,
        signal: context.signal,
      });
    } finally {
      clearTimeout(notice);
    }
    state.unanswered = false;
    // Record what the iLO made before anything that could throw.
    if (response.status >= 200 && response.status < 300) {
      state.collection = collection;
      await adopt(state, context, response);
      return;
    }
    events.loginRefused();
    const messages = envelopeMessages(response.body);
    if ((response.status === 404 || response.status === 405) && !discovered) {
      discovered = true;
      const found = await discoverSessionsPath(context);
      if (found && found !== collection) {
        collection = found;
        continue;
      }
    }
    if (hasMessage(messages, 'SessionLimitExceeded')) throw new SessionLimitError({ status: response.status, messages });
    if (response.status === 503 && hasMessage(messages, 'ServiceTemporarilyUnavailable') && attempt < LOGIN_RETRIES_WHEN_BUSY) {
      await pause(retryAfterMs(response.headers['retry-after']), context.signal);
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
async function adopt(state: LoginState, context: LoginContext, response: TransportResponse): Promise<void> {
  const body = parseJsonBody(response.body);
  await adoptSession(state, context, response.headers['x-auth-token'], response.headers.location, isJsonObject(body) ? body['@odata.id'] : undefined, `the iLO answered the login with ${response.status} but no X-Auth-Token`);
}

/**
 * The external login: the observer hears "login started" before the call (the library may make
 * the session before it returns), and the answer is adopted exactly as a POST's would be.
 */
async function loginExternally(state: LoginState, context: LoginContext, external: ExternalLogin): Promise<void> {
  state.unanswered = true;
  state.start = { user: external.label, at: Date.now() };
  context.events.loginStarted(state.start);
  let answer: { token: string; location: string };
  try {
    answer = await external.acquire(context.signal);
  } catch (error) {
    // Only an error that says so leaves a possible session behind; any other made none.
    if ((error as { mayHaveSession?: unknown }).mayHaveSession !== true && !context.signal.aborted) {
      state.unanswered = false;
      context.events.loginRefused();
    }
    throw error;
  }
  state.unanswered = false;
  state.collection = DOCUMENTED_SESSIONS_PATH;
  await adoptSession(state, context, answer.token, answer.location, undefined, `the ${external.label} login answered no session token`);
}

async function adoptSession(state: LoginState, context: LoginContext, token: string | undefined, location: string | undefined, odataId: unknown, noTokenMessage: string): Promise<void> {
  const { log } = context;
  const collections = collectionsOf(state);
  if (token) state.token = token;
  if (location) {
    state.path = sessionPathOf(location, collections);
    if (!state.path) log?.warn({ location: location.slice(0, 200) }, 'the login answer\'s Location is not a session of the Sessions collection; ignored');
  }
  if (!state.path && odataId !== undefined) {
    state.path = sessionPathOf(odataId, collections);
    if (state.path) log?.warn('the login answer had no usable Location; using the body\'s @odata.id');
  }
  context.adopted();
  if (!state.token && !state.path) {
    // Answered, but named by nothing: as after a login without an answer, the iLO may hold a
    // session that only a search can find. The guardian keeps its pending login (no report),
    // close() does not say "released", and without a guardian the client searches (interruptedLogin).
    state.unanswered = true;
    throw new ProtocolError(noTokenMessage);
  }
  context.events.sessionCreated({ path: state.path, token: state.token });
  if (!state.token) {
    // A session may exist that we cannot use; it is deleted by its path (with Basic or the channel's trust).
    throw new ProtocolError(noTokenMessage);
  }
  if (!state.path) {
    const get = (path: string) => context.transport.request({ method: 'GET', path, headers: { 'X-Auth-Token': state.token ?? '' }, signal: context.signal });
    state.path = await findMySession(get, collectionsOf(state), log);
    if (state.path) context.events.sessionCreated({ path: state.path, token: state.token });
  }
  if (!state.path) {
    log?.error('the iLO gave no way to find this session (no usable Location, @odata.id or MySession); it cannot be deleted and stays until its idle timeout');
  }
  log?.info({ session: state.path }, 'session created');
}

/** Where a session of ours may be: the collection the login went to, or the documented one. */
function collectionsOf(state: LoginState): [string, string] {
  return [state.collection, DOCUMENTED_SESSIONS_PATH];
}

/**
 * The session of whoever `get` asks as (its token): the collection's Oem.Hpe.Links.MySession, or
 * the member that says MySession: true. `collections[0]` is listed; a path must be under one of them.
 */
async function findMySession(get: (path: string) => Promise<TransportResponse>, collections: readonly [string, ...string[]], log?: Logger): Promise<string | null> {
  const listed = readListing(await get(collections[0]), collections);
  if (!listed) return null;
  if (listed.mine) {
    log?.warn('the login answer named no session; found it through Oem.Hpe.Links.MySession');
    return listed.mine;
  }
  for (const path of listed.members) {
    const response = await get(path);
    if (response.status === 200 && isMySession(parseJsonBody(response.body))) return path;
  }
  return null;
}

async function discoverSessionsPath(context: LoginContext): Promise<string | null> {
  const response = await context.transport.request({ method: 'GET', path: SERVICE_ROOT, signal: context.signal });
  const root = parseJsonBody(response.body);
  const found = isJsonObject(root) ? dig(root, ['Links', 'Sessions', '@odata.id']) : undefined;
  // Credentials go to it: only a clean path to a Sessions collection.
  return typeof found === 'string' && isSessionsCollection(found) ? found : null;
}

/** A sleep that `signal` cuts (AbortedError). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
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

function retryAfterMs(header: string | undefined): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 5) * 1000 : 1000;
}

/**
 * Re-logins back off: the n-th login since the iLO last accepted a token waits 2^(n-2) s after the
 * previous one (the first is at once), at most RELOGIN_BACKOFF_MAX_MS. An iLO that answers 401 to
 * everything, or a password changed under `serve`, then costs a handful of logins, not one per
 * request: each failed login is an audit-log entry, is delayed, and counts toward a lockout.
 */
const RELOGIN_BACKOFF_BASE_MS = 1_000;
const RELOGIN_BACKOFF_MAX_MS = 300_000;

export class ReloginBackoff {
  /** Logins since the iLO last accepted a token, and the last one's start. */
  #streak = 0;
  #lastLoginAt = 0;
  #lastLoginError: unknown;
  #logged = false;

  /** The iLO accepted a token: the next re-login may start at once. */
  accepted(): void {
    this.#streak = 0;
  }

  /** A new session: its own refusals are said again. */
  newSession(): void {
    this.#logged = false;
  }

  /** Whether a refusal during the wait is the first one to say (said once per session). */
  firstRefusal(): boolean {
    const first = !this.#logged;
    this.#logged = true;
    return first;
  }

  /** How long before another login may start (0: now). */
  wait(): number {
    if (this.#streak === 0) return 0;
    const backoff = Math.min(RELOGIN_BACKOFF_BASE_MS * 2 ** (this.#streak - 1), RELOGIN_BACKOFF_MAX_MS);
    return Math.max(0, this.#lastLoginAt + backoff - Date.now());
  }

  /** Runs a re-login, counting it and keeping its failure for the requests that wait. */
  async run(login: () => Promise<void>): Promise<void> {
    this.#streak++;
    this.#lastLoginAt = Date.now();
    try {
      await login();
      this.#lastLoginError = undefined;
    } catch (error) {
      this.#lastLoginError = error;
      throw error;
    }
  }

  /** What a request gets while there is no session and the next login is not due yet. */
  error(wait: number): IloAgentError {
    const last = this.#lastLoginError;
    const why = last instanceof Error ? last.message : 'the session was lost and the last login failed';
    const code = last instanceof IloAgentError ? last.code : 'E_AUTH';
    return new IloAgentError(`${why}; no new login for ${Math.ceil(wait / 1000)} s`, code, { cause: last });
  }
}
