// The guardian process's logic: remember what the agent says, and when the pipe closes without
// "released" (the agent died: SIGKILL, the OOM killer, a native crash, or it could not delete
// its session), delete the session over the same kind of transport, within a bounded time.
//
// The hard case is an agent killed after the iLO made the session but before the agent read the
// login answer: nobody knows the token or the path. The guardian then looks for it: sessions of
// the same user and tag, logged in no earlier than 2 s before the login started (LoginTime has
// one-second steps, and so has the Date header the iLO's clock is read from), never used since,
// and absent from a listing taken before the login went out.
// That can also match another client's session of the same user made in the same seconds (the
// README's residual risk); it never matches an older or an active one.
import type { Logger, LevelWithSilent } from 'pino';
import { dig, DOCUMENTED_SESSIONS_PATH, isJsonObject, parseJsonBody } from '../session/index.js';
import { openHttpsTransport, openInbandTransport, type Transport } from '../transport/index.js';
import { parseMessage, type HelloMessage } from './protocol.js';

/** Everything after the pipe closed fits in this (main.ts exits hard a little later). */
export const GUARDIAN_DEADLINE_MS = 10_000;
/** One request of the guardian. */
const REQUEST_TIMEOUT_MS = 3_000;
/**
 * Listings after the agent died in its login, in ms after the pipe closed. The iLO may make the
 * session after the agent died (the POST was on its way), so one listing is not enough.
 */
const SCAN_SCHEDULE_MS = [0, 100, 300, 700, 1_500] as const;
/** LoginTime has one-second steps: a session can read up to this much earlier than it was made. */
const LOGIN_TIME_STEP_MS = 1_000;
/**
 * How much earlier than the login's start a LoginTime may read when no Date header gave the iLO's
 * clock (in-band): LoginTime's step, and a second for an iLO clock behind the host's. With a Date
 * header the offset itself is up to a second early (the header has one-second steps too), so only
 * LoginTime's step is added to it: the window is 2 s either way, never 3.
 */
const LOGIN_TIME_SLACK_MS = 2_000;
/** A session whose AccessTime moved further than this past its LoginTime was used: not ours. */
const UNUSED_SLACK_MS = 1_000;
/** DELETE answers that mean gone, as the session core reads them. */
const GONE = new Set([200, 202, 204, 401, 404]);
/** The user iLO gives in-band sessions made with null credentials. */
const SYSTEM_ADMINISTRATOR = 'system administrator';

export type GuardianOutcome = 'released' | 'nothing-to-do' | 'cleaned' | 'failed';

export interface GuardianDeps {
  /** The agent's lines; the iteration ends when the pipe closes. */
  lines: AsyncIterable<string>;
  /** Called once when the pipe closed, with the outcome still to come (main.ts arms its hard exit). */
  onInputEnd?: () => void;
  /** Opens the transport the hello describes (default: the project's HTTPS or CHIF transport). */
  openTransport?: (hello: HelloMessage) => Promise<Transport>;
  /** A logger at `level` writing to stderr (default: none; main.ts loads pino only when needed). */
  createLogger?: (level: LevelWithSilent) => Promise<Logger | undefined>;
  now?: () => number;
}

interface Known {
  path: string | null;
  token: string | null;
}

interface PendingLogin {
  user: string | null;
  at: number;
}

interface Snapshot {
  keys: Set<string>;
  /** When its answer arrived (host clock): it proves nothing about logins that started before. */
  answeredAt: number;
}

export async function runGuardian(deps: GuardianDeps): Promise<GuardianOutcome> {
  const now = deps.now ?? Date.now;
  let log: Logger | undefined;
  let hello: HelloMessage | undefined;
  let transport: Promise<Transport | undefined> | undefined;
  const known: Known[] = [];
  let pending: PendingLogin | undefined;
  let released = false;
  let ended = false;
  let snapshot: Snapshot | undefined;
  let snapshotStarted = false;
  /**
   * iLO clock minus host clock, from the Date header of the latest answer that had one: a lower
   * bound (the header drops the fraction of the second, and it was sent before it arrived).
   */
  let clockOffsetMs: number | undefined;

  const request = async (t: Transport, method: 'GET' | 'DELETE', path: string, headers: Record<string, string>, signal?: AbortSignal) => {
    const response = await t.request({ method, path, headers, signal });
    const date = Date.parse(response.headers.date ?? '');
    if (Number.isFinite(date)) clockOffsetMs = date - now();
    return response;
  };

  // The listing taken before a login went out proves which sessions are not that login's. Taken
  // only when it costs no session: in-band at once, over HTTPS with the agent's token.
  const maybeSnapshot = () => {
    // During a login the listing could hold its session; it is taken once that login is answered.
    if (snapshotStarted || ended || pending || !transport || !hello) return;
    const token = known.find((k) => k.token)?.token;
    if (hello.transport.kind === 'https' && !token) return;
    snapshotStarted = true;
    void (async () => {
      const t = await transport;
      if (!t || ended) return;
      const listed = await listSessions(t, hello.transport.kind === 'https' ? { 'X-Auth-Token': token as string } : {}).catch(() => undefined);
      if (listed) {
        snapshot = { keys: new Set(listed.members.map(sessionKey)), answeredAt: now() };
        log?.debug({ sessions: listed.members.length }, 'listed the sessions that exist before the next login');
      }
    })();
  };

  const listSessions = async (t: Transport, headers: Record<string, string>, signal?: AbortSignal) => {
    const response = await request(t, 'GET', DOCUMENTED_SESSIONS_PATH, headers, signal);
    if (response.status !== 200) return undefined;
    const body = parseJsonBody(response.body);
    if (!isJsonObject(body)) return undefined;
    const members = (Array.isArray(body.Members) ? body.Members : [])
      .map((m) => (isJsonObject(m) ? m['@odata.id'] : undefined))
      .filter((p): p is string => typeof p === 'string' && p.startsWith('/'));
    const mine = dig(body, ['Oem', 'Hpe', 'Links', 'MySession', '@odata.id']);
    return { members, mine: typeof mine === 'string' ? mine : null };
  };

  // ---- listening --------------------------------------------------------------------------
  for await (const line of deps.lines) {
    const message = parseMessage(line);
    if (!message) {
      log?.debug('ignored a line from the agent that is not a guardian message');
      continue;
    }
    switch (message.type) {
      case 'hello':
        if (hello) break;
        hello = message;
        log = message.logLevel === 'silent' ? undefined : await deps.createLogger?.(message.logLevel);
        log?.debug({ agentPid: message.agentPid, transport: message.transport.kind, library: message.transport.kind === 'chif' ? message.transport.library : undefined }, 'guardian watching');
        transport = (deps.openTransport ?? openTransport)(message).catch((error: unknown) => {
          log?.debug({ err: error }, 'the guardian could not open its transport (yet)');
          return undefined;
        });
        // After the lines already in the pipe: a login already under way makes a listing useless.
        setImmediate(maybeSnapshot);
        break;
      case 'login':
        // Retries of one login keep the first start; a re-login after an answer starts afresh.
        pending ??= { user: message.user, at: message.at };
        log?.debug({ user: message.user }, 'login started');
        break;
      case 'refused':
        pending = undefined;
        break;
      case 'session': {
        pending = undefined;
        const same = known.find((k) => (message.token !== null && k.token === message.token) || (message.path !== null && k.path === message.path));
        if (same) {
          same.path = message.path ?? same.path;
          same.token = message.token ?? same.token;
        } else {
          known.push({ path: message.path, token: message.token });
        }
        log?.debug({ session: message.path }, 'session made');
        maybeSnapshot();
        break;
      }
      case 'released':
        released = true;
        break;
    }
  }
  ended = true;
  deps.onInputEnd?.();

  // ---- the pipe closed ----------------------------------------------------------------------
  if (released) {
    log?.debug('the agent released its session; nothing to do');
    return 'released';
  }
  if (!hello || (known.length === 0 && !pending)) {
    log?.debug('the agent ended before any login; nothing to do');
    return 'nothing-to-do';
  }
  const start = now();
  const deadline = AbortSignal.timeout(GUARDIAN_DEADLINE_MS - 500);
  log?.info({ agentPid: hello.agentPid, sessions: known.map((k) => k.path), loginInFlight: pending !== undefined }, 'the agent ended without deleting its session; deleting it');
  const t = await Promise.race([transport, abortPromise(deadline)]);
  if (!t) {
    log?.warn('the guardian cannot reach the iLO; the session stays until its idle timeout');
    return 'failed';
  }
  const kind = hello.transport.kind;
  const credentials = hello.credentials;
  const basic = credentials && kind === 'https' ? { Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` } : undefined;
  const signal = (): AbortSignal => AbortSignal.any([deadline, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);

  /** Retries what failed without an answer until the deadline. */
  const persist = async <T>(what: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await what();
      } catch (error) {
        if (deadline.aborted || attempt >= 4) throw error;
        await sleep(150);
      }
    }
  };

  const deleteSession = async (path: string, token: string | null): Promise<boolean> => {
    if (token) {
      const viaToken = await persist(() => request(t, 'DELETE', path, { 'X-Auth-Token': token }, signal()));
      if (GONE.has(viaToken.status)) return true;
    }
    // The iLO refused the token form (405 is reported from the field): Basic, as HPE documents;
    // in-band, the channel itself is trusted.
    const auth = basic ?? (kind === 'chif' ? {} : undefined);
    if (!auth) return false;
    const fallback = await persist(() => request(t, 'DELETE', path, auth, signal()));
    return (fallback.status >= 200 && fallback.status < 300) || fallback.status === 404;
  };

  let failures = 0;
  let deleted = 0;
  const done = new Set<string>();
  // Newest first: an older one is usually gone already (a re-login deletes it).
  for (const session of [...known].reverse()) {
    try {
      let path = session.path;
      if (!path && session.token) {
        const listed = await persist(() => listSessions(t, { 'X-Auth-Token': session.token as string }, signal()));
        path = listed?.mine ?? null;
      }
      if (!path) {
        log?.warn('a session of the agent has no known path; it stays until its idle timeout');
        failures++;
        continue;
      }
      done.add(sessionKey(path));
      if (await deleteSession(path, session.token)) {
        deleted++;
        log?.info({ session: path }, 'deleted the session the agent left');
      } else {
        failures++;
        log?.warn({ session: path }, 'the iLO refused to delete the session the agent left');
      }
    } catch (error) {
      failures++;
      log?.warn({ err: error, session: session.path }, 'could not delete the session the agent left');
    }
  }

  if (pending) {
    const found = await scanForLogin(pending).catch((error: unknown) => {
      failures++;
      log?.warn({ err: error }, 'could not look for the session of the interrupted login');
      return 0;
    });
    deleted += found;
  }
  log?.debug({ ms: now() - start, deleted, failures }, 'guardian done');
  return failures > 0 ? 'failed' : 'cleaned';

  /** Lists the sessions a few times and deletes those the interrupted login may have made. */
  async function scanForLogin(login: PendingLogin): Promise<number> {
    const listAuth = basic ?? (kind === 'chif' ? {} : undefined);
    if (!listAuth) {
      log?.warn('no credentials to look for the session of the interrupted login');
      return 0;
    }
    const tag = kind === 'https' ? 'REST' : 'RESTHost';
    const usableSnapshot = snapshot && snapshot.answeredAt < login.at ? snapshot : undefined;
    let removed = 0;
    for (const offset of SCAN_SCHEDULE_MS) {
      const wait = start + offset - now();
      if (wait > 0) await sleep(wait);
      if (deadline.aborted) break;
      const listed = await persist(() => listSessions(t as Transport, listAuth, signal())).catch(() => undefined);
      if (!listed) continue;
      const fresh = listed.members.filter((path) => {
        const key = sessionKey(path);
        if (done.has(key) || usableSnapshot?.keys.has(key)) return false;
        // A Basic request's own transient session is the collection's MySession.
        if (listed.mine && sessionKey(listed.mine) === key) return false;
        return true;
      });
      for (const path of fresh) {
        const key = sessionKey(path);
        const response = await request(t as Transport, 'GET', path, listAuth, signal()).catch(() => undefined);
        if (!response) continue; // look again at the next listing
        done.add(key); // user, tag and LoginTime never change: one look decides
        if (response.status !== 200 || !isOurs(parseJsonBody(response.body), login, tag)) continue;
        if (await deleteSession(path, null).catch(() => false)) {
          removed++;
          log?.info({ session: path }, 'deleted the session of the login the agent did not live to see');
        } else {
          done.delete(key);
        }
      }
    }
    return removed;
  }

  function isOurs(body: unknown, login: PendingLogin, tag: string): boolean {
    if (!isJsonObject(body)) return false;
    const hpe = dig(body, ['Oem', 'Hpe']);
    if (!isJsonObject(hpe)) return false;
    const user = typeof body.UserName === 'string' ? body.UserName.toLowerCase() : undefined;
    const sameUser =
      login.user !== null ? user === login.user.toLowerCase() : hpe.UserType === 'System' || user === SYSTEM_ADMINISTRATOR;
    if (!sameUser) return false;
    if (typeof hpe.UserTag === 'string' && hpe.UserTag !== tag) return false;
    const loginTime = Date.parse(typeof hpe.LoginTime === 'string' ? hpe.LoginTime : '');
    // The earliest LoginTime the interrupted login can show. The Date header's offset is up to a
    // second early already: with the full 2 s added to it, a session made up to 3 s before the
    // login started would pass for the login's own.
    const earliest = clockOffsetMs === undefined ? login.at - LOGIN_TIME_SLACK_MS : login.at + clockOffsetMs - LOGIN_TIME_STEP_MS;
    if (!Number.isFinite(loginTime) || loginTime < earliest) return false;
    const accessTime = Date.parse(typeof hpe.AccessTime === 'string' ? hpe.AccessTime : '');
    // Nobody knew its token, so nobody used it; a session in use belongs to someone alive.
    if (Number.isFinite(accessTime) && accessTime - loginTime > UNUSED_SLACK_MS) return false;
    return true;
  }
}

/** The agent's transport, rebuilt: short timeouts, the guardian has seconds, not minutes. */
async function openTransport(hello: HelloMessage): Promise<Transport> {
  const spec = hello.transport;
  if (spec.kind === 'https') {
    return openHttpsTransport({ url: spec.url, ca: spec.ca ?? undefined, insecure: spec.insecure, timeoutMs: REQUEST_TIMEOUT_MS, connectTimeoutMs: REQUEST_TIMEOUT_MS });
  }
  return openInbandTransport({ libraryPath: spec.library, credentials: hello.credentials, timeoutMs: REQUEST_TIMEOUT_MS });
}

/** Compares session paths as iLO does: case-insensitively, %-decoded, without a trailing slash. */
function sessionKey(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // keep it as it is
  }
  return decoded.toLowerCase().replace(/\/+$/, '');
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function abortPromise(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}
