// Fault injection: what goes wrong between a client and a real iLO, on demand.
// Rules are matched in order; each matching request consumes one of the rule's `times`.
import { InvalidInputError } from '../errors.js';
import { keyOf } from './paths.js';

export const FAULT_TYPES = ['status503', 'status401', 'status404', 'drop', 'truncate', 'hang', 'garble', 'strip-location', 'rewrite-location', 'task', 'task-fail'] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

/** Which requests a rule applies to: session POSTs, session DELETEs, everything else, or all. */
export const FAULT_TARGETS = ['any', 'login', 'logout', 'request'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];
export type RequestKind = Exclude<FaultTarget, 'any'>;

export interface FaultRule {
  /**
   * - `status503`: answer 503 ServiceTemporarilyUnavailable without doing the request;
   * - `drop`: do the request, send the status line and headers, then cut the connection;
   * - `truncate`: do the request, send the full Content-Length but half the body, then cut;
   * - `hang`: never answer until `release()` (or close). With `stage: 'after'` the request is
   *   done first (a login creates its session) and only the answer is held;
   * - `garble`: do the request, answer with its status and headers but a body that is not JSON;
   * - `strip-location`: do the request, answer without its Location header;
   * - `status401`: answer 401 without doing the request (a session POST: UnauthorizedLoginAttempt,
   *   as for a wrong password; anything else: NoValidSession, as for a token the iLO refuses),
   *   whatever the credentials: the session, if any, lives on;
   * - `status404`: answer 404 ResourceMissingAtURI without doing the request;
   * - `rewrite-location`: do the request, answer with `location` as its Location header;
   * - `task`: do the request, and if it succeeds answer 202 with a task monitor instead; the
   *   monitor gives the real answer once the task has run (`taskMs`);
   * - `task-fail`: the same, but the task ends in an Exception and the monitor answers an error.
   */
  type: FaultType;
  /** `rewrite-location` only: the Location to send; `{path}` stands for the real one's path. */
  location?: string;
  on?: FaultTarget;
  /** Only this method (case-insensitive). */
  method?: string;
  /** Only this path (case-insensitive, trailing slash ignored); a final `*` matches a prefix. */
  path?: string;
  /** How many requests the rule hits; default 1. `0` means every matching request. */
  times?: number;
  stage?: 'before' | 'after';
}

export interface ActiveFault {
  type: FaultType;
  stage: 'before' | 'after';
  location?: string;
}

interface ArmedRule extends Required<Pick<FaultRule, 'type' | 'on' | 'stage'>> {
  method?: string;
  pathKey?: string;
  location?: string;
  prefix: boolean;
  remaining: number; // Infinity for times: 0
}

export class FaultController {
  latencyMs = 0;
  loginLatencyMs = 0;
  readonly #rules: ArmedRule[] = [];
  readonly #held = new Set<{ resolve: () => void; reject: (e: Error) => void }>();

  inject(rule: FaultRule): void {
    this.#rules.push(armRule(rule));
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** Rules still armed (for the state view). */
  rules(): FaultRule[] {
    return this.#rules.map((r) => ({
      type: r.type,
      on: r.on,
      stage: r.stage,
      ...(r.method ? { method: r.method } : {}),
      ...(r.pathKey ? { path: r.pathKey + (r.prefix ? '*' : '') } : {}),
      ...(r.location !== undefined ? { location: r.location } : {}),
      times: r.remaining === Infinity ? 0 : r.remaining,
    }));
  }

  /** The fault this request suffers, if any; consumes one use of the first matching rule. */
  take(kind: RequestKind, method: string, pathKey: string): ActiveFault | undefined {
    const index = this.#rules.findIndex(
      (r) =>
        (r.on === 'any' || r.on === kind) &&
        (!r.method || r.method === method.toUpperCase()) &&
        (!r.pathKey || (r.prefix ? pathKey.startsWith(r.pathKey) : pathKey === r.pathKey)),
    );
    const rule = this.#rules[index];
    if (!rule) return undefined;
    if (--rule.remaining <= 0) this.#rules.splice(index, 1);
    return { type: rule.type, stage: rule.stage, ...(rule.location !== undefined ? { location: rule.location } : {}) };
  }

  /** Waits until `release()`; rejects when the simulator closes. */
  hold(): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = {
        resolve: () => {
          this.#held.delete(entry);
          resolve();
        },
        reject: (e: Error) => {
          this.#held.delete(entry);
          reject(e);
        },
      };
      this.#held.add(entry);
    });
  }

  /** Lets every held request go on; answers how many there were. */
  release(): number {
    const held = [...this.#held];
    held.forEach((h) => h.resolve());
    return held.length;
  }

  get held(): number {
    return this.#held.size;
  }

  abortHeld(): void {
    [...this.#held].forEach((h) => h.reject(new Error('simulator closed')));
  }
}

function armRule(rule: FaultRule): ArmedRule {
  if (!rule || typeof rule !== 'object') throw new InvalidInputError('a fault rule must be an object');
  const known = new Set(['type', 'on', 'method', 'path', 'times', 'stage', 'location']);
  const unknown = Object.keys(rule).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new InvalidInputError(`unknown fault field(s): ${unknown.join(', ')}`);
  if (!FAULT_TYPES.includes(rule.type)) {
    throw new InvalidInputError(`fault type must be one of ${FAULT_TYPES.join(', ')}; got ${JSON.stringify(rule.type)}`);
  }
  const on = rule.on ?? 'any';
  if (!FAULT_TARGETS.includes(on)) throw new InvalidInputError(`fault "on" must be one of ${FAULT_TARGETS.join(', ')}`);
  const stage = rule.stage ?? 'before';
  if (stage !== 'before' && stage !== 'after') throw new InvalidInputError('fault "stage" must be before or after');
  if (rule.stage !== undefined && rule.type !== 'hang') throw new InvalidInputError('fault "stage" applies to hang only');
  const times = rule.times ?? 1;
  if (!Number.isInteger(times) || times < 0) throw new InvalidInputError('fault "times" must be a whole number >= 0');
  if (rule.method !== undefined && !/^[A-Za-z]+$/.test(rule.method)) throw new InvalidInputError('fault "method" must be an HTTP method');
  if (rule.path !== undefined && (typeof rule.path !== 'string' || !rule.path.startsWith('/'))) {
    throw new InvalidInputError('fault "path" must start with /');
  }
  if ((rule.type === 'rewrite-location') !== (typeof rule.location === 'string')) {
    throw new InvalidInputError('fault "location" (a string) goes with type rewrite-location, and only with it');
  }
  const prefix = rule.path?.endsWith('*') ?? false;
  const armed: ArmedRule = { type: rule.type, on, stage, prefix, remaining: times === 0 ? Infinity : times };
  if (rule.method) armed.method = rule.method.toUpperCase();
  if (rule.location !== undefined) armed.location = rule.location;
  if (rule.path) armed.pathKey = prefix ? rule.path.slice(0, -1).toLowerCase() : keyOf(rule.path);
  return armed;
}

/** Parses the CLI form `type=hang,on=logout,stage=after,times=2`. */
export function parseFaultSpec(spec: string): FaultRule {
  const rule: Record<string, string | number> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InvalidInputError(`fault "${spec}": expected key=value pairs separated by commas`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    rule[key] = key === 'times' ? Number(value) : value;
  }
  const parsed = rule as unknown as FaultRule;
  armRule(parsed); // validate now, with the same messages as at run time
  return parsed;
}
