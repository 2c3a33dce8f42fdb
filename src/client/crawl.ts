// Walks a Redfish tree through one client: every `@odata.id` link once (fragments dropped,
// compared as iLO compares URIs: case-insensitively, trailing slash ignored), with bounded
// concurrency and a bounded count. A resource that fails, or a link that cannot be requested,
// is recorded, not fatal.
import { InvalidInputError, RedfishError } from '../errors.js';
import { isJsonObject } from '../redfish/index.js';
import type { RedfishClient } from './client.js';
import { checkPath } from './paths.js';

export interface CrawlError {
  error: { status?: number; code: string; message: string; messageIds?: string[] };
}

export interface CrawlOptions {
  /** Requests at once; default 4. */
  concurrency?: number;
  /** Told after each resource: done and discovered so far. */
  onProgress?: (done: number, discovered: number) => void;
  signal?: AbortSignal;
  /** At most this many entries (resources and refused links); default {@link DEFAULT_MAX_RESOURCES}. */
  maxResources?: number;
  /** Told once when a link is left out because the walk holds maxResources entries. */
  onLimit?: (maxResources: number) => void;
  /** Told of each entry recorded as an error (a failed resource, a link not followed). */
  onFailure?: (path: string, failure: CrawlError['error']) => void;
}

/** Far above a real iLO's tree (an iLO 6 mockup has 2,204 resources), far below what exhausts memory. */
export const DEFAULT_MAX_RESOURCES = 100_000;

const keyOf = (path: string) => path.replace(/\/+$/, '').toLowerCase() || '/';

/** Every link in a body: `@odata.id` values under /redfish, without their `#fragment`. */
export function linksOf(body: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (isJsonObject(value)) {
      for (const [key, inner] of Object.entries(value)) {
        if (key === '@odata.id' && typeof inner === 'string') {
          const path = inner.split('#')[0] ?? '';
          if (path.startsWith('/redfish/')) out.push(path);
        } else {
          walk(inner);
        }
      }
    }
  };
  walk(body);
  return out;
}

export async function crawl(client: Pick<RedfishClient, 'get'>, root: string, options: CrawlOptions = {}): Promise<Record<string, unknown>> {
  const concurrency = options.concurrency ?? 4;
  const maxResources = options.maxResources ?? DEFAULT_MAX_RESOURCES;
  let limited = false;
  const result: Record<string, unknown> = {};
  const seen = new Set<string>([keyOf(root)]);
  const queue: string[] = [root];
  let done = 0;
  let active = 0;
  let failure: unknown;
  const fail = (path: string, error: CrawlError['error']) => {
    result[path] = { error } satisfies CrawlError;
    options.onFailure?.(path, error);
  };

  await new Promise<void>((resolve) => {
    const pump = () => {
      if (failure !== undefined || (queue.length === 0 && active === 0)) {
        if (active === 0) resolve();
        return;
      }
      while (active < concurrency && queue.length > 0) {
        const path = queue.shift() as string;
        active++;
        void visit(path).then(
          () => {
            active--;
            done++;
            options.onProgress?.(done, seen.size);
            pump();
          },
          (error: unknown) => {
            active--;
            failure ??= error;
            pump();
          },
        );
      }
    };
    const visit = async (path: string) => {
      try {
        const body = await client.get(path, { signal: options.signal });
        result[path] = body;
        for (const link of linksOf(body)) {
          const key = keyOf(link);
          if (seen.has(key)) continue;
          if (seen.size >= maxResources) {
            if (!limited) options.onLimit?.(maxResources);
            limited = true;
            break;
          }
          seen.add(key);
          // A link no request may carry (a space, "..", non-ASCII) is the iLO's oddity, not the
          // walk's end: recorded where its resource would be, nothing sent.
          try {
            checkPath(link);
          } catch (error) {
            if (!(error instanceof InvalidInputError)) throw error;
            fail(link, { code: error.code, message: `not followed: ${error.message}` });
            done++;
            continue;
          }
          queue.push(link);
        }
      } catch (error) {
        // A resource that answers with an error is part of the result; anything else
        // (the iLO unreachable, a stop) ends the walk.
        if (!(error instanceof RedfishError) && !(error instanceof Error && 'code' in error && error.code === 'E_PROTOCOL')) throw error;
        const e = error as RedfishError;
        fail(path, { status: e.status, code: e.code, message: e.message, ...(e instanceof RedfishError ? { messageIds: e.messageIds } : {}) });
      }
    };
    pump();
  });
  if (failure !== undefined) throw failure;
  return result;
}
