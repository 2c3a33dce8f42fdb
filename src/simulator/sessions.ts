// iLO's one global session table (docs/reference/ilo-sessions.md §1, §2.3, §3): a cap shared by everyone, sliding
// idle expiry, Ids in iLO's form, 32-hex tokens, and transient sessions for Basic requests.
import { randomBytes, randomInt } from 'node:crypto';

export type SessionTag = 'REST' | 'RESTHost';
/** 'vnic': the iLO 7 virtual NIC listener (HTTPS on the host interface). */
export type SessionTransport = 'https' | 'chif' | 'vnic';
export type SessionUserType = 'Local' | 'System';

export interface SimSession {
  readonly id: string;
  readonly token: string;
  readonly user: string;
  readonly tag: SessionTag;
  readonly transport: SessionTransport;
  readonly userIp: string;
  /** `Oem.Hpe.UserType`: `System` for the in-band "system administrator" session, else `Local`. */
  readonly userType: SessionUserType;
  /** A Basic-auth request's session: listed only while its request runs, never expires. */
  readonly transient: boolean;
  readonly loginTime: number;
  accessTime: number;
  /** Idle timeout in force when the session was made (a new SessionTimeout applies to new sessions). */
  readonly timeoutMs: number;
}

/** What tests and `GET /__sim/state` see; never the token. */
export interface SessionView {
  id: string;
  user: string;
  tag: SessionTag;
  transport: SessionTransport;
  transient: boolean;
  userIp: string;
  loginTime: string;
  accessTime: string;
  /** null when the session never expires. */
  expires: string | null;
}

/**
 * How a session ended, for tests that check WHICH path did the work (not only that the session
 * went): a DELETE with the session's own token, with Basic credentials, with another session's
 * token, on the in-band channel's own trust; or the idle timeout; or an iLO reset.
 */
export type SessionEnd = 'own-token' | 'basic' | 'other-session' | 'channel' | 'expired' | 'reset';

/** One ended (non-transient) session, in the order they ended; never the token. */
export interface EndedSession {
  id: string;
  user: string;
  tag: SessionTag;
  /** The transport the session was made over. */
  transport: SessionTransport;
  how: SessionEnd;
  /** A DELETE's transport (null for an expiry or reset). */
  via: SessionTransport | null;
  /** The session whose token or Basic request deleted it (another session, or a transient Basic one); else null. */
  by: { id: string; user: string } | null;
  at: string;
}

/** Who asked for a DELETE: the deleting request's session (undefined: the in-band channel) and transport. */
export interface Deleter {
  caller: SimSession | undefined;
  via: SessionTransport;
}

export interface NewSession {
  user: string;
  tag: SessionTag;
  transport: SessionTransport;
  userIp: string;
  userType?: SessionUserType;
  transient?: boolean;
}

export const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** `<lowercased user, %-encoded>00000000<login time, hex seconds><7–8 random hex>` as iLO makes them. */
export function makeSessionId(user: string, loginTimeMs: number): string {
  const epoch = Math.floor(loginTimeMs / 1000).toString(16).padStart(8, '0');
  return `${encodeURIComponent(user.toLowerCase())}00000000${epoch}${randomInt(0x1000000, 0xffffffff).toString(16)}`;
}

export class SessionTable {
  readonly #sessions = new Map<string, SimSession>();
  readonly #byToken = new Map<string, SimSession>();
  readonly #ended: EndedSession[] = [];
  readonly #clock: () => number;
  maxSessions: number;
  timeoutMs: number;

  constructor(options: { maxSessions: number; timeoutMs: number; clock?: () => number }) {
    this.maxSessions = options.maxSessions;
    this.timeoutMs = options.timeoutMs;
    this.#clock = options.clock ?? Date.now;
  }

  now(): number {
    return this.#clock();
  }

  /** Creates a session, or answers 'full' when the table is at its cap (transient ones never are refused). */
  create(request: NewSession): SimSession | 'full' {
    this.#purgeExpired();
    const transient = request.transient ?? false;
    if (!transient && this.#sessions.size >= this.maxSessions) return 'full';
    const now = this.#clock();
    let id = makeSessionId(request.user, now);
    while (this.#sessions.has(id)) id = makeSessionId(request.user, now);
    const session: SimSession = {
      id,
      token: randomBytes(16).toString('hex'),
      user: request.user,
      tag: request.tag,
      transport: request.transport,
      userIp: request.userIp,
      userType: request.userType ?? 'Local',
      transient,
      loginTime: now,
      accessTime: now,
      timeoutMs: this.timeoutMs,
    };
    this.#sessions.set(id, session);
    this.#byToken.set(session.token, session);
    return session;
  }

  /** Looks a token up; a live session's idle clock restarts (sliding expiry). */
  authenticate(token: string): SimSession | undefined {
    const session = this.#byToken.get(token);
    if (!session) return undefined;
    const now = this.#clock();
    if (this.#expired(session, now)) {
      this.#end(session.id, 'expired');
      return undefined;
    }
    session.accessTime = now;
    return session;
  }

  /** Finds a session by its Id (compared %-decoded, so either spelling works). */
  find(id: string): SimSession | undefined {
    this.#purgeExpired();
    const direct = this.#sessions.get(id);
    if (direct) return direct;
    const wanted = safeDecode(id).toLowerCase();
    for (const session of this.#sessions.values()) {
      if (safeDecode(session.id).toLowerCase() === wanted) return session;
    }
    return undefined;
  }

  /** A transient (Basic) session's end with its request: not recorded. */
  remove(id: string): boolean {
    return this.#end(id, undefined);
  }

  /** A DELETE of the session, recorded with who sent it. */
  delete(id: string, deleter: Deleter): boolean {
    const { caller } = deleter;
    const how: SessionEnd = !caller ? 'channel' : caller.id === id ? 'own-token' : caller.transient ? 'basic' : 'other-session';
    return this.#end(id, how, deleter);
  }

  /** Sessions that ended, oldest first. */
  ended(): EndedSession[] {
    this.#purgeExpired();
    return this.#ended.map((e) => ({ ...e, by: e.by && { ...e.by } }));
  }

  #end(id: string, how: SessionEnd | undefined, deleter?: Deleter): boolean {
    const session = this.#sessions.get(id);
    if (!session) return false;
    this.#sessions.delete(id);
    this.#byToken.delete(session.token);
    if (how && !session.transient) {
      const by = deleter?.caller && deleter.caller.id !== id ? { id: deleter.caller.id, user: deleter.caller.user } : null;
      const { user, tag, transport } = session;
      this.#ended.push({ id, user, tag, transport, how, via: deleter?.via ?? null, by, at: new Date(this.#clock()).toISOString() });
    }
    return true;
  }

  /** Live sessions, oldest first. */
  list(): SimSession[] {
    this.#purgeExpired();
    return [...this.#sessions.values()];
  }

  get size(): number {
    this.#purgeExpired();
    return this.#sessions.size;
  }

  /** Ends every non-transient session now, as if each had idled past its timeout. */
  expireAll(how: 'expired' | 'reset' = 'expired'): number {
    let count = 0;
    for (const session of [...this.#sessions.values()]) {
      if (!session.transient && this.#end(session.id, how)) count++;
    }
    return count;
  }

  /** `UserExpires`: last access + timeout; equal to AccessTime when the timeout is infinite. */
  expiresAt(session: SimSession): number {
    return session.accessTime + session.timeoutMs;
  }

  view(session: SimSession): SessionView {
    return {
      id: session.id,
      user: session.user,
      tag: session.tag,
      transport: session.transport,
      transient: session.transient,
      userIp: session.userIp,
      loginTime: isoSeconds(session.loginTime),
      accessTime: isoSeconds(session.accessTime),
      expires: session.timeoutMs === 0 || session.transient ? null : isoSeconds(this.expiresAt(session)),
    };
  }

  #expired(session: SimSession, now: number): boolean {
    return !session.transient && session.timeoutMs > 0 && now - session.accessTime >= session.timeoutMs;
  }

  #purgeExpired(): void {
    const now = this.#clock();
    for (const session of this.#sessions.values()) {
      if (this.#expired(session, now)) this.#end(session.id, 'expired');
    }
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
