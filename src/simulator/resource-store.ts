// The simulator's resources: the built-in tree, or a DMTF-layout mockup folder (one index.json
// per URI, as `<dir>/index.json` or `<dir>/redfish/v1/index.json`). Mockup files are read when
// first asked for and kept in memory; PATCH changes only the in-memory copy, never the folder.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { keyOf, SERVICE_ROOT } from './paths.js';

export type JsonObject = { [key: string]: unknown };

export interface StoredResource {
  /** The URI as the resource names itself (`@odata.id`), or as its folder spells it. */
  readonly uri: string;
  json: JsonObject;
  /** Serialised body and ETag, dropped whenever `json` changes. */
  rendered?: { body: Buffer; etag: string };
}

export interface RawDocument {
  contentType: string;
  body: Buffer;
}

export class ResourceStore {
  readonly #resources = new Map<string, StoredResource>();
  /** Mockup files not yet read: key → file. */
  readonly #files = new Map<string, { uri: string; file: string }>();
  readonly #raw = new Map<string, RawDocument>();

  static fromTree(tree: ReadonlyMap<string, JsonObject>): ResourceStore {
    const store = new ResourceStore();
    for (const [uri, json] of tree) store.#resources.set(keyOf(uri), { uri, json: structuredClone(json) });
    return store;
  }

  static fromMockup(dir: string): ResourceStore {
    const root = [join(dir, 'redfish', 'v1'), dir].find((candidate) => existsSync(join(candidate, 'index.json')));
    if (!root) {
      throw new InvalidInputError(`mockup folder ${dir} has neither index.json nor redfish/v1/index.json`);
    }
    const store = new ResourceStore();
    let entries: string[];
    try {
      entries = readdirSync(root, { recursive: true, encoding: 'utf8' });
    } catch (error) {
      throw new InvalidInputError(`cannot read mockup folder ${root}: ${(error as Error).message}`, { cause: error });
    }
    for (const entry of entries) {
      const parts = entry.split(sep);
      const file = parts.pop();
      if (file !== 'index.json' && file !== 'index.xml') continue;
      const uri = parts.length === 0 ? SERVICE_ROOT : `${SERVICE_ROOT}/${parts.join('/')}`;
      const path = join(root, entry);
      if (!statSync(path).isFile()) continue;
      if (file === 'index.xml') {
        store.#raw.set(keyOf(uri), { contentType: 'application/xml', body: readFileSync(path) });
      } else {
        store.#files.set(keyOf(uri), { uri, file: path });
      }
    }
    return store;
  }

  /**
   * The iLO generation the tree's own service root names (`Oem.Hpe.Manager[0].ManagerType`, else
   * `Oem.Hpe.Moniker.PRODGEN`, as ilorest reads it), e.g. 7 for "iLO 7"; undefined if none.
   */
  generation(): number | undefined {
    const hpe = (this.get(keyOf(SERVICE_ROOT))?.json.Oem as { Hpe?: { Manager?: { ManagerType?: unknown }[]; Moniker?: { PRODGEN?: unknown } } } | undefined)?.Hpe;
    for (const text of [hpe?.Manager?.[0]?.ManagerType, hpe?.Moniker?.PRODGEN]) {
      const m = typeof text === 'string' ? /^iLO\s+(\d+)$/.exec(text.trim()) : null;
      if (m?.[1]) return Number(m[1]);
    }
    return undefined;
  }

  get(key: string): StoredResource | undefined {
    const loaded = this.#resources.get(key);
    if (loaded) return loaded;
    const pending = this.#files.get(key);
    if (!pending) return undefined;
    this.#files.delete(key);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(pending.file, 'utf8'));
    } catch {
      return undefined; // an unreadable mockup file is a missing resource
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const resource: StoredResource = { uri: pending.uri, json: json as JsonObject };
    this.#resources.set(key, resource);
    return resource;
  }

  raw(key: string): RawDocument | undefined {
    return this.#raw.get(key);
  }

  replace(resource: StoredResource, json: JsonObject): void {
    resource.json = json;
    delete resource.rendered;
  }
}
