// The guardian's clean-up, once the pipe closed without "released": delete the sessions the agent
// reported, then look for the one an interrupted login may have made (login-gap.ts). All the
// I/O lives here; what to delete comes from the state (state.ts), so the rules stay testable apart.
import type { Logger } from 'pino';
import { DOCUMENTED_SESSIONS_PATH } from '../redfish/index.js';
import { basicAuthorization, deleteSession, readListing } from '../session/index.js';
import type { Transport, TransportResponse } from '../transport/index.js';
import { deleteInterruptedLogin, persist, sessionKey } from './login-gap.js';
import { listedBeforeLogin, type GuardianState } from './state.js';
import { timeoutSignal } from '../timeout-signal.js';

export interface CleanUpDeps {
  /** Bounds the whole clean-up. */
  deadline: AbortSignal;
  /** Bounds each request. */
  requestMs: number;
  now: () => number;
  log?: Logger | undefined;
}

export interface CleanUpResult {
  deleted: number;
  failures: number;
}

/** iLO clock minus host clock from an answer's Date header, or undefined without one. */
export function clockOffsetOf(response: TransportResponse, now: () => number): number | undefined {
  const date = Date.parse(response.headers.date ?? '');
  return Number.isFinite(date) ? date - now() : undefined;
}

/** Deletes what the agent left on the iLO; answers how many sessions went and how many could not. */
export async function cleanUp(initial: GuardianState, t: Transport, deps: CleanUpDeps): Promise<CleanUpResult> {
  const { deadline, log, now } = deps;
  const hello = initial.hello;
  if (!hello) return { deleted: 0, failures: 0 };
  // Each answer here may read the iLO's clock again; the login-gap search uses the latest reading.
  let clockOffsetMs = initial.clockOffsetMs;
  const request = async (method: 'GET' | 'DELETE', path: string, headers: Record<string, string>): Promise<TransportResponse> => {
    const signal = AbortSignal.any([deadline, timeoutSignal(deps.requestMs)]);
    const response = await t.request({ method, path, headers, signal });
    clockOffsetMs = clockOffsetOf(response, now) ?? clockOffsetMs;
    return response;
  };

  const kind = hello.transport.kind;
  const credentials = hello.credentials;
  const basic = credentials && kind === 'https' ? { Authorization: basicAuthorization(credentials) } : undefined;
  // Who may delete without the token: Basic over HTTPS, as HPE documents; in-band, the channel itself.
  const authority = basic ?? (kind === 'chif' ? {} : undefined);

  let failures = 0;
  let deleted = 0;
  const done = new Set<string>();
  // Newest first: an older one is usually gone already (a re-login deletes it).
  for (const session of [...initial.known].reverse()) {
    try {
      let path = session.path;
      if (!path && session.token) {
        const token = session.token;
        const listed = await persist(deadline, async () => readListing(await request('GET', DOCUMENTED_SESSIONS_PATH, { 'X-Auth-Token': token })));
        path = listed?.mine ?? null;
      }
      if (!path) {
        log?.warn('a session of the agent has no known path; it stays until its idle timeout');
        failures++;
        continue;
      }
      done.add(sessionKey(path));
      // The agent's rule (deleteSession): a 401 or 404 to the token is confirmed before it means gone.
      const refused = await deleteSession((p, h) => persist(deadline, () => request('DELETE', p, h)), path, session.token, authority);
      if (refused === undefined) {
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

  const pending = initial.pending;
  if (pending) {
    if (!authority) {
      failures++;
      log?.warn('no credentials to look for the session of the interrupted login');
    } else {
      deleted += await deleteInterruptedLogin({
        transport: t,
        authority,
        login: pending,
        exclude: new Set([...done, ...listedBeforeLogin(initial)]),
        clockOffsetMs,
        signal: deadline,
        requestTimeoutMs: deps.requestMs,
        now,
        log,
      }).catch((error: unknown) => {
        failures++;
        log?.warn({ err: error }, 'could not look for the session of the interrupted login');
        return 0;
      });
    }
  }
  return { deleted, failures };
}
