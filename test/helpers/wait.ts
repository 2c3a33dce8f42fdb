// Small waiting helpers shared by tests.
import type { IloAgentError } from '../../src/errors.js';

/**
 * The default wait: a budget for a loaded machine (a child starting Node there can take seconds),
 * never a speed promise: a long one only delays a failure. Mutation runs, where most waits that
 * fail are a mutant being caught, shorten it (scripts/mutate/vitest.config.ts).
 */
const DEFAULT_WAIT_MS = Number(process.env.ILO_TEST_WAIT_MS ?? 20_000);

/** Polls until `condition` holds; fails after `timeoutMs` naming what it waited for. */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The rejection of `promise`; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<IloAgentError> {
  try {
    await promise;
  } catch (error) {
    return error as IloAgentError;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** The error `fn` throws; fails when it returns. */
export function thrownBy(fn: () => unknown): IloAgentError {
  try {
    fn();
  } catch (error) {
    return error as IloAgentError;
  }
  throw new Error('expected a throw');
}
