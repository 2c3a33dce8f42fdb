// Which path deleted the session, not only that it went: the fallbacks (the blocking DELETE on the
// way out, the guardian) rescue a broken main path, so a test of the main path fails when one fires.
// The simulator tells how each session ended; the agent (and its guardian, which writes to the
// agent's stderr at --log-level info or more) tells which of its paths sent the DELETE.
import { expect } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';

/** stderr lines of the fallbacks: each means the main path failed to delete the session. */
export const FALLBACK_LINES = {
  blockingDelete: 'session deleted by a blocking request on the way out',
  guardianKnown: 'deleted the session the agent left',
  guardianScan: 'deleted the session of a login whose answer never came',
} as const;

/** The agent's own logout, at --log-level info (pino JSON on stderr). */
export const OWN_LOGOUT_LINE = '"msg":"session deleted"';

/**
 * The agent's normal logout deleted its `count` session(s): each ended by a DELETE with its own
 * token (nothing expired, no Basic or other session), the agent logged its own logout, and no
 * fallback fired. Needs the agent run with `--log-level info`.
 */
export function expectOwnLogout(sim: Simulator, stderr: string, count = 1): void {
  expect(sim.endedSessions().map((e) => e.how)).toEqual(Array<string>(count).fill('own-token'));
  expect(stderr.split(OWN_LOGOUT_LINE).length - 1).toBe(count);
  expectNoFallback(stderr);
}

export function expectNoFallback(stderr: string, except: Array<keyof typeof FALLBACK_LINES> = []): void {
  for (const [name, line] of Object.entries(FALLBACK_LINES)) {
    if (!except.includes(name as keyof typeof FALLBACK_LINES)) expect(stderr, `the ${name} fallback fired`).not.toContain(line);
  }
}
