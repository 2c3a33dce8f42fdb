// The guardian process's logic: remember what the agent says, and when the pipe closes without
// "released" (the agent died: SIGKILL, the OOM killer, a native crash, or it could not delete
// its session), delete the session over the same kind of transport, within a bounded time.
//
// The hard case is an agent killed after the iLO made the session but before the agent read the
// login answer: nobody knows the token or the path. The guardian then looks for it (login-gap.ts),
// leaving out sessions absent from a listing taken before the login went out.
import type { Logger, LevelWithSilent } from 'pino';
import { DOCUMENTED_SESSIONS_PATH } from '../redfish/index.js';
import { basicAuthorization, deleteSession, readListing } from '../session/index.js';
import { openHttpsTransport, openInbandTransport, type Transport } from '../transport/index.js';
import { deleteInterruptedLogin, persist, sessionKey } from './login-gap.js';
import { parseMessage, type HelloMessage } from './protocol.js';

/** Everything after the pipe closed fits in this, at the least (main.ts exits hard a little later). */
export const GUARDIAN_DEADLINE_MS = 10_000;
/** The guardian's time for one request when the agent gave none, and its floor. */
const MIN_REQUEST_TIMEOUT_MS = 3_000;
/** Its ceiling: an agent's `--timeout 10m` must not keep a guardian for half an hour. */
const MAX_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The guardian's time for one request follows the agent's (within 3–30 s), and its life after
 * the pipe closed is long enough for a token DELETE, a Basic DELETE and a retry at that pace:
 * max(10 s, 3 × the request time), so at most 90 s.
 */
export function guardianTimeouts(agentTimeoutMs: number | undefined): { requestMs: number; deadlineMs: number } {
  const requestMs = Math.min(Math.max(agentTimeoutMs ?? MIN_REQUEST_TIMEOUT_MS, MIN_REQUEST_TIMEOUT_MS), MAX_REQUEST_TIMEOUT_MS);
  return { requestMs, deadlineMs: Math.max(GUARDIAN_DEADLINE_MS, 3 * requestMs) };
}

export type GuardianOutcome = 'released' | 'nothing-to-do' | 'cleaned' | 'failed';

export interface GuardianDeps {
  /** The agent's lines; the iteration ends when the pipe closes. */
  lines: AsyncIterable<string>;
  /** Called once when the pipe closed, with the outcome still to come and the time it may take (main.ts arms its hard exit). */
  onInputEnd?: (deadlineMs: number) => void;
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

  const listSessions = async (t: Transport, headers: Record<string, string>, signal?: AbortSignal) =>
    readListing(await request(t, 'GET', DOCUMENTED_SESSIONS_PATH, headers, signal));

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
  const timeouts = guardianTimeouts(hello?.timeoutMs);
  deps.onInputEnd?.(timeouts.deadlineMs);

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
  const deadline = AbortSignal.timeout(timeouts.deadlineMs - 500);
  log?.info({ agentPid: hello.agentPid, sessions: known.map((k) => k.path), loginInFlight: pending !== undefined }, 'the agent ended without deleting its session; deleting it');
  const t = await Promise.race([transport, abortPromise(deadline)]);
  if (!t) {
    log?.warn('the guardian cannot reach the iLO; the session stays until its idle timeout');
    return 'failed';
  }
  const kind = hello.transport.kind;
  const credentials = hello.credentials;
  const basic = credentials && kind === 'https' ? { Authorization: basicAuthorization(credentials) } : undefined;
  const signal = (): AbortSignal => AbortSignal.any([deadline, AbortSignal.timeout(timeouts.requestMs)]);
  // Who may delete without the token: Basic over HTTPS, as HPE documents; in-band, the channel itself.
  const authority = basic ?? (kind === 'chif' ? {} : undefined);

  /** The agent's rule (deleteSession): a 401 or 404 to the token is confirmed before it means gone. */
  const deleteKnown = async (path: string, token: string | null): Promise<boolean> =>
    (await deleteSession((p, h) => persist(deadline, () => request(t, 'DELETE', p, h, signal())), path, token, authority)) === undefined;

  let failures = 0;
  let deleted = 0;
  const done = new Set<string>();
  // Newest first: an older one is usually gone already (a re-login deletes it).
  for (const session of [...known].reverse()) {
    try {
      let path = session.path;
      if (!path && session.token) {
        const listed = await persist(deadline, () => listSessions(t, { 'X-Auth-Token': session.token as string }, signal()));
        path = listed?.mine ?? null;
      }
      if (!path) {
        log?.warn('a session of the agent has no known path; it stays until its idle timeout');
        failures++;
        continue;
      }
      done.add(sessionKey(path));
      if (await deleteKnown(path, session.token)) {
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
    if (!authority) {
      failures++;
      log?.warn('no credentials to look for the session of the interrupted login');
    } else {
      const usableSnapshot = snapshot && snapshot.answeredAt < pending.at ? snapshot : undefined;
      deleted += await deleteInterruptedLogin({
        transport: t,
        authority,
        login: pending,
        exclude: new Set([...done, ...(usableSnapshot?.keys ?? [])]),
        clockOffsetMs,
        signal: deadline,
        requestTimeoutMs: timeouts.requestMs,
        now,
        log,
      }).catch((error: unknown) => {
        failures++;
        log?.warn({ err: error }, 'could not look for the session of the interrupted login');
        return 0;
      });
    }
  }
  log?.debug({ ms: now() - start, deleted, failures }, 'guardian done');
  return failures > 0 ? 'failed' : 'cleaned';
}

/** The agent's transport, rebuilt, with the guardian's timeouts: it has seconds, not minutes. */
async function openTransport(hello: HelloMessage): Promise<Transport> {
  const spec = hello.transport;
  const { requestMs } = guardianTimeouts(hello.timeoutMs);
  if (spec.kind === 'https') {
    return openHttpsTransport({
      url: spec.url,
      ca: spec.ca ?? undefined,
      insecure: spec.insecure,
      localAddress: spec.localAddress,
      pin: spec.pin,
      servername: spec.servername,
      timeoutMs: requestMs,
      connectTimeoutMs: Math.min(requestMs, 10_000),
    });
  }
  return openInbandTransport({ libraryPath: spec.library, credentials: hello.credentials, timeoutMs: requestMs });
}

function abortPromise(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}
