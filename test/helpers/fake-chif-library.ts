// An in-memory ChifLibrary: the interface src/binding/chif-library.ts gives the CHIF transport,
// with a blob store and a REST handler behind it, so that the transport's protocol and channel
// logic can be driven packet by packet without the C emulator. Its packet layout and sizes are
// its own (HPE publishes neither, docs/reference/chif-abi.md §2.4); it keeps only what HPE's
// clients rely on: the status at u32 @8, the echoed sequence at u16 @2, the REST answer fields at
// @12/@16, values at size_of_responseHeaderBlob(), inline answers at size_of_restResponseFixed(),
// and packets no longer than the largest immediate packet (docs/reference/chif-abi.md §3.4).
// Sizes are chosen so that a mix-up between any two of them shows (every one differs).
import type { ChifLibrary, ChifSizes } from '../../src/binding/index.js';

export const OPS = ['immediate', 'blobDesc', 'create', 'write', 'finalize', 'info', 'read', 'delete', 'security'] as const;
export type Op = (typeof OPS)[number];

/** What one exchange is made to do instead of answering normally. */
export interface Fault {
  /** The library's return code, without an answer (the request is not executed). */
  rc?: number;
  /** This blob-store status in the answer, the operation not done (2: another local user). */
  status?: number;
  /** The operation is done, but the answer that comes back is the one of an earlier packet. */
  wrongSequence?: boolean;
  /** A read fragment that reports 0 bytes read. */
  zeroRead?: boolean;
  /** The exchange does not return until release() (then it answers normally). */
  hang?: boolean;
  /** Changes the answer once it is made (a field the iLO got wrong). */
  edit?: (answer: Buffer) => void;
}

export interface ExchangeRecord {
  handle: number;
  op: Op;
  /** The fault applied, if any. */
  fault?: Fault;
  /** Sent on a channel already closed. */
  afterClose: boolean;
}

/** One HTTP request as the REST side got it; `body` holds its bytes one character each (latin1). */
export interface HttpCall {
  method: string;
  path: string;
  body: string;
}

/** The REST side: one HTTP/1.1 request in, one answer out (default 200, application/json). */
export type HttpHandler = (request: HttpCall) => { status?: number; headers?: Record<string, string>; body: string | Buffer };

const EINVAL = 22;
const EBADF = 9;
const TEMPLATE = 48;
const AT = { length: 0, sequence: 2, op: 4, a: 8, b: 12, key1: 16, key2: 26, namespace: 36 } as const;

export const FAKE_SIZES: ChifSizes = {
  maxBuffer: 1024,
  maxWrite: 300,
  maxRead: 200,
  createRequest: TEMPLATE,
  infoRequest: TEMPLATE,
  readRequest: 44,
  writeRequest: 40,
  deleteRequest: TEMPLATE,
  finalizeRequest: TEMPLATE,
  responseHeaderBlob: 20,
  restImmediateRequest: 52,
  restBlobRequest: TEMPLATE,
  restResponseFixed: 24,
  securityStateRequest: TEMPLATE,
};

/** Echoes the request: `{"method":…,"path":…,"body":…}` with status 200. */
export const ECHO: HttpHandler = (request) => ({ body: JSON.stringify(request) });

export class FakeChifLibrary implements ChifLibrary {
  readonly path = '/fake/libilorestchif.so';
  readonly sizes: ChifSizes = { ...FAKE_SIZES };
  readonly appAccount = null;
  readonly appAccountMissing: readonly string[] = ['GetSessionID'];
  readonly appAccountManagement = {
    missing: ['GenerateAppToken', 'DeleteAppToken', 'DeleteAppTokenUsingCreds', 'CompareAppIds'],
    generateAppToken: () => Promise.reject(new Error('fake')),
    deleteAppToken: () => Promise.reject(new Error('fake')),
    deleteAppTokenUsingCreds: () => Promise.reject(new Error('fake')),
    compareAppIds: () => Promise.reject(new Error('fake')),
  };

  /** Every exchange, in order. */
  readonly exchanges: ExchangeRecord[] = [];
  /** Every HTTP request the REST side executed. */
  readonly executed: HttpCall[] = [];
  readonly created: number[] = [];
  readonly closed: number[] = [];
  readonly recvTimeouts: number[] = [];
  /** Packets the fake refused as malformed (over the size limits): a correct client sends none. */
  readonly refused: string[] = [];
  /** The blob store: key → bytes (finalized or not). */
  readonly blobs = new Map<string, Buffer>();
  securityRequired = 0;
  securityStateValue = 3;
  handler: HttpHandler;

  #sequence = 0xfff8; // wraps past 0xffff within a few packets: the echo check must not care
  #nextHandle = 1;
  #faults: { op: Op; fault: Fault; left: number }[] = [];
  #lastAnswer: Buffer | undefined;
  #hung: (() => void)[] = [];
  #holds = new Set<string>();

  constructor(handler: HttpHandler = ECHO) {
    this.handler = handler;
  }

  /** The next `times` exchanges of `op` get `fault` (Infinity: all of them). */
  fault(op: Op, fault: Fault, times = 1): void {
    this.#faults.push({ op, fault, left: times });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /** The next REST exchange of a request to `path` hangs until release(). */
  hold(path: string): void {
    this.#holds.add(path);
  }

  /** Lets every hung exchange answer. */
  release(): void {
    for (const go of this.#hung.splice(0)) go();
  }

  get hung(): number {
    return this.#hung.length;
  }

  ops(op?: Op): ExchangeRecord[] {
    return op ? this.exchanges.filter((e) => e.op === op) : this.exchanges;
  }

  // ---- channel functions ----
  initialize(): void {}
  isSecurityRequired(): Promise<number> {
    return Promise.resolve(this.securityRequired);
  }
  disableSecurity(): void {}
  initiateCredentials(): void {}
  verifyCredentials(): Promise<number> {
    return Promise.resolve(0);
  }
  create(): Promise<{ rc: number; handle: number }> {
    return Promise.resolve(this.createSync());
  }
  createSync(): { rc: number; handle: number } {
    const handle = this.#nextHandle++;
    this.created.push(handle);
    return { rc: 0, handle };
  }
  ping(): Promise<number> {
    return Promise.resolve(0);
  }
  setRecvTimeout(_handle: unknown, ms: number): void {
    this.recvTimeouts.push(ms);
  }
  close(handle: unknown): Promise<number> {
    this.closed.push(handle as number);
    return Promise.resolve(0);
  }

  exchange(handle: unknown, packet: Buffer): Promise<{ rc: number; response: Buffer }> {
    const { record, answer } = this.#begin(handle as number, packet);
    if (record.fault?.hang) return new Promise((resolve) => this.#hung.push(() => resolve(answer())));
    return Promise.resolve(answer());
  }

  exchangeSync(handle: unknown, packet: Buffer): { rc: number; response: Buffer } {
    return this.#begin(handle as number, packet).answer();
  }

  // ---- builders ----
  restImmediate(length: number, responseKey: string): Buffer {
    return this.#packet('immediate', this.sizes.restImmediateRequest, length, 0, '', responseKey);
  }
  restBlobDesc(requestKey: string, responseKey: string): Buffer {
    return this.#packet('blobDesc', this.sizes.restBlobRequest, 0, 0, requestKey, responseKey);
  }
  createBlob(key: string): Buffer {
    return this.#packet('create', this.sizes.createRequest, 0, 0, key);
  }
  writeFragment(offset: number, count: number, key: string): Buffer {
    return this.#packet('write', this.sizes.writeRequest, offset, count, key);
  }
  finalizeBlob(key: string): Buffer {
    return this.#packet('finalize', this.sizes.finalizeRequest, 0, 0, key);
  }
  blobInfo(key: string): Buffer {
    return this.#packet('info', this.sizes.infoRequest, 0, 0, key);
  }
  readFragment(offset: number, count: number, key: string): Buffer {
    return this.#packet('read', this.sizes.readRequest, offset, count, key);
  }
  deleteBlob(key: string): Buffer {
    return this.#packet('delete', this.sizes.deleteRequest, 0, 0, key);
  }
  securityState(): Buffer {
    return this.#packet('security', this.sizes.securityStateRequest, 0, 0);
  }

  /** A template: `payload` bytes are appended by the caller for immediate and write packets. */
  #packet(op: Op, size: number, a: number, b: number, key1 = '', key2 = ''): Buffer {
    const p = Buffer.alloc(size);
    const payload = op === 'immediate' ? a : op === 'write' ? b : 0;
    p.writeUInt16LE(size + payload, AT.length);
    this.#sequence = (this.#sequence + 1) & 0xffff;
    p.writeUInt16LE(this.#sequence, AT.sequence);
    p.writeUInt16LE(OPS.indexOf(op) + 1, AT.op);
    p.writeUInt32LE(a, AT.a);
    p.writeUInt32LE(b, AT.b);
    p.write(key1, AT.key1, 10, 'latin1');
    p.write(key2, AT.key2, 10, 'latin1');
    p.write('volatile', AT.namespace, 10, 'latin1');
    return p;
  }

  /** Records the exchange and picks its fault now; the answer is computed when it returns. */
  #begin(handle: number, packet: Buffer): { record: ExchangeRecord; answer: () => { rc: number; response: Buffer } } {
    const op = OPS[packet.readUInt16LE(AT.op) - 1] as Op;
    const slot = this.#faults.find((f) => f.op === op && f.left > 0);
    if (slot) slot.left--;
    const held = this.#holds.delete(this.#restPath(op, packet) ?? '');
    const fault = held ? { ...slot?.fault, hang: true } : slot?.fault;
    const record: ExchangeRecord = { handle, op, afterClose: this.closed.includes(handle), ...(fault ? { fault } : {}) };
    this.exchanges.push(record);
    const answer = () => {
      if (record.afterClose) return { rc: EBADF, response: Buffer.alloc(0) };
      const fault = record.fault ?? {};
      if (fault.rc !== undefined) return { rc: fault.rc, response: Buffer.alloc(0) };
      const largest = 2 * this.sizes.restImmediateRequest + this.sizes.maxWrite - 1;
      if (packet.length !== packet.readUInt16LE(AT.length) || packet.length > largest) {
        this.refused.push(`${op}: ${packet.length} bytes`);
        return { rc: EINVAL, response: Buffer.alloc(0) };
      }
      const response = Buffer.alloc(this.sizes.maxBuffer);
      response.writeUInt16LE(packet.readUInt16LE(AT.sequence), AT.sequence);
      response.writeUInt16LE(packet.readUInt16LE(AT.op) | 0x8000, AT.op);
      if (fault.status !== undefined) response.writeUInt32LE(fault.status, 8);
      else this.#serve(op, packet, response, fault);
      if (fault.wrongSequence) {
        const stale = this.#lastAnswer ?? Buffer.from(response);
        if (!this.#lastAnswer) stale.writeUInt16LE((packet.readUInt16LE(AT.sequence) + 1) & 0xffff, AT.sequence);
        return { rc: 0, response: Buffer.from(stale) };
      }
      fault.edit?.(response);
      this.#lastAnswer = Buffer.from(response);
      return { rc: 0, response };
    };
    return { record, answer };
  }

  /** The path of the request a REST packet carries (inline or in its request blob). */
  #restPath(op: Op, packet: Buffer): string | undefined {
    let http: Buffer | undefined;
    if (op === 'immediate') http = packet.subarray(this.sizes.restImmediateRequest);
    if (op === 'blobDesc') http = this.blobs.get(packet.toString('latin1', AT.key1, AT.key1 + 10).replace(/\0+$/, ''));
    return http?.toString('latin1', 0, 2000).split('\r\n')[0]?.split(' ')[1];
  }

  #serve(op: Op, packet: Buffer, out: Buffer, fault: Fault): void {
    const key = (at: number) => packet.toString('latin1', at, at + 10).replace(/\0+$/, '');
    const a = packet.readUInt32LE(AT.a);
    const b = packet.readUInt32LE(AT.b);
    const value = this.sizes.responseHeaderBlob;
    const status = (s: number): void => {
      out.writeUInt32LE(s, 8);
    };
    switch (op) {
      case 'immediate':
        return this.#rest(packet.subarray(this.sizes.restImmediateRequest, this.sizes.restImmediateRequest + a), key(AT.key2), out);
      case 'blobDesc': {
        const request = this.blobs.get(key(AT.key1));
        if (!request) return status(12);
        return this.#rest(request, key(AT.key2), out);
      }
      case 'create':
        this.blobs.set(key(AT.key1), Buffer.alloc(0));
        return status(0);
      case 'write': {
        const blob = this.blobs.get(key(AT.key1));
        if (!blob) return status(12);
        if (b > this.sizes.maxWrite - this.sizes.writeRequest) {
          this.refused.push(`write of ${b} bytes`);
          return status(EINVAL);
        }
        const data = packet.subarray(this.sizes.writeRequest, this.sizes.writeRequest + b);
        const grown = Buffer.alloc(Math.max(blob.length, a + b));
        blob.copy(grown);
        data.copy(grown, a);
        this.blobs.set(key(AT.key1), grown);
        return status(0);
      }
      case 'finalize':
        return status(this.blobs.has(key(AT.key1)) ? 0 : 12);
      case 'info': {
        const blob = this.blobs.get(key(AT.key1));
        if (!blob) return status(12);
        status(0);
        out.writeUInt32LE(blob.length, value);
        return;
      }
      case 'read': {
        const blob = this.blobs.get(key(AT.key1));
        if (b > this.sizes.maxRead - this.sizes.readRequest) this.refused.push(`read of ${b} bytes`);
        if (!blob || fault.zeroRead || b > this.sizes.maxRead - this.sizes.readRequest) return;
        const data = blob.subarray(a, a + b);
        out.writeUInt32LE(data.length, value);
        data.copy(out, value + 4);
        return;
      }
      case 'delete':
        this.blobs.delete(key(AT.key1));
        return status(0); // a missing blob is deleted too (docs/reference/chif-abi.md §3.6)
      case 'security':
        out.writeUInt8(this.securityStateValue, 72);
        return;
    }
  }

  /** Runs the HTTP request; the answer goes inline when it fits, else into the response blob. */
  #rest(request: Buffer, responseKey: string, out: Buffer): void {
    const text = request.toString('latin1');
    const split = text.indexOf('\r\n\r\n');
    const [method = '', path = ''] = text.slice(0, text.indexOf('\r\n')).split(' ');
    const call = { method, path, body: text.slice(split + 4) };
    this.executed.push(call);
    const { status = 200, headers = { 'Content-Type': 'application/json' }, body } = this.handler(call);
    const head = Object.entries({ ...headers, 'Content-Length': String(Buffer.byteLength(body)) }).map(([name, value]) => `${name}: ${value}\r\n`);
    const http = Buffer.concat([Buffer.from(`HTTP/1.1 ${status} X\r\n${head.join('')}\r\n`), Buffer.from(body)]);
    const fixed = this.sizes.restResponseFixed;
    if (fixed + http.length <= out.length) {
      out.writeUInt32LE(0, 12);
      out.writeUInt32LE(http.length, 16);
      http.copy(out, fixed);
    } else {
      this.blobs.set(responseKey, http);
      out.writeUInt32LE(1, 12);
    }
  }
}
