// The simulated iLO's Redfish service, independent of how requests arrive (HTTPS, or in-band
// through the CHIF endpoint). It owns authentication, the live session resources, the resource
// tree, PATCH/action semantics and the per-request faults.
//
// In-band (transport 'chif', docs/reference/chif-abi.md §6.1, docs/reference/ilo-sessions.md §3.2): a request without
// credentials is trusted at channel level (the CHIF endpoint has already applied the security
// state); a request with an X-Auth-Token or Basic credentials is checked as over HTTPS. A
// session POST with `{"UserName": null, "Password": null}` makes a "Rest Host" session of user
// "system administrator" (UserType System), or of the user the channel was verified with; one
// with real credentials checks them. In-band sessions share the one session table.
import { timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { APP_ACCOUNTS, type AppAccountStore } from './app-accounts.js';
import { envelope, type Envelope } from './envelopes.js';
import { etagOf } from './etag.js';
import type { ActiveFault, FaultController, RequestKind } from './faults.js';
import { keyOf, parseTarget, type RequestPath, SERVICE_ROOT, SESSION_SERVICE, SESSIONS, SESSIONS_ALIAS } from './paths.js';
import type { Profile } from './profiles.js';
import type { JsonObject, ResourceStore, StoredResource } from './resource-store.js';
import { isoSeconds, type Deleter, type SessionTable, type SessionTransport, type SimSession } from './sessions.js';
import type { PowerControl } from './power.js';
import type { SettingsObjects } from './settings.js';
import type { TaskAnswer, TaskBoard } from './tasks.js';
import { isObject, mergePatch } from './patch.js';
import { applyQuery, parseQuery, QueryError, type QueryOptions } from './query.js';
import { EventSubscriptions, SUBSCRIPTIONS } from './subscriptions.js';
import { schemaAt, schemaOf } from './writability.js';

export interface SimRequest {
  method: string;
  /** Request target as sent: path and optional query. */
  target: string;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
  transport: SessionTransport;
  remoteAddress: string;
  /** `https://host:port` as the client addressed us; used for the absolute Location. */
  origin: string;
  /**
   * In-band only: the user the CHIF channel was verified with (credentials mode), or null on a
   * channel whose security is disabled (Production state). Undefined over HTTPS.
   */
  channelUser?: string | null;
}

export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Set when a fault must corrupt or hold the answer on its way out. */
  fault?: ActiveFault;
}

export interface RedfishServiceOptions {
  profile: Profile;
  sessions: SessionTable;
  store: ResourceStore;
  users: ReadonlyMap<string, string>;
  faults: FaultController;
  limitStatus: 503 | 403;
  loginFailureDelayMs: number;
  loginFailuresBeforeDelay: number;
  /**
   * `Location` of an in-band session: path only (default; HPE's in-band client cannot use an
   * absolute one, docs/reference/chif-abi.md §6.2), or absolute with the HTTPS origin.
   */
  inbandLocation?: InbandLocation;
  /** iLO 7: the application accounts served under `AccountService/Oem/Hpe/AppAccounts`. */
  appAccounts?: AppAccountStore;
  /** An accepted `Manager.Reset`: the iLO resets once the answer is out (sessions end, the service goes away, iLO 7's pending vNIC setting applies). */
  onManagerReset?: () => void;
  /** iLO 7: a PATCH that changed the vNIC setting; the service answers ResetRequired. */
  onVnicPatch?: (enabled: boolean) => void;
  /** Operations run as tasks (the `task` faults) and their monitors. */
  tasks: TaskBoard;
  /** The host's power and POST, moved by ComputerSystem.Reset. */
  power: PowerControl;
  /** Settings objects and what they staged for the next boot. */
  settings: SettingsObjects;
  log: Logger;
}

export type InbandLocation = 'path' | 'absolute';

/** The user of an in-band session made without credentials (docs/reference/ilo-sessions.md §2.3). */
export const SYSTEM_ADMINISTRATOR = 'system administrator';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE']);
const READ = ['GET', 'HEAD'];
/** What a stored resource can be asked to do (POST and DELETE act only on sessions, accounts, actions). */
const STORED_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH'];
const RESOURCE_DIRECTORY = '/redfish/v1/resourcedirectory';
/** A request that only reads, for answers computed on the side (ETags, the directory). */
const DIRECTORY_READ: SimRequest = { method: 'GET', target: '/', headers: {}, body: Buffer.alloc(0), transport: 'https', remoteAddress: '', origin: '' };
/** iLO refuses a longer ETag in If-Match / If-None-Match (its registry's `ETagTooLong`). */
const MAX_ETAG_BYTES = 63;
/** Subtrees that are documents, not settings. */
const READ_ONLY_TREES = ['/redfish/v1/registries', '/redfish/v1/registrystore', '/redfish/v1/jsonschemas', '/redfish/v1/schemastore', '/redfish/v1/$metadata', '/redfish/v1/odata'];

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    /** What the ETag is computed from when not the whole body (fields that change on every read left out). */
    readonly etagBasis?: JsonObject,
  ) {}
}

/** The JSON resource an answer carries, if it carries one. */
function jsonOf(answer: HttpAnswer): JsonObject | undefined {
  if (answer.status !== 200) return undefined;
  const body = answer.body;
  if (isObject(body) && 'uri' in body && 'json' in body && isObject(body.json)) return body.json;
  return isObject(body) && '@odata.id' in body ? body : undefined;
}

function fromTask(answer: TaskAnswer): HttpAnswer {
  return answer instanceof HttpAnswer ? answer : new HttpAnswer(answer.status, answer.body, answer.headers);
}

export class RedfishService {
  readonly #o: RedfishServiceOptions;
  #failedLogins = 0;
  /** Requests and session POSTs seen, for tests that check nothing was sent. */
  readonly counters = { requests: 0, logins: 0 };
  readonly #sessionsKey = SESSIONS.toLowerCase();
  readonly #aliasKey = SESSIONS_ALIAS.toLowerCase();

  readonly #subscriptions = new EventSubscriptions((uri) => this.#slash(uri));

  constructor(options: RedfishServiceOptions) {
    this.#o = options;
  }

  get profile(): Profile {
    return this.#o.profile;
  }

  /**
   * A session made on behalf of an application token (HPE's `GetSessionID`): an ordinary entry
   * of the one session table, counted against the cap. Its user is the app's name.
   */
  createAppSession(user: string, userIp: string): { id: string; token: string; uri: string } | 'full' {
    this.counters.logins++;
    const session = this.#o.sessions.create({ user, tag: 'REST', transport: 'vnic', userIp });
    if (session === 'full') return 'full';
    this.#o.log.info({ id: session.id, user, transport: 'vnic' }, 'app-token session created');
    return { id: session.id, token: session.token, uri: this.#sessionUri(session) };
  }

  /** An error answer in iLO's envelope, for a front that refuses a request before it reaches handle(). */
  errorResponse(status: number, key: string, args?: readonly string[]): SimResponse {
    return this.#render('GET', this.#error(status, 'Base', key, args));
  }

  /** 405 to a method the HTTP parser does not know (before any path is read). */
  unknownMethodResponse(): SimResponse {
    this.counters.requests++;
    return this.#render('GET', this.#notAllowed([...KNOWN_METHODS].filter((m) => m !== 'PUT')));
  }

  async handle(request: SimRequest): Promise<SimResponse> {
    const method = request.method.toUpperCase();
    const target = parseTarget(request.target);
    const kind = target ? this.#kindOf(method, target) : 'request';
    this.counters.requests++;
    // Power and POST as they are by now (a boot in progress moves on with the clock).
    this.#o.power.advance();
    if (kind === 'login') this.counters.logins++;
    const fault = this.#o.faults.take(kind, method, target?.key ?? '');
    if (fault?.type === 'status503') {
      return this.#render(method, new HttpAnswer(503, envelope(this.#o.profile, 'Base', 'ServiceTemporarilyUnavailable', ['1']), { 'Retry-After': '1' }));
    }
    if (fault?.type === 'status401') {
      return this.#render(method, kind === 'login' ? this.#error(401, 'iLO', 'UnauthorizedLoginAttempt') : this.#error(401, 'Base', 'NoValidSession'));
    }
    if (fault?.type === 'status404') return this.#render(method, this.#error(404, 'Base', 'ResourceMissingAtURI', [target?.path ?? request.target]));
    if (fault?.type === 'hang' && fault.stage === 'before') await this.#o.faults.hold();

    let answer: HttpAnswer;
    let transient: SimSession | undefined;
    try {
      if (!target) {
        answer = this.#error(404, 'Base', 'ResourceMissingAtURI', [request.target]);
      } else {
        const result = await this.#process(method, target, request);
        answer = result.answer;
        transient = result.transient;
      }
    } finally {
      if (transient) this.#o.sessions.remove(transient.id);
    }
    // Done, and answered as a long operation: 202 and a task monitor that gives this answer later.
    if ((fault?.type === 'task' || fault?.type === 'task-fail') && answer.status < 400) answer = fromTask(this.#o.tasks.start(answer, fault.type === 'task-fail'));
    this.#o.log.debug({ method, path: target?.path ?? request.target, status: answer.status, transport: request.transport }, 'request');
    const response = this.#render(method, answer);
    if (fault?.type === 'garble') {
      response.body = Buffer.from('<html><body>Internal Server Error</body></html>');
      response.headers['Content-Length'] = String(response.body.length);
    } else if (fault?.type === 'strip-location') {
      delete response.headers.Location;
    } else if (fault?.type === 'rewrite-location') {
      const real = response.headers.Location ?? '';
      const path = real.startsWith('/') ? real : real.replace(/^[a-z]+:\/\/[^/]*/i, '');
      response.headers.Location = (fault.location ?? '').replaceAll('{path}', path);
    } else if (fault && !(fault.type === 'hang' && fault.stage === 'before')) {
      response.fault = fault;
    }
    return response;
  }

  #kindOf(method: string, target: RequestPath): RequestKind {
    if (method === 'POST' && this.#isSessionsCollection(target.key)) return 'login';
    if (method === 'DELETE' && this.#sessionIdOf(target) !== undefined) return 'logout';
    return 'request';
  }

  async #process(method: string, target: RequestPath, request: SimRequest): Promise<{ answer: HttpAnswer; transient?: SimSession }> {
    const { key } = target;
    if (key === '/redfish' || key === SERVICE_ROOT.toLowerCase()) {
      await this.#latency(0);
      if (!READ.includes(method)) return { answer: this.#notAllowed(READ) };
      let answer = key === '/redfish' ? new HttpAnswer(200, { v1: '/redfish/v1/' }) : this.#resource(target);
      // Readable without credentials, and then never expanded (HPE's note on $expand).
      if (READ.includes(method) && key !== '/redfish') answer = this.#query(answer, request.target, undefined, false);
      answer.headers.Allow = READ.join(', ');
      return { answer };
    }
    if (method === 'POST' && this.#isSessionsCollection(key)) {
      return { answer: await this.#login(request) };
    }

    const authenticated = this.#authenticate(request);
    if (!authenticated) {
      await this.#latency(0);
      return { answer: this.#error(401, 'Base', 'NoValidSession') };
    }
    // A request trusted at channel level (in-band, no credentials) has no session of its own.
    const auth = authenticated === 'channel' ? undefined : authenticated;
    const transient = auth?.transient ? auth : undefined;
    await this.#latency(0);
    if (!KNOWN_METHODS.has(method)) return { answer: this.#notAllowed(this.#allowed(target)), transient };
    const precondition = this.#precondition(method, target, request, auth);
    if (precondition) return { answer: precondition, transient };
    let answer = this.#dispatch(method, target, request, auth);
    if (READ.includes(method)) answer = this.#query(answer, request.target, auth, true);
    // iLO lists the methods a resource takes on its reads too (DMTF: Allow on GET and HEAD).
    if (READ.includes(method) && answer.status === 200) answer.headers.Allow ??= this.#allowed(target).join(', ');
    return { answer, transient };
  }

  #dispatch(method: string, target: RequestPath, request: SimRequest, auth: SimSession | undefined): HttpAnswer {
    const { key } = target;
    if (this.#isSessionsCollection(key)) {
      return READ.includes(method) ? this.#sessionCollection(auth) : this.#notAllowed(['GET', 'HEAD', 'POST']);
    }
    const sessionId = this.#sessionIdOf(target);
    if (sessionId !== undefined) return this.#sessionMember(method, target, sessionId, { caller: auth, via: request.transport });
    if (key === SESSION_SERVICE.toLowerCase() && method === 'PATCH') return this.#patchSessionService(request.body);

    const subscriptions = this.#subscriptionRequest(method, target, request);
    if (subscriptions) return subscriptions;
    const apps = this.#appAccounts(method, target);
    if (apps) return apps;

    const task = READ.includes(method) ? (this.#o.tasks.monitor(key) ?? this.#o.tasks.task(key)) : undefined;
    if (task) return fromTask(task);

    const action = this.#actionOf(target);
    if (action) {
      return method === 'POST' ? this.#runAction(action, request.body) : this.#notAllowed(['POST']);
    }
    if (!this.#o.store.get(key) && !this.#o.store.raw(key)) {
      return this.#error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    }
    if (READ.includes(method)) return this.#resource(target, auth);
    // PUT is taken as PATCH where iLO allows it (settings objects): a choice, unverified.
    if ((method === 'PATCH' || method === 'PUT') && this.#allowed(target).includes(method)) return this.#patch(target, request.body);
    return this.#notAllowed(this.#allowed(target));
  }

  // ---- query options (query.ts) -------------------------------------------------------------

  /** A 200 GET answer with the request's query options applied (and a 400 for one that cannot be read). */
  #query(answer: HttpAnswer, requestTarget: string, auth: SimSession | undefined, mayExpand: boolean): HttpAnswer {
    if (answer.status !== 200) return answer;
    let options: QueryOptions | undefined;
    try {
      options = parseQuery(requestTarget);
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      return this.#error(400, 'Base', 'QueryParameterValueFormatError', [error.value, error.option]);
    }
    const json = jsonOf(answer);
    if (!options || !json) return answer;
    const fetch = (uri: string) => {
      const target = parseTarget(uri);
      return target ? jsonOf(this.#dispatch('GET', target, DIRECTORY_READ, auth)) : undefined;
    };
    return new HttpAnswer(200, applyQuery(json, mayExpand ? options : { ...options, expand: false }, fetch), answer.headers);
  }

  // ---- conditional requests ----------------------------------------------------------------

  /**
   * `If-Match` / `If-None-Match` against the target's current ETag, before anything is done:
   * a stale If-Match, or an If-None-Match that matches on a write, is 412 with nothing applied;
   * an If-None-Match that matches on a read is 304. Entity tags compare weakly (iLO's are all
   * weak, `W/"…"`, and clients send them back as they got them, with or without `W/`). A target
   * with no representation (actions, missing paths) is answered as without the headers.
   */
  #precondition(method: string, target: RequestPath, request: SimRequest, auth: SimSession | undefined): HttpAnswer | undefined {
    const ifMatch = request.headers['if-match'];
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
    const lists = [ifMatch, ifNoneMatch].map((header) => (header === undefined ? undefined : entityTags(header)));
    if (lists.some((tags) => tags?.some((tag) => Buffer.byteLength(tag) > MAX_ETAG_BYTES))) return this.#error(400, 'iLO', 'ETagTooLong');
    const current = this.#currentEtag(target, auth);
    if (current === undefined) return undefined;
    const [matchList, noneList] = lists;
    if (matchList && !matches(matchList, current)) return this.#error(412, 'Base', 'PreconditionFailed');
    if (noneList && matches(noneList, current)) {
      return READ.includes(method) ? new HttpAnswer(304, Buffer.alloc(0), { ETag: current }) : this.#error(412, 'Base', 'PreconditionFailed');
    }
    return undefined;
  }

  /** The ETag a GET of the target would carry now, or undefined if it has none. */
  #currentEtag(target: RequestPath, auth: SimSession | undefined): string | undefined {
    if (this.#actionOf(target)) return undefined;
    const answer = this.#dispatch('GET', target, DIRECTORY_READ, auth);
    return answer.status === 200 ? this.#render('GET', answer).headers.ETag : undefined;
  }

  // ---- authentication and sessions -------------------------------------------------------

  async #login(request: SimRequest): Promise<HttpAnswer> {
    const { users } = this.#o;
    const parsed = parseJson(request.body);
    if (parsed === undefined) {
      await this.#latency(this.#o.faults.loginLatencyMs);
      return this.#error(400, 'Base', 'MalformedJSON');
    }
    const body = isObject(parsed) ? parsed : {};
    if (request.transport === 'chif' && isObject(parsed) && body.UserName == null && body.Password == null) {
      // In-band without credentials: the channel vouches for the caller.
      await this.#latency(this.#o.faults.loginLatencyMs);
      const user = request.channelUser ?? SYSTEM_ADMINISTRATOR;
      return this.#newSession(request, user, request.channelUser ? 'Local' : 'System');
    }
    for (const field of ['UserName', 'Password'] as const) {
      if (typeof body[field] !== 'string') {
        await this.#latency(this.#o.faults.loginLatencyMs);
        return this.#error(400, 'Base', 'PropertyMissing', [field]);
      }
    }
    const user = body.UserName as string;
    await this.#latency(this.#o.faults.loginLatencyMs);
    if (!checkPassword(users.get(user), body.Password as string)) {
      this.#failedLogins++;
      if (this.#failedLogins > this.#o.loginFailuresBeforeDelay && this.#o.loginFailureDelayMs > 0) {
        await sleep(this.#o.loginFailureDelayMs);
      }
      this.#o.log.info({ transport: request.transport }, 'login refused');
      return this.#error(401, 'iLO', 'UnauthorizedLoginAttempt');
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
      return this.#error(this.#o.limitStatus, 'Base', 'SessionLimitExceeded');
    }
    this.#o.log.info({ id: session.id, user, tag, transport: request.transport }, 'session created');
    const uri = this.#sessionUri(session);
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
  #authenticate(request: SimRequest): SimSession | 'channel' | undefined {
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

  #isSessionsCollection(key: string): boolean {
    return key === this.#sessionsKey || key === this.#aliasKey;
  }

  /** The Id in `/Sessions/<id>` (either alias), or undefined for any other path. */
  #sessionIdOf(target: RequestPath): string | undefined {
    for (const base of [SESSIONS, SESSIONS_ALIAS]) {
      const prefix = base.toLowerCase() + '/';
      if (target.key.startsWith(prefix) && !target.key.slice(prefix.length).includes('/')) {
        return target.path.slice(base.length + 1);
      }
    }
    return undefined;
  }

  #slash(uri: string): string {
    return this.#o.profile.trailingSlash ? `${uri}/` : uri;
  }

  #sessionUri(session: SimSession): string {
    return this.#slash(`${SESSIONS}/${session.id}`);
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
      '@odata.id': this.#sessionUri(session),
      '@odata.type': '#Session.v1_0_0.Session',
      Description: 'Manager User Session',
      Id: session.id,
      Name: 'User Session',
      Oem: { Hpe: hpe },
      UserName: session.user,
    };
  }

  #sessionCollection(caller: SimSession | undefined): HttpAnswer {
    const members = this.#o.sessions.list().map((s) => ({ '@odata.id': this.#sessionUri(s) }));
    // A request trusted at channel level has no session, hence no MySession link.
    const links = caller ? { MySession: { '@odata.id': this.#sessionUri(caller) } } : {};
    const body = (links: JsonObject): JsonObject => ({
      '@odata.context': '/redfish/v1/$metadata#SessionCollection.SessionCollection',
      '@odata.id': this.#slash(SESSIONS),
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

  #sessionMember(method: string, target: RequestPath, id: string, deleter: Deleter): HttpAnswer {
    const session = this.#o.sessions.find(id);
    if (!session) return this.#error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    if (READ.includes(method)) {
      const body = this.#sessionBody(session, deleter.caller);
      // Stable while the session lives: AccessTime/UserExpires move on every request and
      // MySession/Privileges depend on who asks (a choice, unverified).
      return new HttpAnswer(200, body, {}, this.#sessionBody({ ...session, accessTime: session.loginTime, timeoutMs: 0 }, undefined));
    }
    if (method === 'DELETE') {
      this.#o.sessions.delete(session.id, deleter);
      this.#o.log.info({ id: session.id }, 'session deleted');
      return this.#success();
    }
    return this.#notAllowed(['GET', 'HEAD', 'DELETE']);
  }

  #patchSessionService(body: Buffer): HttpAnswer {
    const changes = parseJson(body);
    if (changes === undefined || !isObject(changes)) return this.#error(400, 'Base', 'MalformedJSON');
    const errors: Envelope['error']['@Message.ExtendedInfo'] = [];
    for (const [name, value] of Object.entries(changes)) {
      if (name !== 'SessionTimeout' || !this.#o.profile.hasSessionTimeout) {
        errors.push(this.#info('iLO', 'PropertyNotWritableOrUnknown', [name]));
      } else if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        errors.push(this.#info('Base', 'PropertyValueTypeError', [JSON.stringify(value), name]));
      }
    }
    if (errors.length > 0) return this.#errors(400, errors);
    // iLO's SessionTimeout behaves as minutes (docs/reference/ilo-sessions.md §1.4) and applies to new sessions.
    if (typeof changes.SessionTimeout === 'number') this.#o.sessions.timeoutMs = changes.SessionTimeout * 60_000;
    return this.#success();
  }

  /**
   * Event subscriptions (subscriptions.ts), where the tree has the collection: GET and POST on
   * it, GET and DELETE on members; undefined for any other path.
   */
  #subscriptionRequest(method: string, target: RequestPath, request: SimRequest): HttpAnswer | undefined {
    const base = SUBSCRIPTIONS.toLowerCase();
    const memberId = target.key.startsWith(`${base}/`) ? target.path.slice(SUBSCRIPTIONS.length + 1) : undefined;
    if ((target.key !== base && memberId === undefined) || memberId?.includes('/')) return undefined;
    const collection = this.#o.store.get(base);
    if (!collection) return undefined;
    if (memberId === undefined) {
      if (READ.includes(method)) {
        const members = this.#subscriptions.members();
        return new HttpAnswer(200, { ...collection.json, Members: members, 'Members@odata.count': members.length });
      }
      if (method !== 'POST') return this.#notAllowed(['GET', 'HEAD', 'POST']);
      const body = parseJson(request.body);
      if (body === undefined || !isObject(body)) return this.#error(400, 'Base', 'MalformedJSON');
      const created = this.#subscriptions.create(body);
      if (Array.isArray(created)) return this.#errors(400, created.map((r) => this.#info(r.registry, r.key, r.args)));
      const uri = String(created['@odata.id']);
      this.#o.log.info({ uri, destination: created.Destination }, 'event subscription created');
      // As a session's: absolute over HTTPS, the path in-band (a choice, unverified for subscriptions).
      return new HttpAnswer(201, envelope(this.#o.profile, 'Base', 'Created'), { Location: request.transport === 'chif' ? uri : `${request.origin}${uri}` });
    }
    const member = this.#subscriptions.get(memberId);
    if (!member) return this.#error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    if (READ.includes(method)) return new HttpAnswer(200, member);
    if (method === 'DELETE') {
      this.#subscriptions.delete(memberId);
      this.#o.log.info({ uri: member['@odata.id'] }, 'event subscription deleted');
      return this.#success();
    }
    return this.#notAllowed(['GET', 'HEAD', 'DELETE']);
  }

  /** The live app-account collection and members (GET; DELETE on members; POST is not public). */
  #appAccounts(method: string, target: RequestPath): HttpAnswer | undefined {
    const store = this.#o.appAccounts;
    const base = APP_ACCOUNTS.toLowerCase();
    if (!store || (target.key !== base && !target.key.startsWith(`${base}/`))) return undefined;
    if (target.key === base) return READ.includes(method) ? new HttpAnswer(200, store.collection()) : this.#notAllowed(READ);
    const memberId = target.path.slice(APP_ACCOUNTS.length + 1);
    const member = memberId.includes('/') ? undefined : store.member(memberId);
    if (!member) return this.#error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    if (READ.includes(method)) return new HttpAnswer(200, member);
    if (method === 'DELETE') {
      store.deleteIlo(memberId);
      this.#o.log.info({ memberId }, 'app account deleted in iLO');
      return this.#success();
    }
    return this.#notAllowed(['GET', 'HEAD', 'DELETE']);
  }

  // ---- resources, PATCH and actions -----------------------------------------------------

  #resource(target: RequestPath, caller?: SimSession): HttpAnswer {
    const raw = this.#o.store.raw(target.key);
    if (raw) return new HttpAnswer(200, raw.body, { 'Content-Type': raw.contentType });
    const stored = this.#o.store.get(target.key);
    if (!stored) return this.#error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    if (target.key === SESSION_SERVICE.toLowerCase()) return new HttpAnswer(200, this.#liveSessionService(stored.json));
    if (target.key === SERVICE_ROOT.toLowerCase()) return new HttpAnswer(200, this.#liveServiceRoot(stored.json));
    if (target.key === RESOURCE_DIRECTORY) return new HttpAnswer(200, this.#liveDirectory(stored.json, caller));
    return new HttpAnswer(200, stored);
  }

  /**
   * The service root as stored, with `Oem.Hpe.Sessions.LoginFailureDelay` the delay (seconds) the
   * next refused login gets: the configured one once `loginFailuresBeforeDelay` refusals in a row
   * have been answered, until a good login; else 0 (a choice, unverified: HPE documents the name only).
   */
  #liveServiceRoot(json: JsonObject): JsonObject {
    const hpe = isObject(json.Oem) && isObject(json.Oem.Hpe) ? json.Oem.Hpe : undefined;
    const sessions = hpe && isObject(hpe.Sessions) ? hpe.Sessions : undefined;
    if (!hpe || !sessions || !('LoginFailureDelay' in sessions)) return json;
    const enforced = this.#failedLogins >= this.#o.loginFailuresBeforeDelay;
    const delay = enforced ? Math.ceil(this.#o.loginFailureDelayMs / 1000) : 0;
    return { ...json, Oem: { ...(json.Oem as JsonObject), Hpe: { ...hpe, Sessions: { ...sessions, LoginFailureDelay: delay } } } };
  }

  /** SessionService as stored, with SessionTimeout showing the live setting (in minutes, as iLO). */
  #liveSessionService(json: JsonObject): JsonObject {
    const live: JsonObject = { ...json };
    delete live.SessionTimeout;
    if (this.#o.profile.hasSessionTimeout) {
      const minutes = this.#o.sessions.timeoutMs / 60_000;
      live.SessionTimeout = minutes === 0 ? 0 : Math.max(1, Math.round(minutes));
    }
    return live;
  }

  #allowed(target: RequestPath): string[] {
    const { key } = target;
    if (key === '/redfish' || key === SERVICE_ROOT.toLowerCase()) return READ;
    if (this.#isSessionsCollection(key)) return ['GET', 'HEAD', 'POST'];
    if (this.#sessionIdOf(target) !== undefined) return ['GET', 'HEAD', 'DELETE'];
    if (this.#actionOf(target)) return ['POST'];
    if (READ_ONLY_TREES.some((tree) => key === tree || key.startsWith(`${tree}/`))) return READ;
    const apps = this.#o.appAccounts ? APP_ACCOUNTS.toLowerCase() : undefined;
    if (apps && key === apps) return READ;
    if (apps && key.startsWith(`${apps}/`)) return ['GET', 'HEAD', 'DELETE'];
    const subscriptions = SUBSCRIPTIONS.toLowerCase();
    if (key === subscriptions && this.#o.store.get(key)) return ['GET', 'HEAD', 'POST'];
    if (key.startsWith(`${subscriptions}/`) && this.#o.store.get(subscriptions)) return ['GET', 'HEAD', 'DELETE'];
    const stored = this.#o.store.get(key);
    if (!stored) return READ;
    // The tree's own ResourceDirectory says what iLO allows on each resource (its HttpMethods),
    // kept to what the simulator does with a stored resource.
    const listed = this.#directoryMethods().get(key);
    if (listed) return listed.filter((m) => STORED_METHODS.includes(m));
    // Else: a resource with `@Redfish.Settings` shows what is in effect and is read-only, its
    // settings object takes PUT and PATCH (as iLO's directories list them); collections are read-only.
    if (Array.isArray(stored.json.Members) || '@Redfish.Settings' in stored.json) return READ;
    return key.endsWith('/settings') ? ['GET', 'HEAD', 'PUT', 'PATCH'] : ['GET', 'HEAD', 'PATCH'];
  }

  #directory?: Map<string, string[]>;

  /** `HttpMethods` of every instance of the tree's ResourceDirectory (iLO's own), by key. */
  #directoryMethods(): Map<string, string[]> {
    if (this.#directory) return this.#directory;
    this.#directory = new Map();
    const instances = this.#o.store.get(RESOURCE_DIRECTORY)?.json.Instances;
    for (const instance of Array.isArray(instances) ? instances : []) {
      if (isObject(instance) && typeof instance['@odata.id'] === 'string' && Array.isArray(instance.HttpMethods)) {
        this.#directory.set(keyOf(instance['@odata.id']), instance.HttpMethods.filter((m): m is string => typeof m === 'string'));
      }
    }
    return this.#directory;
  }

  /**
   * The ResourceDirectory as it is now: the captured sessions are gone, the live ones listed,
   * and every ETag the one a GET would carry.
   */
  #liveDirectory(json: JsonObject, caller: SimSession | undefined): JsonObject {
    const instances: JsonObject[] = [];
    for (const instance of Array.isArray(json.Instances) ? json.Instances : []) {
      if (!isObject(instance) || typeof instance['@odata.id'] !== 'string') continue;
      const target = parseTarget(instance['@odata.id']);
      if (!target || this.#sessionIdOf(target) !== undefined) continue;
      if (target.key === RESOURCE_DIRECTORY) {
        instances.push(instance);
        continue;
      }
      const answer = this.#dispatch('GET', target, DIRECTORY_READ, caller);
      if (answer.status !== 200) continue;
      const etag = this.#render('GET', answer).headers.ETag;
      instances.push(etag ? { ...instance, ETag: etag } : instance);
    }
    for (const session of this.#o.sessions.list()) {
      const uri = this.#sessionUri(session);
      const target = parseTarget(uri) as RequestPath;
      const etag = this.#render('GET', this.#sessionMember('GET', target, session.id, { caller, via: 'https' })).headers.ETag;
      instances.push({ '@odata.id': uri, '@odata.type': '#Session.v1_0_0.Session', ETag: etag, HttpMethods: ['GET', 'HEAD', 'DELETE'] });
    }
    for (const { '@odata.id': uri } of this.#subscriptions.members()) {
      const answer = this.#dispatch('GET', parseTarget(String(uri)) as RequestPath, DIRECTORY_READ, caller);
      instances.push({ '@odata.id': uri, '@odata.type': '#EventDestination.v1_13_0.EventDestination', ETag: this.#render('GET', answer).headers.ETag, HttpMethods: ['GET', 'HEAD', 'DELETE'] });
    }
    return { ...json, Instances: instances };
  }

  #patch(target: RequestPath, body: Buffer): HttpAnswer {
    const stored = this.#o.store.get(target.key) as StoredResource;
    const changes = parseJson(body);
    if (changes === undefined || !isObject(changes)) return this.#error(400, 'Base', 'MalformedJSON');
    const errors: Envelope['error']['@Message.ExtendedInfo'] = [];
    const schema = schemaOf(this.#o.store, stored.json);
    const fail = (registry: 'Base' | 'iLO', key: string, args: string[]) => errors.push(this.#info(registry, key, args));
    const merged = mergePatch(stored.json, changes, schema, { fail, resolve: (ref) => schemaAt(this.#o.store, ref) });
    if (errors.length > 0) return this.#errors(400, errors);
    this.#o.store.replace(stored, merged);
    if (this.#o.settings.owner(target.key)) this.#o.settings.stage(target.key, changes);
    const vnic = this.#vnicChange(target.key, changes);
    if (vnic !== undefined && this.#o.onVnicPatch) {
      this.#o.onVnicPatch(vnic);
      // HPE's vNIC page: "An iLO reset is required for this change to fully take effect".
      return new HttpAnswer(200, envelope(this.#o.profile, 'iLO', 'ResetRequired'));
    }
    return this.#success();
  }

  /** The vNIC setting a PATCH made: Managers/1 `Oem.Hpe.VirtualNICEnabled` or HostInterfaces/1 `InterfaceEnabled`. */
  #vnicChange(key: string, changes: JsonObject): boolean | undefined {
    if (key === '/redfish/v1/managers/1/hostinterfaces/1' && typeof changes.InterfaceEnabled === 'boolean') return changes.InterfaceEnabled;
    const hpe = isObject(changes.Oem) && isObject(changes.Oem.Hpe) ? changes.Oem.Hpe : undefined;
    if (key === '/redfish/v1/managers/1' && typeof hpe?.VirtualNICEnabled === 'boolean') return hpe.VirtualNICEnabled;
    return undefined;
  }

  /** `/…/Actions/<Name>` of a resource whose Actions list that target. */
  #actionOf(target: RequestPath): { name: string; resource: StoredResource; definition: JsonObject } | undefined {
    const at = target.key.lastIndexOf('/actions/');
    if (at < 0) return undefined;
    const resource = this.#o.store.get(target.key.slice(0, at));
    const actions = resource?.json.Actions;
    if (!resource || !isObject(actions)) return undefined;
    for (const [name, definition] of Object.entries(actions)) {
      if (isObject(definition) && typeof definition.target === 'string' && parseTarget(definition.target)?.key === target.key) {
        return { name: name.replace(/^#/, ''), resource, definition };
      }
    }
    return undefined;
  }

  #runAction(action: { name: string; resource: StoredResource; definition: JsonObject }, body: Buffer): HttpAnswer {
    const parsed = body.length === 0 ? {} : parseJson(body);
    if (parsed === undefined || !isObject(parsed)) return this.#error(400, 'Base', 'MalformedJSON');
    const allowable = new Map<string, unknown[]>();
    for (const [key, value] of Object.entries(action.definition)) {
      const m = /^(.+)@Redfish\.AllowableValues$/.exec(key);
      if (m?.[1] && Array.isArray(value)) allowable.set(m[1], value);
    }
    // iLO 4's form, `{"Action": "<name>"}`, which HPE's own tools still send (ilorest's iloreset:
    // `{"Action": "Manager.Reset"}` alone): the name is no parameter, and the form needs none.
    const legacy = parsed.Action === action.name;
    for (const name of Object.keys(parsed)) {
      if (!allowable.has(name) && !(legacy && name === 'Action')) return this.#error(400, 'Base', 'ActionParameterUnknown', [action.name, name]);
    }
    for (const [name, values] of allowable) {
      if (legacy && !(name in parsed)) continue;
      if (!(name in parsed)) return this.#error(400, 'Base', 'ActionParameterMissing', [action.name, name]);
      if (!values.includes(parsed[name])) return this.#error(400, 'Base', 'PropertyValueNotInList', [String(parsed[name]), name]);
    }
    this.#applyAction(action, parsed);
    return this.#success();
  }

  #applyAction(action: { name: string; resource: StoredResource }, parameters: JsonObject): void {
    if (action.name === 'ComputerSystem.Reset') {
      this.#o.power.reset(keyOf(action.resource.uri), action.resource, parameters.ResetType);
    } else if (action.name === 'Manager.Reset') {
      // An iLO reset ends every session (HPE: one of the documented ways to clear them); the
      // simulator also takes the service away for a while (onManagerReset), once this answer is out.
      if (this.#o.onManagerReset) this.#o.onManagerReset();
      else setImmediate(() => this.#o.log.info({ ended: this.#o.sessions.expireAll('reset') }, 'iLO reset: all sessions ended'));
    }
  }

  // ---- responses ------------------------------------------------------------------------

  async #latency(extraMs: number): Promise<void> {
    const ms = this.#o.faults.latencyMs + extraMs;
    if (ms > 0) await sleep(ms);
  }

  #info(registry: 'Base' | 'iLO', key: string, args?: readonly string[]) {
    return envelope(this.#o.profile, registry, key, args).error['@Message.ExtendedInfo'][0] as { MessageId: string; MessageArgs?: string[] };
  }

  #error(status: number, registry: 'Base' | 'iLO', key: string, args?: readonly string[]): HttpAnswer {
    return new HttpAnswer(status, envelope(this.#o.profile, registry, key, args));
  }

  #errors(status: number, infos: Envelope['error']['@Message.ExtendedInfo']): HttpAnswer {
    const body = envelope(this.#o.profile, 'Base', 'Success');
    body.error['@Message.ExtendedInfo'] = infos;
    return new HttpAnswer(status, body);
  }

  #success(): HttpAnswer {
    return new HttpAnswer(200, envelope(this.#o.profile, 'Base', 'Success'));
  }

  /** 405 as iLO answers it: empty text/plain body and an Allow header (docs/reference/ilo-sessions.md §2.6, §4). */
  #notAllowed(allow: readonly string[]): HttpAnswer {
    return new HttpAnswer(405, Buffer.alloc(0), { Allow: allow.join(', '), 'Content-Type': 'text/plain' });
  }

  #render(method: string, answer: HttpAnswer): SimResponse {
    const headers: Record<string, string> = {
      'Cache-Control': 'no-cache',
      'Content-Type': 'application/json; charset=utf-8',
      'OData-Version': '4.0',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'sameorigin',
      ...answer.headers,
    };
    let body: Buffer;
    if (Buffer.isBuffer(answer.body)) {
      body = answer.body;
    } else if (answer.body && typeof answer.body === 'object' && 'uri' in answer.body && 'json' in answer.body) {
      const stored = answer.body as StoredResource;
      stored.rendered ??= this.#withEtag(stored.json);
      body = stored.rendered.body;
      headers.ETag = stored.rendered.etag;
    } else if (answer.status < 300 && isObject(answer.body) && '@odata.id' in answer.body) {
      const rendered = this.#withEtag(answer.body, answer.etagBasis);
      body = rendered.body;
      headers.ETag = rendered.etag;
    } else {
      body = Buffer.from(JSON.stringify(answer.body));
    }
    headers['Content-Length'] = String(body.length);
    return { status: answer.status, headers, body: method === 'HEAD' ? Buffer.alloc(0) : body };
  }

  /** Serialises a resource with a fresh `@odata.etag` (after @odata.context, as iLO orders it). */
  #withEtag(json: JsonObject, basis: JsonObject = json): { body: Buffer; etag: string } {
    const { '@odata.etag': _old, ...rest } = json;
    void _old;
    const etag = etagOf(basis, this.#o.profile.etagStyle);
    const ordered: JsonObject = {};
    if ('@odata.context' in rest) ordered['@odata.context'] = rest['@odata.context'];
    ordered['@odata.etag'] = etag;
    return { body: Buffer.from(JSON.stringify(Object.assign(ordered, rest))), etag };
  }
}

/** The entity tags of an If-Match / If-None-Match value (`*` stays `*`). */
function entityTags(header: string): string[] {
  return header.split(',').map((tag) => tag.trim()).filter((tag) => tag.length > 0);
}

/** Weak comparison (RFC 9110 §8.8.3.2): `W/"x"` and `"x"` match; `*` matches any current tag. */
function matches(tags: readonly string[], current: string): boolean {
  const opaque = (tag: string) => tag.replace(/^W\//, '');
  return tags.some((tag) => tag === '*' || opaque(tag) === opaque(current));
}

/** In-band sessions are iLO's "Rest Host" sessions (docs/reference/ilo-sessions.md §3.2). */
function tagOf(request: SimRequest): 'REST' | 'RESTHost' {
  return request.transport === 'chif' ? 'RESTHost' : 'REST';
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function checkPassword(expected: string | undefined, given: string): boolean {
  if (expected === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
