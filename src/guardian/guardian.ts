// The guardian process's logic: remember what the agent says, and when the pipe closes without
// "released" (the agent died: SIGKILL, the OOM killer, a native crash, or it could not delete
// its session), delete the session over the same kind of transport, within a bounded time.
// - state.ts: what the messages leave the guardian knowing (a pure reducer);
// - this file: the effects the state asks for while listening (logger, transport, one listing);
// - clean-up.ts: the deletions once the pipe closed; login-gap.ts: the hard case, an agent killed
//   after the iLO made the session but before it read the login answer (nobody knows the token
//   or the path), found by a search that leaves out sessions listed before the login went out.
import type { Logger, LevelWithSilent } from 'pino';
import { DOCUMENTED_SESSIONS_PATH } from '../redfish/index.js';
import { readListing } from '../session/index.js';
import { openHttpsTransport, openInbandTransport, type Transport, type TransportResponse } from '../transport/index.js';
import { cleanUp, clockOffsetOf } from './clean-up.js';
import { parseMessage, type HelloMessage } from './protocol.js';
import { apply, clockRead, endOfInput, INITIAL_STATE, snapshotHeaders, snapshotStarted, snapshotTaken, verdict } from './state.js';
import { timeoutSignal } from '../timeout-signal.js';

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

export async function runGuardian(deps: GuardianDeps): Promise<GuardianOutcome> {
  const now = deps.now ?? Date.now;
  // The one mutable value: the reducer's latest state (the listing below lands in it too).
  let state = INITIAL_STATE;
  let log: Logger | undefined;
  let transport: Promise<Transport | undefined> | undefined;

  // The listing state.ts allows (snapshotHeaders says when and why), taken once, in the background.
  const maybeSnapshot = () => {
    const headers = snapshotHeaders(state);
    if (!headers || !transport) return;
    state = snapshotStarted(state);
    void takeSnapshot(transport, headers);
  };
  const takeSnapshot = async (opened: Promise<Transport | undefined>, headers: Record<string, string>) => {
    const t = await opened;
    if (!t || state.ended) return;
    let response: TransportResponse;
    try {
      response = await t.request({ method: 'GET', path: DOCUMENTED_SESSIONS_PATH, headers });
    } catch {
      return; // no listing: the login-gap search then excludes only what it handled itself
    }
    state = clockRead(state, clockOffsetOf(response, now));
    const listed = readListing(response);
    if (!listed) return;
    state = snapshotTaken(state, listed.members, now());
    log?.debug({ sessions: listed.members.length }, 'listed the sessions that exist before the next login');
  };

  // ---- listening --------------------------------------------------------------------------
  for await (const line of deps.lines) {
    const message = parseMessage(line);
    if (!message) {
      log?.debug('ignored a line from the agent that is not a guardian message');
      continue;
    }
    const first = message.type === 'hello' && !state.hello;
    state = apply(state, message);
    if (first) {
      log = message.logLevel === 'silent' ? undefined : await deps.createLogger?.(message.logLevel);
      log?.debug({ agentPid: message.agentPid, transport: message.transport.kind, library: message.transport.kind === 'chif' ? message.transport.library : undefined }, 'guardian watching');
      transport = (deps.openTransport ?? openTransport)(message).catch((error: unknown) => {
        log?.debug({ err: error }, 'the guardian could not open its transport (yet)');
        return undefined;
      });
      // After the lines already in the pipe: a login already under way makes a listing useless.
      setImmediate(maybeSnapshot);
    } else if (message.type === 'login') {
      log?.debug({ user: message.user }, 'login started');
    } else if (message.type === 'session') {
      log?.debug({ session: message.path }, 'session made');
      maybeSnapshot();
    }
  }
  state = endOfInput(state);
  const hello = state.hello;
  const timeouts = guardianTimeouts(hello?.timeoutMs);
  deps.onInputEnd?.(timeouts.deadlineMs);

  // ---- the pipe closed ----------------------------------------------------------------------
  const next = verdict(state);
  if (next === 'released') {
    log?.debug('the agent released its session; nothing to do');
    return 'released';
  }
  if (next === 'nothing-to-do' || !hello) {
    log?.debug('the agent ended before any login; nothing to do');
    return 'nothing-to-do';
  }
  const start = now();
  const deadline = timeoutSignal(timeouts.deadlineMs - 500);
  log?.info({ agentPid: hello.agentPid, sessions: state.known.map((k) => k.path), loginInFlight: state.pending !== undefined }, 'the agent ended without deleting its session; deleting it');
  const t = await Promise.race([transport, abortPromise(deadline)]);
  if (!t) {
    log?.warn('the guardian cannot reach the iLO; the session stays until its idle timeout');
    return 'failed';
  }
  // The state as it is now: a listing that lands later answered after the pipe closed, so after
  // the pending login started, and could not have excluded anything from its search (the clock
  // reading it brings is not missed either: the clean-up's own answers read the clock afresh).
  const { deleted, failures } = await cleanUp(state, t, { deadline, requestMs: timeouts.requestMs, now, log });
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
