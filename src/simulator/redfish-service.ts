// The simulated iLO's Redfish service, independent of how requests arrive (HTTPS, or in-band
// through the CHIF endpoint). It owns authentication, the live session resources, the resource
// tree, PATCH/action semantics and the per-request faults.
// Its parts: redfish-answers.ts (request/response shapes, envelopes, rendering), session-routes.ts
// (login, authentication, session resources), resource-routes.ts (the tree, PATCH, actions); this
// file dispatches a request among them and applies the per-request faults, query options and
// conditional headers.
//
// In-band (transport 'chif', docs/reference/chif-abi.md §6.1, docs/reference/ilo-sessions.md §3.2): a request without
// credentials is trusted at channel level (the CHIF endpoint has already applied the security
// state); a request with an X-Auth-Token or Basic credentials is checked as over HTTPS. A
// session POST with `{"UserName": null, "Password": null}` makes a "Rest Host" session of user
// "system administrator" (UserType System), or of the user the channel was verified with; one
// with real credentials checks them. In-band sessions share the one session table.
import type { Logger } from 'pino';
import type { AppAccountStore } from './app-accounts.js';
import { envelope } from './envelopes.js';
import type { FaultController, RequestKind } from './faults.js';
import { parseTarget, type RequestPath, SERVICE_ROOT, SESSION_SERVICE } from './paths.js';
import type { Profile } from './profiles.js';
import type { ResourceStore } from './resource-store.js';
import type { SessionTable, SimSession } from './sessions.js';
import type { PowerControl } from './power.js';
import type { SettingsObjects } from './settings.js';
import type { TaskBoard } from './tasks.js';
import { applyQuery, parseQuery, QueryError, type QueryOptions } from './query.js';
import { Answers, DIRECTORY_READ, fromTask, HttpAnswer, jsonOf, latency, READ, type SimRequest, type SimResponse } from './redfish-answers.js';
import { ResourceRoutes } from './resource-routes.js';
import { SessionRoutes } from './session-routes.js';

// The fronts (https-front.ts, chif-endpoint.ts) take the request and response shapes from here.
export type { SimRequest, SimResponse } from './redfish-answers.js';

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

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE']);
/** iLO refuses a longer ETag in If-Match / If-None-Match (its registry's `ETagTooLong`). */
const MAX_ETAG_BYTES = 63;

export class RedfishService {
  readonly #o: RedfishServiceOptions;
  readonly #a: Answers;
  readonly #s: SessionRoutes;
  readonly #r: ResourceRoutes;
  /** Requests and session POSTs seen, for tests that check nothing was sent. */
  readonly counters = { requests: 0, logins: 0 };

  constructor(options: RedfishServiceOptions) {
    this.#o = options;
    this.#a = new Answers(options.profile);
    this.#s = new SessionRoutes(options, this.#a);
    this.#r = new ResourceRoutes(options, this.#a, this.#s, (method, target, request, auth) => this.#dispatch(method, target, request, auth));
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
    return this.#s.createApp(user, userIp);
  }

  /** An error answer in iLO's envelope, for a front that refuses a request before it reaches handle(). */
  errorResponse(status: number, key: string, args?: readonly string[]): SimResponse {
    return this.#a.render('GET', this.#a.error(status, 'Base', key, args));
  }

  /** 405 to a method the HTTP parser does not know (before any path is read). */
  unknownMethodResponse(): SimResponse {
    this.counters.requests++;
    return this.#a.render('GET', this.#a.notAllowed([...KNOWN_METHODS].filter((m) => m !== 'PUT')));
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
      return this.#a.render(method, new HttpAnswer(503, envelope(this.#o.profile, 'Base', 'ServiceTemporarilyUnavailable', ['1']), { 'Retry-After': '1' }));
    }
    if (fault?.type === 'status401') {
      return this.#a.render(method, kind === 'login' ? this.#a.error(401, 'iLO', 'UnauthorizedLoginAttempt') : this.#a.error(401, 'Base', 'NoValidSession'));
    }
    if (fault?.type === 'status404') return this.#a.render(method, this.#a.error(404, 'Base', 'ResourceMissingAtURI', [target?.path ?? request.target]));
    if (fault?.type === 'hang' && fault.stage === 'before') await this.#o.faults.hold();

    let answer: HttpAnswer;
    let transient: SimSession | undefined;
    try {
      if (!target) {
        answer = this.#a.error(404, 'Base', 'ResourceMissingAtURI', [request.target]);
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
    const response = this.#a.render(method, answer);
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
    if (method === 'POST' && this.#s.isSessionsCollection(target.key)) return 'login';
    if (method === 'DELETE' && this.#s.sessionIdOf(target) !== undefined) return 'logout';
    return 'request';
  }

  async #process(method: string, target: RequestPath, request: SimRequest): Promise<{ answer: HttpAnswer; transient?: SimSession }> {
    const { key } = target;
    if (key === '/redfish' || key === SERVICE_ROOT.toLowerCase()) {
      await latency(this.#o.faults, 0);
      if (!READ.includes(method)) return { answer: this.#a.notAllowed(READ) };
      let answer = key === '/redfish' ? new HttpAnswer(200, { v1: '/redfish/v1/' }) : this.#r.resource(target);
      // Readable without credentials, and then never expanded (HPE's note on $expand).
      if (READ.includes(method) && key !== '/redfish') answer = this.#query(answer, request.target, undefined, false);
      answer.headers.Allow = READ.join(', ');
      return { answer };
    }
    if (method === 'POST' && this.#s.isSessionsCollection(key)) {
      return { answer: await this.#s.login(request) };
    }

    const authenticated = this.#s.authenticate(request);
    if (!authenticated) {
      await latency(this.#o.faults, 0);
      return { answer: this.#a.error(401, 'Base', 'NoValidSession') };
    }
    // A request trusted at channel level (in-band, no credentials) has no session of its own.
    const auth = authenticated === 'channel' ? undefined : authenticated;
    const transient = auth?.transient ? auth : undefined;
    await latency(this.#o.faults, 0);
    if (!KNOWN_METHODS.has(method)) return { answer: this.#a.notAllowed(this.#r.allowed(target)), transient };
    const precondition = this.#precondition(method, target, request, auth);
    if (precondition) return { answer: precondition, transient };
    let answer = this.#dispatch(method, target, request, auth);
    if (READ.includes(method)) answer = this.#query(answer, request.target, auth, true);
    // iLO lists the methods a resource takes on its reads too (DMTF: Allow on GET and HEAD).
    if (READ.includes(method) && answer.status === 200) answer.headers.Allow ??= this.#r.allowed(target).join(', ');
    return { answer, transient };
  }

  #dispatch(method: string, target: RequestPath, request: SimRequest, auth: SimSession | undefined): HttpAnswer {
    const { key } = target;
    if (this.#s.isSessionsCollection(key)) {
      return READ.includes(method) ? this.#s.sessionCollection(auth) : this.#a.notAllowed(['GET', 'HEAD', 'POST']);
    }
    const sessionId = this.#s.sessionIdOf(target);
    if (sessionId !== undefined) return this.#s.sessionMember(method, target, sessionId, { caller: auth, via: request.transport });
    if (key === SESSION_SERVICE.toLowerCase() && method === 'PATCH') return this.#s.patchSessionService(request.body);

    const subscriptions = this.#r.subscriptionRequest(method, target, request);
    if (subscriptions) return subscriptions;
    const apps = this.#r.appAccounts(method, target);
    if (apps) return apps;

    const task = READ.includes(method) ? (this.#o.tasks.monitor(key) ?? this.#o.tasks.task(key)) : undefined;
    if (task) return fromTask(task);

    const action = this.#r.actionOf(target);
    if (action) {
      return method === 'POST' ? this.#r.runAction(action, request.body) : this.#a.notAllowed(['POST']);
    }
    if (!this.#o.store.get(key) && !this.#o.store.raw(key)) {
      return this.#a.error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    }
    if (READ.includes(method)) return this.#r.resource(target, auth);
    // PUT is taken as PATCH where iLO allows it (settings objects): a choice, unverified.
    if ((method === 'PATCH' || method === 'PUT') && this.#r.allowed(target).includes(method)) return this.#r.patch(target, request.body);
    return this.#a.notAllowed(this.#r.allowed(target));
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
      return this.#a.error(400, 'Base', 'QueryParameterValueFormatError', [error.value, error.option]);
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
    if (lists.some((tags) => tags?.some((tag) => Buffer.byteLength(tag) > MAX_ETAG_BYTES))) return this.#a.error(400, 'iLO', 'ETagTooLong');
    const current = this.#currentEtag(target, auth);
    if (current === undefined) return undefined;
    const [matchList, noneList] = lists;
    if (matchList && !matches(matchList, current)) return this.#a.error(412, 'Base', 'PreconditionFailed');
    if (noneList && matches(noneList, current)) {
      return READ.includes(method) ? new HttpAnswer(304, Buffer.alloc(0), { ETag: current }) : this.#a.error(412, 'Base', 'PreconditionFailed');
    }
    return undefined;
  }

  /** The ETag a GET of the target would carry now, or undefined if it has none. */
  #currentEtag(target: RequestPath, auth: SimSession | undefined): string | undefined {
    if (this.#r.actionOf(target)) return undefined;
    const answer = this.#dispatch('GET', target, DIRECTORY_READ, auth);
    return answer.status === 200 ? this.#a.render('GET', answer).headers.ETag : undefined;
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
