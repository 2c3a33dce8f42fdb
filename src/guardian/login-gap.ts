// The login gap: a session POST went out and its answer never came back (the agent died, or the
// answer timed out), so nobody has the token or the path of the session the iLO may have made.
// It is looked for in the Sessions collection: sessions of the same user and tag, logged in no
// earlier than 2 s before the login started (LoginTime has one-second steps, and so has the Date
// header the iLO's clock is read from), never used since, and not known to be someone else's.
// That can also match another client's session of the same user made in the same seconds (the
// README's residual risk); it never matches an older or an active one. Used by the guardian, and
// by an agent without a guardian whose own login timed out.
import type { Logger } from 'pino';
import { DOCUMENTED_SESSIONS_PATH, hpeOem, isJsonObject, parseJsonBody } from '../redfish/index.js';
import { deleteSession, readListing } from '../session/index.js';
import type { Transport, TransportResponse } from '../transport/index.js';
import { timeoutSignal } from '../timeout-signal.js';

/**
 * Listings, in ms after the search started. The iLO may make the session after the login's
 * client gave up (the POST was on its way), so one listing is not enough.
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
/** The user iLO gives in-band sessions made with null credentials. */
const SYSTEM_ADMINISTRATOR = 'system administrator';

export interface LoginGapSearch {
  transport: Transport;
  /** Basic credentials over HTTPS; `{}` in-band (the channel's trust). */
  authority: Record<string, string>;
  /** The interrupted login: as whom (null: in-band null credentials), and Date.now() at its start. */
  login: { user: string | null; at: number };
  /** Keys (sessionKey) of sessions known not to be the login's: handled already, or listed before it. */
  exclude?: ReadonlySet<string>;
  /** iLO clock minus host clock, if an earlier answer's Date header told. */
  clockOffsetMs?: number;
  /** Bounds the whole search. */
  signal: AbortSignal;
  /** Bounds each request. */
  requestTimeoutMs: number;
  now?: () => number;
  log?: Logger;
}

/** Lists the sessions a few times and deletes those the interrupted login may have made; answers how many. */
export async function deleteInterruptedLogin(search: LoginGapSearch): Promise<number> {
  const { transport, authority, login, log } = search;
  const now = search.now ?? Date.now;
  const start = now();
  const tag = transport.kind === 'chif' ? 'RESTHost' : 'REST';
  const done = new Set(search.exclude ?? []);
  let clockOffsetMs = search.clockOffsetMs;
  const signal = () => AbortSignal.any([search.signal, timeoutSignal(search.requestTimeoutMs)]);
  const send = async (method: 'GET' | 'DELETE', path: string): Promise<TransportResponse> => {
    const response = await transport.request({ method, path, headers: authority, signal: signal() });
    const date = Date.parse(response.headers.date ?? '');
    if (Number.isFinite(date)) clockOffsetMs = date - now();
    return response;
  };

  let removed = 0;
  for (const offset of SCAN_SCHEDULE_MS) {
    const wait = start + offset - now();
    if (wait > 0) await sleep(wait);
    if (search.signal.aborted) break;
    const listed = await persist(search.signal, () => send('GET', DOCUMENTED_SESSIONS_PATH).then(readListing)).catch(() => undefined);
    if (!listed) continue;
    const fresh = listed.members.filter((path) => {
      const key = sessionKey(path);
      // A Basic request's own transient session is the collection's MySession.
      return !done.has(key) && !(listed.mine && sessionKey(listed.mine) === key);
    });
    for (const path of fresh) {
      const key = sessionKey(path);
      const response = await send('GET', path).catch(() => undefined);
      if (!response) continue; // look again at the next listing
      done.add(key); // user, tag and LoginTime never change: one look decides
      if (response.status !== 200 || !isOurs(parseJsonBody(response.body))) continue;
      const refused = await deleteSession((p, h) => transport.request({ method: 'DELETE', path: p, headers: h, signal: signal() }), path, null, authority).catch(
        (error: unknown) => error,
      );
      if (refused === undefined) {
        removed++;
        log?.info({ session: path }, 'deleted the session of a login whose answer never came');
      } else {
        done.delete(key);
      }
    }
  }
  return removed;

  function isOurs(body: unknown): boolean {
    if (!isJsonObject(body)) return false;
    const hpe = hpeOem(body);
    if (!hpe) return false;
    const user = typeof body.UserName === 'string' ? body.UserName.toLowerCase() : undefined;
    const sameUser = login.user !== null ? user === login.user.toLowerCase() : hpe.UserType === 'System' || user === SYSTEM_ADMINISTRATOR;
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

/** Compares session paths as iLO does: case-insensitively, %-decoded, without a trailing slash. */
export function sessionKey(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // keep it as it is
  }
  return decoded.toLowerCase().replace(/\/+$/, '');
}

/** Retries what failed without an answer, up to 4 tries, until `signal`. */
export async function persist<T>(signal: AbortSignal, what: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await what();
    } catch (error) {
      if (signal.aborted || attempt >= 4) throw error;
      await sleep(150);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
