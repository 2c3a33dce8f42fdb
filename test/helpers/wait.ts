// Small waiting helpers shared by tests.
import type { IloAgentError } from '../../src/errors.js';

/** Polls until `condition` holds; fails after `timeoutMs` naming what it waited for. */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
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
