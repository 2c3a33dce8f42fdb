// The Redfish service's resources: the stored tree (GET, PATCH/PUT, the methods each allows),
// its actions (parameters checked against the tree's AllowableValues), the live ResourceDirectory,
// and the collections the store does not hold (event subscriptions, iLO 7's app accounts).
import { APP_ACCOUNTS } from './app-accounts.js';
import { envelope, type Envelope } from './envelopes.js';
import { keyOf, parseTarget, type RequestPath, SERVICE_ROOT, SESSION_SERVICE } from './paths.js';
import type { JsonObject, StoredResource } from './resource-store.js';
import type { SimSession } from './sessions.js';
import { isObject, mergePatch } from './patch.js';
import { EventSubscriptions, SUBSCRIPTIONS } from './subscriptions.js';
import { schemaAt, schemaOf } from './writability.js';
import { type Answers, DIRECTORY_READ, HttpAnswer, parseJson, READ, type SimRequest } from './redfish-answers.js';
import type { RedfishServiceOptions } from './redfish-service.js';
import type { SessionRoutes } from './session-routes.js';

/** What a stored resource can be asked to do (POST and DELETE act only on sessions, accounts, actions). */
const STORED_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH'];
const RESOURCE_DIRECTORY = '/redfish/v1/resourcedirectory';
/** Subtrees that are documents, not settings. */
const READ_ONLY_TREES = ['/redfish/v1/registries', '/redfish/v1/registrystore', '/redfish/v1/jsonschemas', '/redfish/v1/schemastore', '/redfish/v1/$metadata', '/redfish/v1/odata'];

/** The service's dispatch, for answers computed from other resources (the directory's ETags). */
export type Dispatch = (method: string, target: RequestPath, request: SimRequest, auth: SimSession | undefined) => HttpAnswer;

export class ResourceRoutes {
  readonly #o: RedfishServiceOptions;
  readonly #a: Answers;
  readonly #s: SessionRoutes;
  readonly #dispatch: Dispatch;
  readonly #subscriptions = new EventSubscriptions((uri) => this.#s.slash(uri));

  constructor(options: RedfishServiceOptions, answers: Answers, sessions: SessionRoutes, dispatch: Dispatch) {
    this.#o = options;
    this.#a = answers;
    this.#s = sessions;
    this.#dispatch = dispatch;
  }

  // ---- collections the store does not hold ------------------------------------------------

  /**
   * Event subscriptions (subscriptions.ts), where the tree has the collection: GET and POST on
   * it, GET and DELETE on members; undefined for any other path.
   */
  subscriptionRequest(method: string, target: RequestPath, request: SimRequest): HttpAnswer | undefined {
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
      if (method !== 'POST') return this.#a.notAllowed(['GET', 'HEAD', 'POST']);
      const body = parseJson(request.body);
      if (body === undefined || !isObject(body)) return this.#a.error(400, 'Base', 'MalformedJSON');
      const created = this.#subscriptions.create(body);
      if (Array.isArray(created)) return this.#a.errors(400, created.map((r) => this.#a.info(r.registry, r.key, r.args)));
      const uri = String(created['@odata.id']);
      this.#o.log.info({ uri, destination: created.Destination }, 'event subscription created');
      // As a session's: absolute over HTTPS, the path in-band (a choice, unverified for subscriptions).
      return new HttpAnswer(201, envelope(this.#o.profile, 'Base', 'Created'), { Location: request.transport === 'chif' ? uri : `${request.origin}${uri}` });
    }
    const member = this.#subscriptions.get(memberId);
    if (!member) return this.#a.error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    if (READ.includes(method)) return new HttpAnswer(200, member);
    if (method === 'DELETE') {
      this.#subscriptions.delete(memberId);
      this.#o.log.info({ uri: member['@odata.id'] }, 'event subscription deleted');
      return this.#a.success();
    }
    return this.#a.notAllowed(['GET', 'HEAD', 'DELETE']);
  }

  /** The live app-account collection and members (GET; DELETE on members; POST is not public). */
  appAccounts(method: string, target: RequestPath): HttpAnswer | undefined {
    const store = this.#o.appAccounts;
    const base = APP_ACCOUNTS.toLowerCase();
    if (!store || (target.key !== base && !target.key.startsWith(`${base}/`))) return undefined;
    if (target.key === base) return READ.includes(method) ? new HttpAnswer(200, store.collection()) : this.#a.notAllowed(READ);
    const memberId = target.path.slice(APP_ACCOUNTS.length + 1);
    const member = memberId.includes('/') ? undefined : store.member(memberId);
    if (!member) return this.#a.error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    if (READ.includes(method)) return new HttpAnswer(200, member);
    if (method === 'DELETE') {
      store.deleteIlo(memberId);
      this.#o.log.info({ memberId }, 'app account deleted in iLO');
      return this.#a.success();
    }
    return this.#a.notAllowed(['GET', 'HEAD', 'DELETE']);
  }

  // ---- resources, PATCH and actions -----------------------------------------------------

  resource(target: RequestPath, caller?: SimSession): HttpAnswer {
    const raw = this.#o.store.raw(target.key);
    if (raw) return new HttpAnswer(200, raw.body, { 'Content-Type': raw.contentType });
    const stored = this.#o.store.get(target.key);
    if (!stored) return this.#a.error(404, 'Base', 'ResourceMissingAtURI', [target.path]);
    if (target.key === SESSION_SERVICE.toLowerCase()) return new HttpAnswer(200, this.#s.liveSessionService(stored.json));
    if (target.key === SERVICE_ROOT.toLowerCase()) return new HttpAnswer(200, this.#s.liveServiceRoot(stored.json));
    if (target.key === RESOURCE_DIRECTORY) return new HttpAnswer(200, this.#liveDirectory(stored.json, caller));
    return new HttpAnswer(200, stored);
  }

  allowed(target: RequestPath): string[] {
    const { key } = target;
    if (key === '/redfish' || key === SERVICE_ROOT.toLowerCase()) return READ;
    if (this.#s.isSessionsCollection(key)) return ['GET', 'HEAD', 'POST'];
    if (this.#s.sessionIdOf(target) !== undefined) return ['GET', 'HEAD', 'DELETE'];
    if (this.actionOf(target)) return ['POST'];
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
      if (!target || this.#s.sessionIdOf(target) !== undefined) continue;
      if (target.key === RESOURCE_DIRECTORY) {
        instances.push(instance);
        continue;
      }
      const answer = this.#dispatch('GET', target, DIRECTORY_READ, caller);
      if (answer.status !== 200) continue;
      const etag = this.#a.render('GET', answer).headers.ETag;
      instances.push(etag ? { ...instance, ETag: etag } : instance);
    }
    for (const session of this.#o.sessions.list()) {
      const uri = this.#s.sessionUri(session);
      const target = parseTarget(uri) as RequestPath;
      const etag = this.#a.render('GET', this.#s.sessionMember('GET', target, session.id, { caller, via: 'https' })).headers.ETag;
      instances.push({ '@odata.id': uri, '@odata.type': '#Session.v1_0_0.Session', ETag: etag, HttpMethods: ['GET', 'HEAD', 'DELETE'] });
    }
    for (const { '@odata.id': uri } of this.#subscriptions.members()) {
      const answer = this.#dispatch('GET', parseTarget(String(uri)) as RequestPath, DIRECTORY_READ, caller);
      instances.push({ '@odata.id': uri, '@odata.type': '#EventDestination.v1_13_0.EventDestination', ETag: this.#a.render('GET', answer).headers.ETag, HttpMethods: ['GET', 'HEAD', 'DELETE'] });
    }
    return { ...json, Instances: instances };
  }

  patch(target: RequestPath, body: Buffer): HttpAnswer {
    const stored = this.#o.store.get(target.key) as StoredResource;
    const changes = parseJson(body);
    if (changes === undefined || !isObject(changes)) return this.#a.error(400, 'Base', 'MalformedJSON');
    const errors: Envelope['error']['@Message.ExtendedInfo'] = [];
    const schema = schemaOf(this.#o.store, stored.json);
    const fail = (registry: 'Base' | 'iLO', key: string, args: string[]) => errors.push(this.#a.info(registry, key, args));
    const merged = mergePatch(stored.json, changes, schema, { fail, resolve: (ref) => schemaAt(this.#o.store, ref) });
    if (errors.length > 0) return this.#a.errors(400, errors);
    this.#o.store.replace(stored, merged);
    if (this.#o.settings.owner(target.key)) this.#o.settings.stage(target.key, changes);
    const vnic = this.#vnicChange(target.key, changes);
    if (vnic !== undefined && this.#o.onVnicPatch) {
      this.#o.onVnicPatch(vnic);
      // HPE's vNIC page: "An iLO reset is required for this change to fully take effect".
      return new HttpAnswer(200, envelope(this.#o.profile, 'iLO', 'ResetRequired'));
    }
    return this.#a.success();
  }

  /** The vNIC setting a PATCH made: Managers/1 `Oem.Hpe.VirtualNICEnabled` or HostInterfaces/1 `InterfaceEnabled`. */
  #vnicChange(key: string, changes: JsonObject): boolean | undefined {
    if (key === '/redfish/v1/managers/1/hostinterfaces/1' && typeof changes.InterfaceEnabled === 'boolean') return changes.InterfaceEnabled;
    const hpe = isObject(changes.Oem) && isObject(changes.Oem.Hpe) ? changes.Oem.Hpe : undefined;
    if (key === '/redfish/v1/managers/1' && typeof hpe?.VirtualNICEnabled === 'boolean') return hpe.VirtualNICEnabled;
    return undefined;
  }

  /** `/…/Actions/<Name>` of a resource whose Actions list that target. */
  actionOf(target: RequestPath): { name: string; resource: StoredResource; definition: JsonObject } | undefined {
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

  runAction(action: { name: string; resource: StoredResource; definition: JsonObject }, body: Buffer): HttpAnswer {
    const parsed = body.length === 0 ? {} : parseJson(body);
    if (parsed === undefined || !isObject(parsed)) return this.#a.error(400, 'Base', 'MalformedJSON');
    const allowable = new Map<string, unknown[]>();
    for (const [key, value] of Object.entries(action.definition)) {
      const m = /^(.+)@Redfish\.AllowableValues$/.exec(key);
      if (m?.[1] && Array.isArray(value)) allowable.set(m[1], value);
    }
    // iLO 4's form, `{"Action": "<name>"}`, which HPE's own tools still send (ilorest's iloreset:
    // `{"Action": "Manager.Reset"}` alone): the name is no parameter, and the form needs none.
    const legacy = parsed.Action === action.name;
    for (const name of Object.keys(parsed)) {
      if (!allowable.has(name) && !(legacy && name === 'Action')) return this.#a.error(400, 'Base', 'ActionParameterUnknown', [action.name, name]);
    }
    for (const [name, values] of allowable) {
      if (legacy && !(name in parsed)) continue;
      if (!(name in parsed)) return this.#a.error(400, 'Base', 'ActionParameterMissing', [action.name, name]);
      if (!values.includes(parsed[name])) return this.#a.error(400, 'Base', 'PropertyValueNotInList', [String(parsed[name]), name]);
    }
    this.#applyAction(action, parsed);
    return this.#a.success();
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
}
