// Redfish in-band, through HPE's CHIF library: HTTP/1.1 bytes carried in "blobstore" packets
// that the library builds (docs/reference/chif-abi.md §3; the protocol is in blobstore.ts). This
// file holds the channel: its opening, one exchange at a time per process as HPE's own clients do,
// the checks on each exchange, and retries that are bounded and sit under each request's deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ChifHandle, ChifLibrary } from '../../binding/index.js';
import { AbortedError, AuthError, ChifCredentialsError, ChifError, ChifLibraryError, ClosedError, TimeoutError } from '../../errors.js';
import type { Transport, TransportRequest, TransportResponse } from '../transport.js';
import { AT, blobKey, fitsInline, immediatePacket, inlineAnswer, restRequest, sequenceOf, type PacketLink } from './blobstore.js';
import { parseResponse, serializeRequest } from './http1.js';

export interface ChifTransportOptions {
  library: ChifLibrary;
  /** Verified at channel level when the iLO's security state asks for it; null in production. */
  credentials: { username: string; password: string } | null;
  /** Time for one whole request; default 60 s. */
  timeoutMs?: number;
  logger?: Logger;
}

// Channel status codes are errno values on Linux and Win32 error codes on Windows (docs/reference/chif-abi.md §4.2).
const WINDOWS = process.platform === 'win32';
const CHIF = { NO_DRIVER: WINDOWS ? 2 : 19, ACCESS_DENIED: WINDOWS ? 5 : 13, SECURITY: 8 } as const;
const SECURITY_STATES: Readonly<Record<number, string>> = { 1: 'Factory', 3: 'Production', 4: 'HighSecurity', 5: 'FIPS', 6: 'SuiteB/CNSA' };
/** What the library answers when its receive timeout ran out (errno ETIMEDOUT). */
const ETIMEDOUT = 110;

/** A REST packet is resent only for methods that may run twice. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

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
  /** `METHOD path`, for the timeout message. */
  what: string;
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
    const job: Job = { deadline: Infinity, what: `${request.method} ${request.path}`, signal: request.signal };
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

  /** One inline exchange, blocking, for a process that is leaving (the blob store needs several). */
  requestSync(request: TransportRequest): TransportResponse {
    const bytes = serializeRequest(request);
    if (!fitsInline(this.#lib.sizes, bytes.length)) throw new ChifError('a blocking request must fit one packet');
    // A fresh channel: the current one may be sitting in an exchange that never ends.
    const { rc, handle } = this.#lib.createSync();
    if (rc !== 0) throw channelError('create', rc);
    this.#lib.setRecvTimeout(handle, Math.min(this.#timeoutMs, 5000));
    const result = this.#lib.exchangeSync(handle, immediatePacket(this.#lib, bytes, blobKey()));
    if (result.rc !== 0) throw new ChifError(`the CHIF exchange failed with status ${result.rc}`, result.rc);
    const http = inlineAnswer(result.response, this.#lib.sizes, false);
    if (!http) throw new ChifError('the blocking request was not answered inline');
    return parseResponse(http, request.method);
  }

  /** The iLO's security state byte (exempt from the library's status 8). */
  async securityState(): Promise<number> {
    const packet = this.#lib.securityState();
    const response = await this.#exchange(packet, { deadline: Date.now() + this.#timeoutMs, what: 'the security state', signal: undefined });
    return response.readUInt8(AT.securityState);
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
        timer = setTimeout(() => give(this.#noAnswer(job)), this.#timeoutMs + 1000);
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
    const link: PacketLink = {
      lib: this.#lib,
      deadline: job.deadline,
      log: this.#log,
      exchange: (packet: Buffer, resendable?: boolean) => this.#exchange(packet, job, resendable),
    };
    return parseResponse(await restRequest(link, bytes, IDEMPOTENT.has(request.method)), request.method);
  }

  #noAnswer(job: Job): TimeoutError {
    return new TimeoutError(`${job.what}: no answer over CHIF within ${this.#timeoutMs / 1000} s`);
  }

  /**
   * One packet exchange on the current channel, with the checks HPE's clients make: status of
   * the call, and the echoed sequence number. A failed call is retried on a fresh channel while
   * the deadline allows; a sequence mismatch only when the packet may be sent twice.
   */
  async #exchange(packet: Buffer, job: Job, resendable = true): Promise<Buffer> {
    const sequence = sequenceOf(packet);
    for (let attempt = 1; ; attempt++) {
      // A request given up on stops here: its channel was left to finish its last exchange.
      if (job.signal?.aborted) throw new AbortedError('aborted');
      if (Date.now() > job.deadline) throw this.#noAnswer(job);
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
      if (result.rc === ETIMEDOUT) throw this.#noAnswer(job);
      if (result.rc !== 0) {
        this.#log?.warn({ rc: result.rc, attempt }, 'CHIF exchange failed');
        if (attempt >= 3 || !resendable) throw new ChifError(`the CHIF exchange failed with status ${result.rc}`, result.rc);
        await this.#replaceChannel(channel);
        await sleep(Math.min(200 * attempt, Math.max(0, job.deadline - Date.now())));
        continue;
      }
      if (sequenceOf(result.response) !== sequence) {
        this.#log?.warn({ attempt }, 'the CHIF answer carried another sequence number');
        if (attempt >= 3 || !resendable) throw new ChifError('the iLO answered with another packet\'s sequence number');
        continue;
      }
      return result.response;
    }
  }

  async #replaceChannel(channel: Channel): Promise<void> {
    // An abandoned channel is closed by #abandonChannel when its exchange ends: a handle is closed once.
    if (this.#channel !== channel) return;
    this.#channel = undefined;
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
