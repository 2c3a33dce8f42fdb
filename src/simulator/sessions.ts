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
      this.remove(session.id);
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

  remove(id: string): boolean {
    const session = this.#sessions.get(id);
    if (!session) return false;
    this.#sessions.delete(id);
    this.#byToken.delete(session.token);
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
  expireAll(): number {
    let count = 0;
    for (const session of [...this.#sessions.values()]) {
      if (!session.transient && this.remove(session.id)) count++;
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
      if (this.#expired(session, now)) this.remove(session.id);
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
