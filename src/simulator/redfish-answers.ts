// The Redfish service's answers: the request and response shapes the fronts (HTTPS, CHIF) exchange
// with the service, an answer before it is rendered (HttpAnswer), iLO's error envelopes and 405s,
// and the rendering itself (headers, ETag, HEAD), shared by the service's route modules.
import { setTimeout as sleep } from 'node:timers/promises';
import { envelope, type Envelope } from './envelopes.js';
import { etagOf } from './etag.js';
import type { ActiveFault, FaultController } from './faults.js';
import type { Profile } from './profiles.js';
import type { JsonObject, StoredResource } from './resource-store.js';
import type { SessionTransport } from './sessions.js';
import type { TaskAnswer } from './tasks.js';
import { isObject } from './patch.js';

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

export const READ = ['GET', 'HEAD'];
/** A request that only reads, for answers computed on the side (ETags, the directory). */
export const DIRECTORY_READ: SimRequest = { method: 'GET', target: '/', headers: {}, body: Buffer.alloc(0), transport: 'https', remoteAddress: '', origin: '' };

export class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    /** What the ETag is computed from when not the whole body (fields that change on every read left out). */
    readonly etagBasis?: JsonObject,
  ) {}
}

/** The JSON resource an answer carries, if it carries one. */
export function jsonOf(answer: HttpAnswer): JsonObject | undefined {
  if (answer.status !== 200) return undefined;
  const body = answer.body;
  if (isObject(body) && 'uri' in body && 'json' in body && isObject(body.json)) return body.json;
  return isObject(body) && '@odata.id' in body ? body : undefined;
}

export function fromTask(answer: TaskAnswer): HttpAnswer {
  return answer instanceof HttpAnswer ? answer : new HttpAnswer(answer.status, answer.body, answer.headers);
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The configured latency (plus `extraMs`), before an answer. */
export async function latency(faults: FaultController, extraMs: number): Promise<void> {
  const ms = faults.latencyMs + extraMs;
  if (ms > 0) await sleep(ms);
}

/** iLO's answers in its envelopes, and their rendering, for one profile. */
export class Answers {
  readonly #profile: Profile;

  constructor(profile: Profile) {
    this.#profile = profile;
  }

  info(registry: 'Base' | 'iLO', key: string, args?: readonly string[]) {
    return envelope(this.#profile, registry, key, args).error['@Message.ExtendedInfo'][0] as { MessageId: string; MessageArgs?: string[] };
  }

  error(status: number, registry: 'Base' | 'iLO', key: string, args?: readonly string[]): HttpAnswer {
    return new HttpAnswer(status, envelope(this.#profile, registry, key, args));
  }

  errors(status: number, infos: Envelope['error']['@Message.ExtendedInfo']): HttpAnswer {
    const body = envelope(this.#profile, 'Base', 'Success');
    body.error['@Message.ExtendedInfo'] = infos;
    return new HttpAnswer(status, body);
  }

  success(): HttpAnswer {
    return new HttpAnswer(200, envelope(this.#profile, 'Base', 'Success'));
  }

  /** 405 as iLO answers it: empty text/plain body and an Allow header (docs/reference/ilo-sessions.md §2.6, §4). */
  notAllowed(allow: readonly string[]): HttpAnswer {
    return new HttpAnswer(405, Buffer.alloc(0), { Allow: allow.join(', '), 'Content-Type': 'text/plain' });
  }

  render(method: string, answer: HttpAnswer): SimResponse {
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
    const etag = etagOf(basis, this.#profile.etagStyle);
    const ordered: JsonObject = {};
    if ('@odata.context' in rest) ordered['@odata.context'] = rest['@odata.context'];
    ordered['@odata.etag'] = etag;
    return { body: Buffer.from(JSON.stringify(Object.assign(ordered, rest))), etag };
  }
}
