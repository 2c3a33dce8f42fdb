// The Redfish service's sessions: login (POST to the collection), authentication of every other
// request (X-Auth-Token, Basic, or the in-band channel's trust), the live session resources and
// collection, and the SessionService settings. In-band specifics: see redfish-service.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { timingSafeEqual } from 'node:crypto';
import { envelope, type Envelope } from './envelopes.js';
import { type RequestPath, SESSIONS, SESSIONS_ALIAS } from './paths.js';
import type { JsonObject } from './resource-store.js';
import { isoSeconds, type Deleter, type SimSession } from './sessions.js';
import { isObject } from './patch.js';
import { type Answers, HttpAnswer, latency, parseJson, READ, type SimRequest } from './redfish-answers.js';
import type { RedfishServiceOptions } from './redfish-service.js';

/** The user of an in-band session made without credentials (docs/reference/ilo-sessions.md §2.3). */
const SYSTEM_ADMINISTRATOR = 'system administrator';

export class SessionRoutes {
  readonly #o: RedfishServiceOptions;
  readonly #a: Answers;
  #failedLogins = 0;
  readonly #sessionsKey = SESSIONS.toLowerCase();
  readonly #aliasKey = SESSIONS_ALIAS.toLowerCase();

  constructor(options: RedfishServiceOptions, answers: Answers) {
    this.#o = options;
    this.#a = answers;
  }

  /** The session of RedfishService.createAppSession (HPE's `GetSessionID`), which counts the login. */
  createApp(user: string, userIp: string): { id: string; token: string; uri: string } | 'full' {
    const session = this.#o.sessions.create({ user, tag: 'REST', transport: 'vnic', userIp });
    if (session === 'full') return 'full';
    this.#o.log.info({ id: session.id, user, transport: 'vnic' }, 'app-token session created');
    return { id: session.id, token: session.token, uri: this.sessionUri(session) };
  }

  async login(request: SimRequest): Promise<HttpAnswer> {
    const { users } = this.#o;
    const parsed = parseJson(request.body);
    if (parsed === undefined) {
      await latency(this.#o.faults, this.#o.faults.loginLatencyMs);
      return this.#a.error(400, 'Base', 'MalformedJSON');
    }
    const body = isObject(parsed) ? parsed : {};
    if (request.transport === 'chif' && isObject(parsed) && body.UserName == null && body.Password == null) {
      // In-band without credentials: the channel vouches for the caller.
      await latency(this.#o.faults, this.#o.faults.loginLatencyMs);
      const user = request.channelUser ?? SYSTEM_ADMINISTRATOR;
      return this.#newSession(request, user, request.channelUser ? 'Local' : 'System');
    }
    for (const field of ['UserName', 'Password'] as const) {
      if (typeof body[field] !== 'string') {
        await latency(this.#o.faults, this.#o.faults.loginLatencyMs);
        return this.#a.error(400, 'Base', 'PropertyMissing', [field]);
      }
    }
    const user = body.UserName as string;
    await latency(this.#o.faults, this.#o.faults.loginLatencyMs);
    if (!checkPassword(users.get(user), body.Password as string)) {
      this.#failedLogins++;
      if (this.#failedLogins > this.#o.loginFailuresBeforeDelay && this.#o.loginFailureDelayMs > 0) {
        await sleep(this.#o.loginFailureDelayMs);
      }
      this.#o.log.info({ transport: request.transport }, 'login refused');
      return this.#a.error(401, 'iLO', 'UnauthorizedLoginAttempt');
    }
    this.#failedLogins = 0;
    return this.#newSession(request, user, 'Local');
  }

  #newSession(request: SimRequest, user: string, userType: 'Local' | 'System'): HttpAnswer {
    const { profile, sessions } = this.#o;
    const tag = tagOf(request);
    const session = sessions.create({ user, tag, transport: request.transport, userIp: request.remoteAddress, userType });
    if (session === 'full') {
      this.#o.log.info({ max: sessions.maxSessions }, 'session limit reached');
      return this.#a.error(this.#o.limitStatus, 'Base', 'SessionLimitExceeded');
    }
    this.#o.log.info({ id: session.id, user, tag, transport: request.transport }, 'session created');
    const uri = this.sessionUri(session);
    const pathOnly = request.transport === 'chif' && (this.#o.inbandLocation ?? 'path') === 'path';
    // The body is never empty: HPE's in-band login crashes on an empty one (docs/reference/chif-abi.md §6.1).
    const body201 = profile.loginBody === 'session' ? this.#sessionBody(session, undefined) : envelope(profile, 'Base', 'Created');
    return new HttpAnswer(201, body201, {
      Location: pathOnly ? uri : `${request.origin}${uri}`,
      'X-Auth-Token': session.token,
      Link: `<${uri}>; rel=self`,
    });
  }

  /**
   * X-Auth-Token first; else HTTP Basic, which gets a transient session for this request only;
   * else, in-band only, the channel's own trust ('channel').
   */
  authenticate(request: SimRequest): SimSession | 'channel' | undefined {
    const token = request.headers['x-auth-token'];
    if (token !== undefined) return this.#o.sessions.authenticate(token);
    if (request.transport === 'chif' && request.headers.authorization === undefined) return 'channel';
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!basic?.[1]) return undefined;
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    if (!checkPassword(this.#o.users.get(user), decoded.slice(colon + 1))) return undefined;
    const session = this.#o.sessions.create({ user, tag: tagOf(request), transport: request.transport, userIp: request.remoteAddress, transient: true });
    return session === 'full' ? undefined : session;
  }

  isSessionsCollection(key: string): boolean {
    return key === this.#sessionsKey || key === this.#aliasKey;
  }

  /** The Id in `/Sessions/<id>` (either alias), or undefined for any other path. */
  sessionIdOf(target: RequestPath): string | undefined {
    for (const base of [SESSIONS, SESSIONS_ALIAS]) {
      const prefix = base.toLowerCase() + '/';
      if (target.key.startsWith(prefix) && !target.key.slice(prefix.length).includes('/')) {
        return target.path.slice(base.length + 1);
      }
    }
    return undefined;
  }

  slash(uri: string): string {
    return this.#o.profile.trailingSlash ? `${uri}/` : uri;
  }

  sessionUri(session: SimSession): string {
    return this.slash(`${SESSIONS}/${session.id}`);
  }

  #sessionBody(session: SimSession, caller: SimSession | undefined): JsonObject {
    const { sessions } = this.#o;
    const mine = caller?.id === session.id;
    const expires = session.timeoutMs === 0 ? session.accessTime : sessions.expiresAt(session);
    const hpe: JsonObject = {
      '@odata.context': '/redfish/v1/$metadata#HpeiLOSession.HpeiLOSession',
      '@odata.type': '#HpeiLOSession.v2_1_0.HpeiLOSession',
      AccessTime: isoSeconds(session.accessTime),
      LoginTime: isoSeconds(session.loginTime),
      MySession: mine,
    };
    // iLO shows privileges only on the caller's own session.
    if (mine) {
      hpe.Privileges = {
        HostBIOSConfigPriv: true,
        HostNICConfigPriv: true,
        HostStorageConfigPriv: true,
        LoginPriv: true,
        RemoteConsolePriv: true,
        SystemRecoveryConfigPriv: true,
        UserConfigPriv: true,
        VirtualMediaPriv: true,
        VirtualPowerAndResetPriv: true,
        iLOConfigPriv: true,
      };
    }
    Object.assign(hpe, {
      UserExpires: isoSeconds(expires),
      UserIP: session.userIp,
      UserTag: session.tag,
      UserType: session.userType,
    });
    return {
      '@odata.context': '/redfish/v1/$metadata#Session.Session',
      '@odata.id': this.sessionUri(session),
      '@odata.type': '#Session.v1_0_0.Session',
      Description: 'Manager User Session',
      Id: session.id,
      Name: 'User Session',
      Oem: { Hpe: hpe },
      UserName: session.user,
    };
  }

  sessionCollection(caller: SimSession | undefined): HttpAnswer {
    const members = this.#o.sessions.list().map((s) => ({ '@odata.id': this.sessionUri(s) }));
    // A request trusted at channel level has no session, hence no MySession link.
    const links = caller ? { MySession: { '@odata.id': this.sessionUri(caller) } } : {};
    const body = (links: JsonObject): JsonObject => ({
      '@odata.context': '/redfish/v1/$metadata#SessionCollection.SessionCollection',
      '@odata.id': this.slash(SESSIONS),
      '@odata.type': '#SessionCollection.SessionCollection',
      Description: this.#o.profile.sessionsDescription,
      Name: 'Sessions',
      Oem: {
        Hpe: {
          '@odata.context': '/redfish/v1/$metadata#HpeiLOSessionsSummary.HpeiLOSessionsSummary',
          '@odata.type': '#HpeiLOSessionsSummary.v2_0_0.HpeiLOSessionsSummary',
          Links: links,
        },
      },
      Members: members,
      'Members@odata.count': members.length,
    });
    // The ETag follows the members, not who asks.
    return new HttpAnswer(200, body(links), {}, body({}));
  }

  sessionMember(method: string, target: RequestPath, id: string, deleter: Deleter): HttpAnswer {
    const session = this.#o.sessions.find(id);
    if (!session) return this.#a.error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    if (READ.includes(method)) {
      const body = this.#sessionBody(session, deleter.caller);
      // Stable while the session lives: AccessTime/UserExpires move on every request and
      // MySession/Privileges depend on who asks (a choice, unverified).
      return new HttpAnswer(200, body, {}, this.#sessionBody({ ...session, accessTime: session.loginTime, timeoutMs: 0 }, undefined));
    }
    if (method === 'DELETE') {
      this.#o.sessions.delete(session.id, deleter);
      this.#o.log.info({ id: session.id }, 'session deleted');
      return this.#a.success();
    }
    return this.#a.notAllowed(['GET', 'HEAD', 'DELETE']);
  }

  patchSessionService(body: Buffer): HttpAnswer {
    const changes = parseJson(body);
    if (changes === undefined || !isObject(changes)) return this.#a.error(400, 'Base', 'MalformedJSON');
    const errors: Envelope['error']['@Message.ExtendedInfo'] = [];
    for (const [name, value] of Object.entries(changes)) {
      if (name !== 'SessionTimeout' || !this.#o.profile.hasSessionTimeout) {
        errors.push(this.#a.info('iLO', 'PropertyNotWritableOrUnknown', [name]));
      } else if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        errors.push(this.#a.info('Base', 'PropertyValueTypeError', [JSON.stringify(value), name]));
      }
    }
    if (errors.length > 0) return this.#a.errors(400, errors);
    // iLO's SessionTimeout behaves as minutes (docs/reference/ilo-sessions.md §1.4) and applies to new sessions.
    if (typeof changes.SessionTimeout === 'number') this.#o.sessions.timeoutMs = changes.SessionTimeout * 60_000;
    return this.#a.success();
  }

  /**
   * The service root as stored, with `Oem.Hpe.Sessions.LoginFailureDelay` the delay (seconds) the
   * next refused login gets: the configured one once `loginFailuresBeforeDelay` refusals in a row
   * have been answered, until a good login; else 0 (a choice, unverified: HPE documents the name only).
   */
  liveServiceRoot(json: JsonObject): JsonObject {
    const hpe = isObject(json.Oem) && isObject(json.Oem.Hpe) ? json.Oem.Hpe : undefined;
    const sessions = hpe && isObject(hpe.Sessions) ? hpe.Sessions : undefined;
    if (!hpe || !sessions || !('LoginFailureDelay' in sessions)) return json;
    const enforced = this.#failedLogins >= this.#o.loginFailuresBeforeDelay;
    const delay = enforced ? Math.ceil(this.#o.loginFailureDelayMs / 1000) : 0;
    return { ...json, Oem: { ...(json.Oem as JsonObject), Hpe: { ...hpe, Sessions: { ...sessions, LoginFailureDelay: delay } } } };
  }

  /** SessionService as stored, with SessionTimeout showing the live setting (in minutes, as iLO). */
  liveSessionService(json: JsonObject): JsonObject {
    const live: JsonObject = { ...json };
    delete live.SessionTimeout;
    if (this.#o.profile.hasSessionTimeout) {
      const minutes = this.#o.sessions.timeoutMs / 60_000;
      live.SessionTimeout = minutes === 0 ? 0 : Math.max(1, Math.round(minutes));
    }
    return live;
  }
}

/** In-band sessions are iLO's "Rest Host" sessions (docs/reference/ilo-sessions.md §3.2). */
function tagOf(request: SimRequest): 'REST' | 'RESTHost' {
  return request.transport === 'chif' ? 'RESTHost' : 'REST';
}

function checkPassword(expected: string | undefined, given: string): boolean {
  if (expected === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
