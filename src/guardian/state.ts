// What the guardian knows, as a pure reducer over the agent's messages: no I/O, no clock, no
// timers. Why: this is the last line of defence, and each rule here (which login is pending,
// which reports are one session, when a listing may be taken) gets a unit test of its own
// (test/guardian/guardian-state.test.ts). runGuardian (guardian.ts) performs the effects the
// state asks for; cleanUp (clean-up.ts) acts on the state the pipe's end leaves.
import { sessionKey } from './login-gap.js';
import type { AgentMessage, HelloMessage } from './protocol.js';

/** A session the agent reported (path null: not named yet; token null: the answer had none). */
export interface KnownSession {
  readonly path: string | null;
  readonly token: string | null;
}

/** A login that went out and got no answer yet; `at`: the agent's Date.now() at its start. */
export interface PendingLogin {
  readonly user: string | null;
  readonly at: number;
}

/** A Sessions listing: the sessions that exist before the next login. */
export interface Snapshot {
  readonly keys: ReadonlySet<string>;
  /** When its answer arrived (host clock): it proves nothing about logins that started before. */
  readonly answeredAt: number;
}

export interface GuardianState {
  /** The first hello; a second one is ignored (one agent, one transport). */
  readonly hello: HelloMessage | undefined;
  /** Oldest first, one entry per session (a report matching an earlier one by token or path completes it). */
  readonly known: readonly KnownSession[];
  readonly pending: PendingLogin | undefined;
  readonly released: boolean;
  /** The pipe closed: no listing starts any more. */
  readonly ended: boolean;
  /** A listing was asked for (once: a failed one is not retried). */
  readonly snapshotStarted: boolean;
  readonly snapshot: Snapshot | undefined;
  /**
   * iLO clock minus host clock, from the Date header of the latest answer that had one: a lower
   * bound (the header drops the fraction of the second, and it was sent before it arrived).
   */
  readonly clockOffsetMs: number | undefined;
}

export const INITIAL_STATE: GuardianState = {
  hello: undefined,
  known: [],
  pending: undefined,
  released: false,
  ended: false,
  snapshotStarted: false,
  snapshot: undefined,
  clockOffsetMs: undefined,
};

/** The state after one message from the agent. */
export function apply(state: GuardianState, message: AgentMessage): GuardianState {
  switch (message.type) {
    case 'hello':
      return state.hello ? state : { ...state, hello: message };
    case 'login':
      // Retries of one login keep the first start; a re-login after an answer starts afresh.
      return state.pending ? state : { ...state, pending: { user: message.user, at: message.at } };
    case 'refused':
      return { ...state, pending: undefined };
    case 'session':
      return { ...state, pending: undefined, known: remember(state.known, message) };
    case 'released':
      return { ...state, released: true };
  }
}

/** A report of a session already known (same token or same path) completes it; else it is a new one. */
function remember(known: readonly KnownSession[], report: KnownSession): readonly KnownSession[] {
  const index = known.findIndex((k) => (report.token !== null && k.token === report.token) || (report.path !== null && k.path === report.path));
  if (index < 0) return [...known, { path: report.path, token: report.token }];
  const same = known[index] as KnownSession;
  const merged = { path: report.path ?? same.path, token: report.token ?? same.token };
  return known.map((k, i) => (i === index ? merged : k));
}

/** The pipe closed. */
export function endOfInput(state: GuardianState): GuardianState {
  return { ...state, ended: true };
}

/**
 * The headers of a listing that may be taken now, or undefined. The listing taken before a login
 * went out proves which sessions are not that login's; it is taken once, only when it costs no
 * session (in-band at once, over HTTPS with the agent's token), and never during a login (it could
 * hold that login's session: it waits until the login is answered).
 */
export function snapshotHeaders(state: GuardianState): Record<string, string> | undefined {
  const { hello } = state;
  if (state.snapshotStarted || state.ended || state.pending || !hello) return undefined;
  if (hello.transport.kind === 'chif') return {};
  const token = state.known.find((k) => k.token)?.token;
  return token ? { 'X-Auth-Token': token } : undefined;
}

export function snapshotStarted(state: GuardianState): GuardianState {
  return { ...state, snapshotStarted: true };
}

/** The listing's members arrived at `answeredAt`. */
export function snapshotTaken(state: GuardianState, members: readonly string[], answeredAt: number): GuardianState {
  return { ...state, snapshot: { keys: new Set(members.map(sessionKey)), answeredAt } };
}

/** An answer's Date header told the iLO's clock (undefined: it had none, the last reading stays). */
export function clockRead(state: GuardianState, offsetMs: number | undefined): GuardianState {
  return offsetMs === undefined ? state : { ...state, clockOffsetMs: offsetMs };
}

/**
 * Sessions that cannot be the pending login's: those in a listing answered before the login
 * started. A listing answered later may hold the login's own session: it proves nothing.
 */
export function listedBeforeLogin(state: GuardianState): ReadonlySet<string> {
  const { snapshot, pending } = state;
  return snapshot && pending && snapshot.answeredAt < pending.at ? snapshot.keys : new Set();
}

export type Verdict = 'released' | 'nothing-to-do' | 'clean-up';

/** What the pipe's end calls for. */
export function verdict(state: GuardianState): Verdict {
  if (state.released) return 'released';
  if (!state.hello || (state.known.length === 0 && !state.pending)) return 'nothing-to-do';
  return 'clean-up';
}
