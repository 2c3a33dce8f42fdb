// iLO's blob store as CHIF clients see it (docs/reference/chif-abi.md §3.4–§3.6, §4.1; native-bindings/PROTOCOL.md):
// one namespace, `volatile`, holding request blobs the client writes in fragments and response
// blobs the simulator writes whole. Status codes are the blob store's (u32 @8 of a response).
//
// Choices where public material is silent: a write must start at or before the blob's current
// end (no holes) and is refused once the blob is finalized; HPE's clients never delete their
// request blobs, so, as UEFISET reports of real iLOs, an entry left alone for an hour is dropped;
// the store is bounded (keys, bytes per blob, bytes in all) and answers 2 beyond the bounds.

export const BLOB_SUCCESS = 0;
export const BLOB_BADPARAMETER = 2;
export const BLOB_NOTFOUND = 12;
export const BLOB_NOTMODIFIED = 20;

export const BLOB_NAMESPACE = 'volatile';

export interface BlobStoreLimits {
  maxKeys: number;
  maxBlobBytes: number;
  maxTotalBytes: number;
  /** An entry untouched this long is dropped. */
  ttlMs: number;
}

export const DEFAULT_BLOB_LIMITS: BlobStoreLimits = {
  maxKeys: 4096,
  maxBlobBytes: 32 * 1024 * 1024,
  maxTotalBytes: 128 * 1024 * 1024,
  ttlMs: 60 * 60_000,
};

interface Blob {
  data: Buffer;
  /** Bytes in use; `data` may be larger (room to grow). */
  size: number;
  finalized: boolean;
  touched: number;
}

export class BlobStore {
  readonly #blobs = new Map<string, Blob>();
  readonly #limits: BlobStoreLimits;
  readonly #clock: () => number;
  #bytes = 0;

  constructor(limits: Partial<BlobStoreLimits> = {}, clock: () => number = Date.now) {
    this.#limits = { ...DEFAULT_BLOB_LIMITS, ...limits };
    this.#clock = clock;
  }

  /** Live keys, oldest first. */
  keys(): string[] {
    this.#purge();
    return [...this.#blobs.keys()];
  }

  get count(): number {
    this.#purge();
    return this.#blobs.size;
  }

  get bytes(): number {
    this.#purge();
    return this.#bytes;
  }

  create(key: string): number {
    this.#purge();
    if (this.#blobs.has(key)) return BLOB_NOTMODIFIED;
    if (this.#blobs.size >= this.#limits.maxKeys) return BLOB_BADPARAMETER;
    this.#blobs.set(key, { data: Buffer.alloc(0), size: 0, finalized: false, touched: this.#clock() });
    return BLOB_SUCCESS;
  }

  write(key: string, offset: number, bytes: Buffer): number {
    const blob = this.#get(key);
    if (!blob) return BLOB_NOTFOUND;
    if (blob.finalized || offset > blob.size) return BLOB_BADPARAMETER;
    const end = offset + bytes.length;
    const grow = Math.max(0, end - blob.size);
    if (end > this.#limits.maxBlobBytes || this.#bytes + grow > this.#limits.maxTotalBytes) return BLOB_BADPARAMETER;
    if (end > blob.data.length) {
      const data = Buffer.alloc(Math.min(this.#limits.maxBlobBytes, Math.max(end, blob.data.length * 2, 4096)));
      blob.data.copy(data, 0, 0, blob.size);
      blob.data = data;
    }
    bytes.copy(blob.data, offset);
    blob.size += grow;
    this.#bytes += grow;
    return BLOB_SUCCESS;
  }

  finalize(key: string): number {
    const blob = this.#get(key);
    if (!blob) return BLOB_NOTFOUND;
    blob.finalized = true;
    return BLOB_SUCCESS;
  }

  info(key: string): { status: number; size: number } {
    const blob = this.#get(key);
    return blob ? { status: BLOB_SUCCESS, size: blob.size } : { status: BLOB_NOTFOUND, size: 0 };
  }

  /** Up to `count` bytes from `offset` (fewer at the end; none past it). */
  read(key: string, offset: number, count: number): { status: number; data: Buffer } {
    const blob = this.#get(key);
    if (!blob) return { status: BLOB_NOTFOUND, data: Buffer.alloc(0) };
    const start = Math.min(offset, blob.size);
    return { status: BLOB_SUCCESS, data: blob.data.subarray(start, Math.min(blob.size, start + count)) };
  }

  /** A finalized blob's whole content, or undefined (missing, or still being written). */
  content(key: string): Buffer | undefined {
    const blob = this.#get(key);
    return blob?.finalized ? blob.data.subarray(0, blob.size) : undefined;
  }

  /** Deleting a key that does not exist succeeds (docs/reference/chif-abi.md §3.6: HPE's client relies on it). */
  delete(key: string): number {
    const blob = this.#blobs.get(key);
    if (blob) {
      this.#blobs.delete(key);
      this.#bytes -= blob.size;
    }
    return BLOB_SUCCESS;
  }

  /** Stores a whole, finalized blob (a REST response), replacing any blob of that key. */
  put(key: string, data: Buffer): number {
    this.#purge();
    const old = this.#blobs.get(key);
    const others = this.#bytes - (old?.size ?? 0);
    if (data.length > this.#limits.maxBlobBytes || others + data.length > this.#limits.maxTotalBytes) return BLOB_BADPARAMETER;
    if (!old && this.#blobs.size >= this.#limits.maxKeys) return BLOB_BADPARAMETER;
    this.#blobs.delete(key);
    this.#blobs.set(key, { data, size: data.length, finalized: true, touched: this.#clock() });
    this.#bytes = others + data.length;
    return BLOB_SUCCESS;
  }

  clear(): void {
    this.#blobs.clear();
    this.#bytes = 0;
  }

  #get(key: string): Blob | undefined {
    this.#purge();
    const blob = this.#blobs.get(key);
    if (blob) blob.touched = this.#clock();
    return blob;
  }

  #purge(): void {
    const now = this.#clock();
    for (const [key, blob] of this.#blobs) {
      if (now - blob.touched >= this.#limits.ttlMs) {
        this.#blobs.delete(key);
        this.#bytes -= blob.size;
      }
    }
  }
}
