// Polling a resource until it holds the given values (a reset that ends in PowerState On, a POST
// that ends in FinishedPost), over the client's one session. An iLO that is resetting stops
// answering for tens of seconds and forgets every session: those failures are waited through
// (the session logs in again after its 401), anything else ends the wait.
import { IloAgentError, RedfishError, type ErrorCode } from '../errors.js';
import type { RedfishClient } from './client.js';
import { sleep } from './sleep.js';
import { diffResource, project, type JsonObject } from './diff.js';
import { timeoutSignal } from '../timeout-signal.js';

export interface WaitOptions {
  /** How long to wait in all (ms). */
  forMs: number;
  /** Between one answer and the next request (ms). */
  intervalMs: number;
  /** Ends the wait (a stop). */
  signal?: AbortSignal;
  /** After each poll: what was read (null when the iLO did not answer). */
  onPoll?: (poll: { polls: number; elapsedMs: number; current: JsonObject | null; trouble?: IloAgentError }) => void;
  now?: () => number;
}

export interface WaitResult {
  matched: boolean;
  polls: number;
  elapsedMs: number;
  /** The desired properties as last read (null if the iLO never answered). */
  current: JsonObject | null;
}

/** By code: a request made while no new login is due yet fails with the last login's code. */
const PASSING: ReadonlySet<ErrorCode> = new Set(['E_CONNECT', 'E_TIMEOUT', 'E_CHIF']);

/** Failures an iLO reset (or a busy iLO) gives: the wait goes on through them. */
export function isPassing(error: unknown): error is IloAgentError {
  return error instanceof IloAgentError && (PASSING.has(error.code) || (error instanceof RedfishError && error.status >= 500));
}

export async function waitUntilMatches(client: Pick<RedfishClient, 'get'>, path: string, desired: JsonObject, options: WaitOptions): Promise<WaitResult> {
  const now = options.now ?? Date.now;
  const start = now();
  const deadline = start + options.forMs;
  let current: JsonObject | null = null;
  for (let polls = 1; ; polls++) {
    options.signal?.throwIfAborted();
    // The request may not outlive the wait: a hung one is cut at the deadline.
    const until = timeoutSignal(Math.max(1, deadline - now()));
    const signal = options.signal ? AbortSignal.any([options.signal, until]) : until;
    let trouble: IloAgentError | undefined;
    try {
      const resource = await client.get(path, { signal });
      const difference = diffResource(resource, desired);
      current = project(resource, desired);
      options.onPoll?.({ polls, elapsedMs: now() - start, current });
      if (difference.matches) return { matched: true, polls, elapsedMs: now() - start, current };
    } catch (error) {
      options.signal?.throwIfAborted();
      if (until.aborted) return { matched: false, polls, elapsedMs: now() - start, current };
      if (!isPassing(error)) throw error;
      trouble = error;
      options.onPoll?.({ polls, elapsedMs: now() - start, current: null, trouble });
    }
    const left = deadline - now();
    if (left <= 0) return { matched: false, polls, elapsedMs: now() - start, current };
    await sleep(Math.min(options.intervalMs, left), options.signal);
  }
}
