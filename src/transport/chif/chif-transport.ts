// Redfish in-band, through HPE's CHIF library: HTTP/1.1 bytes carried in "blobstore" packets
// that the library builds (docs/reference/chif-abi.md §3). One exchange at a time per process, as
// HPE's own clients do; retries are bounded and sit under each request's deadline.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChifHandle, ChifLibrary } from '../../binding/index.js';
import { AbortedError, AuthError, ChifCredentialsError, ChifError, ChifLibraryError, ClosedError, ProtocolError, TimeoutError } from '../../errors.js';
import { MAX_RESPONSE_BODY, MAX_RESPONSE_HEAD } from '../limits.js';
import type { Transport, TransportRequest, TransportResponse } from '../transport.js';
import { parseResponse, serializeRequest } from './http1.js';

export interface ChifTransportOptions {
  library: ChifLibrary;
  /** Verified at channel level when the iLO's security state asks for it; null in production. */
  credentials: { username: string; password: string } | null;
  /** Time for one whole request; default 60 s. */
  timeoutMs?: number;
  logger?: Logger;
}

const NAMESPACE = 'volatile';
const BLOB = { SUCCESS: 0, BADPARAMETER: 2, NOTFOUND: 12, NOTMODIFIED: 20 } as const;
// Channel status codes are errno values on Linux and Win32 error codes on Windows (docs/reference/chif-abi.md §4.2).
const WINDOWS = process.platform === 'win32';
const CHIF = { NO_DRIVER: WINDOWS ? 2 : 19, ACCESS_DENIED: WINDOWS ? 5 : 13, SECURITY: 8 } as const;
const SECURITY_STATES: Readonly<Record<number, string>> = { 1: 'Factory', 3: 'Production', 4: 'HighSecurity', 5: 'FIPS', 6: 'SuiteB/CNSA' };
/** What the library answers when its receive timeout ran out (errno ETIMEDOUT). */
const ETIMEDOUT = 110;
const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The largest response blob read: a whole HTTP answer, head and body, as HTTPS would take it. */
const MAX_RESPONSE_BLOB = MAX_RESPONSE_HEAD + MAX_RESPONSE_BODY;

/** A REST packet is resent only for methods that may run twice. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** HPE's keys: ten characters of [A-Za-z0-9], fresh for every request (from one random draw). */
export function blobKey(): string {
  let key = '';
  while (key.length < 10) {
    for (const byte of randomBytes(16)) {
      // 248 = 4 × 62: a byte below it maps to the 62 characters without bias
      if (byte < 248) key += KEY_CHARS[byte % KEY_CHARS.length];
      if (key.length === 10) break;
    }
  }
  return key;
}

/**
 * Prepares the library (security flow of docs/reference/chif-abi.md §5) and opens a channel. Fails before any
 * session exists: ChifLibraryError (no driver, not permitted), ChifCredentialsError (the
 * security state needs credentials), AuthError (the iLO refused them).
 */
export async function openChifTransport(options: ChifTransportOptions): Promise<Transport> {
  const { library, credentials } = options;
  library.initialize();
  const required = await library.isSecurityRequired();
  if (required < 0) {
    // Most often there is no driver at all: opening a channel says so precisely.
    const probe = new ChifTransport(options);
    await probe.open();
    await probe.close();
    throw new ChifError('the CHIF library could not read the iLO\'s security state', required);
  }
  if (credentials) {
    library.initiateCredentials(credentials.username, credentials.password);
    const rc = await library.verifyCredentials();
    if (rc !== 0 && required > 0) {
      if (rc === CHIF.ACCESS_DENIED) {
        throw new AuthError(`the iLO refused the in-band credentials of ${credentials.username}`, { status: 401 });
      }
      throw new ChifError(`in-band verification of the credentials failed with status ${rc}`, rc);
    }
    // Not required: the session POST checks the credentials; the channel needs no more.
    if (rc !== 0 || required === 0) library.disableSecurity();
  } else if (required === 0) {
    library.disableSecurity();
  }
  const transport = new ChifTransport(options);
  await transport.open();
  if (!credentials && required > 0) {
    const state = await transport.securityState().catch(() => undefined);
    await transport.close();
    throw new ChifCredentialsError(
      `the iLO's security state${state ? ` (${SECURITY_STATES[state] ?? state})` : ''} requires credentials for in-band access: give --username and a password`,
    );
  }
  return transport;
}

/** One request's limits, passed down to every exchange it makes. */
interface Job {
  deadline: number;
  signal: AbortSignal | undefined;
  /** Resolves when the job leaves the queue: its time counts from then. */
  started?: Promise<void>;
}

interface Channel {
  handle: ChifHandle;
  /** The exchange running on it, if any. */
  busy: Promise<unknown> | undefined;
}

class ChifTransport implements Transport {
  readonly kind = 'chif' as const;
  readonly description: string;
  readonly library: string;
  readonly #lib: ChifLibrary;
  readonly #timeoutMs: number;
  readonly #log: Logger | undefined;
  #channel: Channel | undefined;
  /** Serialises requests: one exchange sequence at a time, as HPE's clients do. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed: Promise<void> | undefined;

  constructor(options: ChifTransportOptions) {
    this.#lib = options.library;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#log = options.logger;
    this.description = `via ${options.library.path}`;
    this.library = options.library.path;
  }

  async open(): Promise<void> {
    this.#channel = await this.#createChannel();
  }

  request(request: TransportRequest): Promise<TransportResponse> {
    if (this.#closed) return Promise.reject(new ClosedError('the CHIF transport is closed'));
    if (request.signal?.aborted) return Promise.reject(new AbortedError(`${request.method} ${request.path} aborted before sending`));
    let bytes: Buffer;
    try {
      bytes = serializeRequest(request);
    } catch (error) {
      return Promise.reject(error);
    }
    const job: Job = { deadline: Infinity, signal: request.signal };
    let start!: () => void;
    job.started = new Promise((resolve) => (start = resolve));
    const run = this.#queue.then(() => {
      job.deadline = Date.now() + this.#timeoutMs;
      start();
      return this.#exchangeRequest(request, bytes, job);
    });
    this.#queue = run.catch(() => undefined);
    const done = this.#bounded(run, request, job);
    this.#inFlight.add(done);
    const forget = () => this.#inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      await this.#queue;
      const channel = this.#channel;
      this.#channel = undefined;
      if (channel) await this.#lib.close(channel.handle);
    })();
    return this.#closed;
  }

  requestSync(request: TransportRequest): TransportResponse {
    const bytes = serializeRequest(request);
    const sizes = this.#lib.sizes;
    if (bytes.length >= sizes.restImmediateRequest + sizes.maxWrite) throw new ChifError('a blocking request must fit one packet');
    // A fresh channel: the current one may be sitting in an exchange that never ends.
    const { rc, handle } = this.#lib.createSync();
    if (rc !== 0) throw channelError('create', rc);
    this.#lib.setRecvTimeout(handle, Math.min(this.#timeoutMs, 5000));
    const responseKey = blobKey();
    const packet = Buffer.concat([this.#lib.restImmediate(bytes.length, responseKey, NAMESPACE), bytes]);
    const result = this.#lib.exchangeSync(handle, packet);
    if (result.rc !== 0) throw new ChifError(`the CHIF exchange failed with status ${result.rc}`, result.rc);
    const response = result.response;
    if (response.readUInt32LE(8) !== BLOB.SUCCESS || response.readUInt32LE(12) !== 0) {
      throw new ChifError('the blocking request was not answered inline');
    }
    const length = response.readUInt32LE(16);
    return parseResponse(response.subarray(sizes.restResponseFixed, sizes.restResponseFixed + length), request.method);
  }

  /** The iLO's security state byte (exempt from the library's status 8). */
  async securityState(): Promise<number> {
    const packet = this.#lib.securityState();
    const response = await this.#exchange(packet, { deadline: Date.now() + this.#timeoutMs, signal: undefined });
    return response.readUInt8(72);
  }

  async #createChannel(): Promise<Channel> {
    const { rc, handle } = await this.#lib.create();
    if (rc !== 0) throw channelError('create', rc);
    const ping = await this.#lib.ping(handle);
    if (ping !== 0) {
      void this.#lib.close(handle);
      if (ping === CHIF.SECURITY) throw new ChifCredentialsError('the iLO requires credentials for in-band access: give --username and a password');
      throw channelError('open', ping);
    }
    this.#lib.setRecvTimeout(handle, this.#timeoutMs);
    return { handle, busy: undefined };
  }

  /**
   * A caller that gives up (signal) or runs out of time is answered at once. The native exchange
   * cannot be cut, so its channel is left to finish alone and a fresh channel takes the next
   * requests: the DELETE of a session must not wait behind a request the iLO is sitting on.
   */
  #bounded<T>(run: Promise<T>, request: TransportRequest, job: Job): Promise<T> {
    const signal = request.signal;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const give = (error: Error) => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(error);
        this.#abandonChannel();
      };
      const onAbort = () => give(new AbortedError(`${request.method} ${request.path} aborted`));
      // The library's receive timeout should end a stuck exchange; this is the backstop.
      void job.started?.then(() => {
        timer = setTimeout(
          () => give(new TimeoutError(`${request.method} ${request.path}: no answer over CHIF within ${this.#timeoutMs / 1000} s`)),
          this.#timeoutMs + 1000,
        );
      });
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      run.then(
        (value) => {
          settled = true;
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          settled = true;
          cleanup();
          reject(error);
        },
      );
    });
  }

  #abandonChannel(): void {
    const old = this.#channel;
    if (!old?.busy) return;
    this.#channel = undefined;
    void old.busy.finally(() => this.#lib.close(old.handle));
    this.#queue = Promise.resolve();
  }

  async #exchangeRequest(request: TransportRequest, bytes: Buffer, job: Job): Promise<TransportResponse> {
    const sizes = this.#lib.sizes;
    const responseKey = blobKey();
    let packet: Buffer;
    let requestKey: string | undefined;
    if (bytes.length < sizes.restImmediateRequest + sizes.maxWrite) {
      packet = Buffer.concat([this.#lib.restImmediate(bytes.length, responseKey, NAMESPACE), bytes]);
    } else {
      requestKey = blobKey();
      await this.#writeBlob(requestKey, bytes, job);
      packet = this.#lib.restBlobDesc(requestKey, responseKey, NAMESPACE);
    }
    const response = await this.#exchange(packet, job, IDEMPOTENT.has(request.method));
    const status = response.readUInt32LE(8);
    const recvMode = response.readUInt32LE(12);
    let http: Buffer;
    if (status === BLOB.NOTFOUND) throw new ChifError('the iLO lost the request blob (status 12)', status);
    if (recvMode === 0) {
      if (status !== BLOB.SUCCESS && !(status === BLOB.NOTMODIFIED && !requestKey)) throw new ChifError(`the iLO answered the request with blob status ${status}`, status);
      const length = response.readUInt32LE(16);
      const start = sizes.restResponseFixed;
      if (start + length > response.length) throw new ChifError(`the iLO's inline answer claims ${length} bytes, more than a packet holds`);
      http = Buffer.from(response.subarray(start, start + length));
    } else if (recvMode === 1) {
      try {
        http = await this.#readBlob(responseKey, job);
      } finally {
        // Read, refused or cut short: the answer does not stay in the iLO's blob store.
        await this.#deleteBlob(responseKey, job).catch(() => undefined);
      }
    } else {
      throw new ChifError(`the iLO answered with an unknown receive mode ${recvMode}`);
    }
    if (requestKey) await this.#deleteBlob(requestKey, job).catch(() => undefined);
    return parseResponse(http, request.method);
  }

  async #writeBlob(key: string, bytes: Buffer, job: Job): Promise<void> {
    const sizes = this.#lib.sizes;
    this.#expectBlob(await this.#exchange(this.#lib.createBlob(key, NAMESPACE), job), 'create');
    const chunk = sizes.maxWrite - sizes.writeRequest;
    for (let offset = 0; offset < bytes.length; offset += chunk) {
      const part = bytes.subarray(offset, offset + chunk);
      const packet = Buffer.concat([this.#lib.writeFragment(offset, part.length, key, NAMESPACE), part]);
      this.#expectBlob(await this.#exchange(packet, job), 'write');
    }
    this.#expectBlob(await this.#exchange(this.#lib.finalizeBlob(key, NAMESPACE), job), 'finalize');
  }

  async #readBlob(key: string, job: Job): Promise<Buffer> {
    const sizes = this.#lib.sizes;
    const header = sizes.responseHeaderBlob;
    for (let pass = 0; pass < 4; pass++) {
      const info = await this.#retryBusy(() => this.#exchange(this.#lib.blobInfo(key, NAMESPACE), job), job);
      const infoStatus = info.readUInt32LE(8);
      if (infoStatus === BLOB.NOTFOUND) throw new ChifError('the iLO lost the response blob (status 12)', infoStatus);
      if (infoStatus !== BLOB.SUCCESS && infoStatus !== BLOB.NOTMODIFIED) throw new ChifError(`reading the answer's size failed with blob status ${infoStatus}`, infoStatus);
      const total = info.readUInt32LE(header);
      // Checked before a byte is read; the loop below never reads past `total`.
      if (total > MAX_RESPONSE_BLOB) {
        throw new ProtocolError(`the iLO announced a ${total}-byte answer over CHIF, more than the ${MAX_RESPONSE_BLOB} a Redfish answer may take; not read`);
      }
      const parts: Buffer[] = [];
      let read = 0;
      let stalled = false;
      while (read < total) {
        const count = Math.min(sizes.maxRead - sizes.readRequest, total - read);
        const response = await this.#exchange(this.#lib.readFragment(read, count, key, NAMESPACE), job);
        // Only bytes-read counts here (docs/reference/chif-abi.md §3.1): 0 means the read failed.
        const got = response.readUInt32LE(header);
        if (got === 0 || got > count || header + 4 + got > response.length) {
          stalled = true;
          break;
        }
        parts.push(Buffer.from(response.subarray(header + 4, header + 4 + got)));
        read += got;
      }
      if (!stalled) return Buffer.concat(parts);
      this.#log?.debug({ pass }, 'a read fragment came back empty; reading the answer again');
    }
    throw new ChifError('the iLO kept answering empty fragments while its answer was read');
  }

  async #deleteBlob(key: string, job: Job): Promise<void> {
    const response = await this.#retryBusy(() => this.#exchange(this.#lib.deleteBlob(key, NAMESPACE), job), job);
    const status = response.readUInt32LE(8);
    if (status !== BLOB.SUCCESS && status !== BLOB.NOTMODIFIED && status !== BLOB.NOTFOUND) {
      this.#log?.warn({ status }, 'deleting a response blob failed');
    }
  }

  /** Blob status 2 means another local user holds the blob store: back off and retry. */
  async #retryBusy(send: () => Promise<Buffer>, job: Job): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      const response = await send();
      if (response.readUInt32LE(8) !== BLOB.BADPARAMETER) return response;
      const pause = Math.min(250 + 100 * attempt, 1500);
      if (Date.now() + pause > job.deadline) throw new ChifError('another local client keeps the iLO\'s blob store busy (status 2); try again', BLOB.BADPARAMETER);
      await sleep(pause);
    }
  }

  #expectBlob(response: Buffer, what: string): void {
    const status = response.readUInt32LE(8);
    if (status !== BLOB.SUCCESS && status !== BLOB.NOTMODIFIED) throw new ChifError(`blob ${what} failed with status ${status}`, status);
  }

  /**
   * One packet exchange on the current channel, with the checks HPE's clients make: status of
   * the call, and the echoed sequence number. A failed call is retried on a fresh channel while
   * the deadline allows; a sequence mismatch only when the packet may be sent twice.
   */
  async #exchange(packet: Buffer, job: Job, resendable = true): Promise<Buffer> {
    const sequence = packet.readUInt16LE(2);
    for (let attempt = 1; ; attempt++) {
      // A request given up on stops here: its channel was left to finish its last exchange.
      if (job.signal?.aborted) throw new AbortedError('aborted');
      if (Date.now() > job.deadline) throw new TimeoutError(`no answer over CHIF within ${this.#timeoutMs / 1000} s`);
      const channel = (this.#channel ??= await this.#createChannel());
      const call = this.#lib.exchange(channel.handle, packet);
      channel.busy = call;
      let result: { rc: number; response: Buffer };
      try {
        result = await call;
      } finally {
        if (channel.busy === call) channel.busy = undefined;
      }
      if (result.rc === CHIF.SECURITY) {
        throw new ChifCredentialsError('the iLO requires credentials for in-band access (status 8): give --username and a password');
      }
      if (result.rc === ETIMEDOUT) throw new TimeoutError(`no answer over CHIF within ${this.#timeoutMs / 1000} s`);
      if (result.rc !== 0) {
        this.#log?.warn({ rc: result.rc, attempt }, 'CHIF exchange failed');
        if (attempt >= 3 || !resendable) throw new ChifError(`the CHIF exchange failed with status ${result.rc}`, result.rc);
        await this.#replaceChannel(channel);
        await sleep(Math.min(200 * attempt, Math.max(0, job.deadline - Date.now())));
        continue;
      }
      if (result.response.readUInt16LE(2) !== sequence) {
        this.#log?.warn({ attempt }, 'the CHIF answer carried another sequence number');
        if (attempt >= 3 || !resendable) throw new ChifError('the iLO answered with another packet\'s sequence number');
        continue;
      }
      return result.response;
    }
  }

  async #replaceChannel(channel: Channel): Promise<void> {
    if (this.#channel === channel) this.#channel = undefined;
    await this.#lib.close(channel.handle);
  }
}

function channelError(what: 'create' | 'open', rc: number): Error {
  if (rc === CHIF.NO_DRIVER) {
    return new ChifLibraryError(
      'the CHIF driver is not available: on Linux load the hpilo kernel module (/dev/hpilo), on Windows install HPE\'s iLO CHIF driver; or give --url to use HTTPS',
    );
  }
  if (rc === CHIF.ACCESS_DENIED) {
    return new ChifLibraryError('in-band access to the iLO is not permitted: run as root (Administrator on Windows)');
  }
  return new ChifLibraryError(`the CHIF channel could not be ${what === 'create' ? 'created' : 'opened'} (status ${rc})`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
