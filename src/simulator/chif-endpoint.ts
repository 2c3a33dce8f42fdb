// The simulator's CHIF endpoint: the far side of the CHIF emulator library
// (native-bindings/emulator/). The emulator exports HPE's libilorestchif ABI and forwards each
// call over a Unix socket (or loopback TCP opened by a secret), one frame per connection, as
// native-bindings/PROTOCOL.md lays out; here those frames meet iLO's side of CHIF: the security
// state, the blob store, and REST packets carrying HTTP/1.1 bytes to the same RedfishService the
// HTTPS front uses.
//
// Frames, both ways: u32 length (LE, of what follows), u8 op, payload. The answer echoes the op.
// A frame that cannot be read answers rc 5 (EIO) and never takes the simulator down.
import { lstatSync, unlinkSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors.js';
import { BLOB_BADPARAMETER, BLOB_NAMESPACE, BLOB_NOTFOUND, BLOB_SUCCESS, BlobStore } from './chif-blobstore.js';
import { parseHttpRequest, serializeHttpResponse } from './chif-http.js';
import type { AppEndpoint } from './app-endpoint.js';
import type { FaultController } from './faults.js';
import { MAX_REQUEST_BODY } from './https-front.js';
import type { RedfishService, SimRequest, SimResponse } from './redfish-service.js';

// ---- protocol constants (PROTOCOL.md) --------------------------------------------------------

export const CHIF_OPS = { ping: 1, create: 2, security: 3, verify: 4, exchange: 5, close: 6 } as const;
export type ChifOpName = keyof typeof CHIF_OPS;

const COMMANDS = {
  create: 0x0101,
  info: 0x0102,
  read: 0x0103,
  write: 0x0104,
  finalize: 0x0105,
  delete: 0x0106,
  list: 0x0107,
  restImmediate: 0x0110,
  restBlob: 0x0111,
  securityState: 0x0120,
} as const;
export type ChifCommandName = keyof typeof COMMANDS | 'media' | 'unknown';
const MEDIA_FIRST = 0x0130;
const MEDIA_LAST = 0x013f;
const SERVICE_BLOBSTORE = 0x0002;
const RESPONSE_BIT = 0x8000;

/** get_max_buffer_size(): one hpilo packet slot. */
export const MAX_BUFFER = 4096;
/** size_of_restResponseFixed(): inline HTTP bytes start here. */
const REST_FIXED = 32;
/** size_of_responseHeaderBlob(): blob size / bytes read here, data 4 bytes later. */
const BLOB_HEADER = 24;
const SECURITY_STATE_RESPONSE = 76;
const MEDIA_RESPONSE = 16;
const STATUS_ONLY = 12;
const FIELD = 32;

/** Channel status codes (Linux values, docs/reference/chif-abi.md §4.2). */
const RC_OK = 0;
const RC_BAD_FRAME = 5; // EIO
const RC_SECURITY_REQUIRED = 8;
const RC_ACCESS_DENIED = 13;
const RC_NO_DRIVER = 19;

/** A frame may not be longer (the largest legal one, VERIFY or EXCHANGE, is about 128 KiB). */
export const MAX_FRAME = 256 * 1024;
/** A connection that has not sent its whole frame by then is cut. */
const FRAME_TIMEOUT_MS = 30_000;

/**
 * `UserIP` of in-band sessions. **Choice**: public material shows none for "Rest Host"
 * sessions; an all-zero address says "no network peer" and still parses as an IP.
 */
export const INBAND_ADDRESS = '0.0.0.0';

// ---- security states (docs/reference/chif-abi.md §5) --------------------------------------------------------

export const SECURITY_STATES = ['production', 'highsecurity', 'fips'] as const;
export type SecurityState = (typeof SECURITY_STATES)[number];
/** The get_security_state byte @72 (docs/reference/chif-abi.md §5.3). */
const STATE_BYTE: Readonly<Record<SecurityState, number>> = { production: 3, highsecurity: 4, fips: 5 };

// ---- fault knobs ------------------------------------------------------------------------------

/**
 * CHIF-level faults, each reproducing a documented client branch (docs/reference/chif-abi.md §9.3).
 * Set through `startSimulator({ chifFaults })`, `sim.chif.setFaults()` or `PUT /__sim/chif-faults`.
 * Setting merges: a knob left out stays as it is, a knob set to null is cleared.
 */
export interface ChifFaults {
  /** ChifPing's rc for every PING until cleared: 19 no driver, 13 not root, 8 secure mode, 32 (python-ilorest-library#67). */
  ping?: number | null;
  /** ChifCreate's rc for every CREATE until cleared (any non-zero: "Error N … create a channel"). */
  create?: number | null;
  /** ChifIsSecurityRequired's answer until cleared, instead of the state's (e.g. -1: the query failed; 1: required). */
  securityRequired?: number | null;
  /** ChifVerifyCredentials' rc until cleared, whatever the credentials (e.g. 95: in-band verification unsupported; 13). */
  verify?: number | null;
  /** ChifPacketExchange's rc (e.g. 8 or 5) for the next `times` exchanges (default 1; 0 = every one). A number is `{ rc }`. */
  exchange?: { rc: number; times?: number } | number | null;
  /** Blob status (2 "another user", 12 not found, or any) answered by the next `times` get_info/delete (default 1; 0 = all). A number is `{ status }`. */
  blobStatus?: { status: number; times?: number } | number | null;
  /**
   * One-shot: the next exchange is done but answered with the previous exchange's answer (another
   * packet's sequence number and data; a persistent one loops HPE's client forever, docs/reference/chif-abi.md §3.7).
   */
  sequenceMismatch?: boolean | null;
  /** The next N read_fragment answers report 0 bytes read (the client restarts the read, then gives up). */
  zeroRead?: number | null;
  /** CLOSE answers after this delay (HPE's ChifClose costs about 1 s). */
  closeDelayMs?: number | null;
  /** The get_security_state byte @72 instead of the state's (1 Factory crashes HPE's 6.3 client, docs/reference/chif-abi.md §5.3; 6 SuiteB). */
  securityStateByte?: number | null;
  /** Every get_info announces this blob size until cleared (e.g. 4294967280), and reads past a blob's end get filler: a hostile iLO's endless answer. */
  announceBlobSize?: number | null;
}

/** The knobs in force, as the state view shows them (`times: 0` = every one). */
export interface ChifFaultsView {
  ping?: number;
  create?: number;
  securityRequired?: number;
  verify?: number;
  exchange?: { rc: number; times: number };
  blobStatus?: { status: number; times: number };
  sequenceMismatch?: true;
  zeroRead?: number;
  closeDelayMs?: number;
  securityStateByte?: number;
  announceBlobSize?: number;
}

const U32_MAX = 0xffffffff;
const KNOBS = ['ping', 'create', 'securityRequired', 'verify', 'exchange', 'blobStatus', 'sequenceMismatch', 'zeroRead', 'closeDelayMs', 'securityStateByte', 'announceBlobSize'];

function whole(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`CHIF fault ${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
  return value;
}

function counted(name: string, value: unknown, field: 'rc' | 'status'): { value: number; times: number } {
  if (typeof value === 'number') return { value: whole(name, value, 0, U32_MAX), times: 1 };
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError(`CHIF fault ${name} must be a number or { ${field}, times }`);
  const unknown = Object.keys(value).filter((k) => k !== field && k !== 'times');
  if (unknown.length > 0) throw new InvalidInputError(`unknown field(s) in CHIF fault ${name}: ${unknown.join(', ')}`);
  const record = value as Record<string, unknown>;
  return { value: whole(`${name}.${field}`, record[field], 0, U32_MAX), times: whole(`${name}.times`, record.times ?? 1, 0, U32_MAX) };
}

export class ChifFaultKnobs {
  #v: ChifFaultsView = {};
  #exchangeLeft = 0; // Infinity for times 0
  #blobLeft = 0;

  /** Validates everything first, then applies: a bad knob changes nothing. */
  set(input: ChifFaults): ChifFaultsView {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw new InvalidInputError('CHIF faults must be an object');
    const unknown = Object.keys(input).filter((k) => !KNOBS.includes(k));
    if (unknown.length > 0) throw new InvalidInputError(`unknown CHIF fault(s): ${unknown.join(', ')}; known: ${KNOBS.join(', ')}`);
    const next: ChifFaultsView = { ...this.#v };
    let exchangeLeft = this.#exchangeLeft;
    let blobLeft = this.#blobLeft;
    const simple = ['ping', 'create', 'verify'] as const;
    for (const key of simple) {
      const value = input[key];
      if (value === null) delete next[key];
      else if (value !== undefined) next[key] = whole(key, value, 0, U32_MAX);
    }
    if (input.securityRequired === null) delete next.securityRequired;
    else if (input.securityRequired !== undefined) next.securityRequired = whole('securityRequired', input.securityRequired, -0x80000000, 0x7fffffff);
    if (input.securityStateByte === null) delete next.securityStateByte;
    else if (input.securityStateByte !== undefined) next.securityStateByte = whole('securityStateByte', input.securityStateByte, 0, 255);
    if (input.announceBlobSize === null) delete next.announceBlobSize;
    else if (input.announceBlobSize !== undefined) next.announceBlobSize = whole('announceBlobSize', input.announceBlobSize, 0, U32_MAX);
    if (input.closeDelayMs === null) delete next.closeDelayMs;
    else if (input.closeDelayMs !== undefined) next.closeDelayMs = whole('closeDelayMs', input.closeDelayMs, 0, 600_000);
    if (input.zeroRead === null || input.zeroRead === 0) delete next.zeroRead;
    else if (input.zeroRead !== undefined) next.zeroRead = whole('zeroRead', input.zeroRead, 0, U32_MAX);
    if (input.sequenceMismatch === null || input.sequenceMismatch === false) delete next.sequenceMismatch;
    else if (input.sequenceMismatch === true) next.sequenceMismatch = true;
    else if (input.sequenceMismatch !== undefined) throw new InvalidInputError('CHIF fault sequenceMismatch must be true, false or null');
    if (input.exchange === null) {
      delete next.exchange;
    } else if (input.exchange !== undefined) {
      const { value, times } = counted('exchange', input.exchange, 'rc');
      next.exchange = { rc: value, times };
      exchangeLeft = times === 0 ? Infinity : times;
    }
    if (input.blobStatus === null) {
      delete next.blobStatus;
    } else if (input.blobStatus !== undefined) {
      const { value, times } = counted('blobStatus', input.blobStatus, 'status');
      next.blobStatus = { status: value, times };
      blobLeft = times === 0 ? Infinity : times;
    }
    this.#v = next;
    this.#exchangeLeft = exchangeLeft;
    this.#blobLeft = blobLeft;
    return this.view();
  }

  clear(): void {
    this.#v = {};
    this.#exchangeLeft = 0;
    this.#blobLeft = 0;
  }

  view(): ChifFaultsView {
    const view: ChifFaultsView = { ...this.#v };
    if (view.exchange) view.exchange = { rc: view.exchange.rc, times: this.#exchangeLeft === Infinity ? 0 : this.#exchangeLeft };
    if (view.blobStatus) view.blobStatus = { status: view.blobStatus.status, times: this.#blobLeft === Infinity ? 0 : this.#blobLeft };
    return view;
  }

  get ping(): number | undefined {
    return this.#v.ping;
  }
  get create(): number | undefined {
    return this.#v.create;
  }
  get securityRequired(): number | undefined {
    return this.#v.securityRequired;
  }
  get verify(): number | undefined {
    return this.#v.verify;
  }
  get closeDelayMs(): number {
    return this.#v.closeDelayMs ?? 0;
  }
  get securityStateByte(): number | undefined {
    return this.#v.securityStateByte;
  }
  get announceBlobSize(): number | undefined {
    return this.#v.announceBlobSize;
  }

  takeExchange(): number | undefined {
    const armed = this.#v.exchange;
    if (!armed) return undefined;
    if (--this.#exchangeLeft <= 0) delete this.#v.exchange;
    return armed.rc;
  }

  takeBlobStatus(): number | undefined {
    const armed = this.#v.blobStatus;
    if (!armed) return undefined;
    if (--this.#blobLeft <= 0) delete this.#v.blobStatus;
    return armed.status;
  }

  takeZeroRead(): boolean {
    if (!this.#v.zeroRead) return false;
    if (--this.#v.zeroRead <= 0) delete this.#v.zeroRead;
    return true;
  }

  takeSequenceMismatch(): boolean {
    if (!this.#v.sequenceMismatch) return false;
    delete this.#v.sequenceMismatch;
    return true;
  }
}

// ---- counters -----------------------------------------------------------------------------

export interface ChifCounters {
  /** Frames received, by op; `bad`: frames that could not be read (answered rc 5). */
  frames: Record<ChifOpName | 'bad', number>;
  /** Exchanges that reached the blob store / Redfish service, by packet command. */
  commands: Record<ChifCommandName, number>;
  /** Exchanges refused with rc 8 by the security state. */
  refused: number;
  /** Exchanges answered by the `exchange` fault instead. */
  faulted: number;
}

function newCounters(): ChifCounters {
  return {
    frames: { ping: 0, create: 0, security: 0, verify: 0, exchange: 0, close: 0, bad: 0 },
    commands: { create: 0, info: 0, read: 0, write: 0, finalize: 0, delete: 0, list: 0, restImmediate: 0, restBlob: 0, securityState: 0, media: 0, unknown: 0 },
    refused: 0,
    faulted: 0,
  };
}

// ---- the channel logic (no sockets) ----------------------------------------------------------

export interface ChifCoreOptions {
  service: RedfishService;
  users: ReadonlyMap<string, string>;
  securityState: SecurityState;
  /** The HPE-wide request faults (hang, drop, truncate act on the socket's answer). */
  faults: FaultController;
  /** The HTTPS origin, for absolute Locations. */
  origin(): string;
  log: Logger;
  blobs?: BlobStore;
  /** The app-account ops (16 and up) of the same socket, answered by another module. */
  app?: AppEndpoint;
  /** False on iLO 7, which has no CHIF: PING and CREATE answer 19 (no driver), SECURITY -1. Default true. */
  chifPresent?: boolean;
  /** Answers framed with Content-Length instead of chunked transfer coding. */
  contentLength?: boolean;
}

interface PacketHeader {
  seq: number;
  command: number;
  service: number;
}

/** Thrown to cut the connection without an answer (the `drop` fault, a request held at close). */
class Drop extends Error {}

export class ChifCore {
  readonly counters = newCounters();
  readonly knobs = new ChifFaultKnobs();
  readonly blobs: BlobStore;
  readonly securityState: SecurityState;
  readonly #o: ChifCoreOptions;
  /** True while an iLO reset keeps the service away. */
  resetting = false;
  /** The last answer given, for the sequence-mismatch fault (a stale answer of another packet). */
  #lastAnswer: Buffer | undefined;

  constructor(options: ChifCoreOptions) {
    this.#o = options;
    this.securityState = options.securityState;
    this.blobs = options.blobs ?? new BlobStore();
  }

  /**
   * One frame's answer payload (after the op byte), or undefined to cut the connection with no
   * answer. `frame` is the op byte and its payload.
   */
  async answer(frame: Buffer, signal: AbortSignal): Promise<Buffer | undefined> {
    const op = frame[0] ?? 0;
    const payload = frame.subarray(1);
    const absent = this.#o.chifPresent === false;
    try {
      if (this.#o.app?.handles(op)) return await this.#o.app.answer(op, payload, signal);
      switch (op) {
        case CHIF_OPS.ping:
          this.counters.frames.ping++;
          return u32(this.knobs.ping ?? (absent ? RC_NO_DRIVER : RC_OK));
        case CHIF_OPS.create:
          this.counters.frames.create++;
          return u32(this.knobs.create ?? (absent ? RC_NO_DRIVER : RC_OK));
        case CHIF_OPS.security: {
          this.counters.frames.security++;
          const required = this.knobs.securityRequired ?? (absent ? -1 : this.securityState === 'production' ? 0 : 1);
          const out = Buffer.alloc(4);
          out.writeInt32LE(required);
          return out;
        }
        case CHIF_OPS.verify:
          this.counters.frames.verify++;
          return u32(this.#verify(payload));
        case CHIF_OPS.exchange:
          this.counters.frames.exchange++;
          return await this.#exchange(payload, signal);
        case CHIF_OPS.close:
          this.counters.frames.close++;
          if (this.knobs.closeDelayMs > 0) await sleep(this.knobs.closeDelayMs, undefined, { signal });
          return u32(RC_OK);
        default:
          this.counters.frames.bad++;
          this.#o.log.warn({ op }, 'CHIF frame with an unknown op');
          return u32(RC_BAD_FRAME);
      }
    } catch (error) {
      if (error instanceof Drop || signal.aborted) return undefined;
      this.#o.log.error({ err: error, op }, 'CHIF frame failed');
      return u32(RC_BAD_FRAME);
    }
  }

  /** `u16 n, user, u16 n, password` → 0, or 13 for credentials that match no user. */
  #verify(payload: Buffer): number {
    const user = readCounted(payload, 0);
    const password = user ? readCounted(payload, user.next) : undefined;
    if (!user || !password) {
      this.counters.frames.bad++;
      return RC_BAD_FRAME;
    }
    if (this.knobs.verify !== undefined) return this.knobs.verify;
    const expected = this.#o.users.get(user.text);
    return expected !== undefined && expected === password.text ? RC_OK : RC_ACCESS_DENIED;
  }

  /** `u8 auth, u16 n, user, u32 recvSize, packet` → `u32 rc` and, when rc is 0, the response packet. */
  async #exchange(payload: Buffer, signal: AbortSignal): Promise<Buffer> {
    const auth = payload[0];
    const user = readCounted(payload, 1);
    if (auth === undefined || auth > 2 || !user || payload.length < user.next + 4 + 8) {
      this.counters.frames.bad++;
      return u32(RC_BAD_FRAME);
    }
    const recvSize = payload.readUInt32LE(user.next);
    const at = user.next + 4;
    const length = payload.readUInt16LE(at);
    if (length < 8 || at + length > payload.length) {
      this.counters.frames.bad++;
      return u32(RC_BAD_FRAME);
    }
    const packet = payload.subarray(at, at + length);
    const header: PacketHeader = { seq: packet.readUInt16LE(2), command: packet.readUInt16LE(4), service: packet.readUInt16LE(6) };

    // An iLO reset in progress: the driver flags every channel and read/write fail with ENODEV
    // (chif-abi.md, the hpilo driver) until the iLO is back.
    if (this.resetting) return u32(RC_NO_DRIVER);
    const faultRc = this.knobs.takeExchange();
    if (faultRc !== undefined) {
      this.counters.faulted++;
      return u32(faultRc);
    }
    // The security state (PROTOCOL.md; docs/reference/chif-abi.md §5.1): no credentials and
    // security not disabled, or security disabled outside Production, answer 8 — except the
    // security-state request, which a client sends precisely when it has no credentials.
    const verifiedUser = auth === 2 ? user.text : undefined;
    if (header.command !== COMMANDS.securityState) {
      const allowed = auth === 2 ? this.#o.users.has(user.text) : auth === 1 && this.securityState === 'production';
      if (!allowed) {
        this.counters.refused++;
        return u32(RC_SECURITY_REQUIRED);
      }
    }

    let response = await this.#packet(packet, header, recvSize, verifiedUser ?? null, signal);
    const answered = response;
    if (this.knobs.takeSequenceMismatch()) {
      // The packet was done, but the answer that comes back is an earlier packet's (wrong data, as
      // a mixed-up answer would carry): only the echoed sequence number tells the client.
      response = Buffer.from(this.#lastAnswer ?? response);
      if (response.readUInt16LE(2) === header.seq) response.writeUInt16LE(header.seq === 0xffff ? 1 : header.seq + 1, 2);
    }
    this.#lastAnswer = answered;
    return Buffer.concat([u32(RC_OK), response.subarray(0, recvSize)]);
  }

  async #packet(packet: Buffer, h: PacketHeader, recvSize: number, channelUser: string | null, signal: AbortSignal): Promise<Buffer> {
    const { blobs, knobs } = this;
    const count = (name: ChifCommandName) => this.counters.commands[name]++;
    if (h.service !== SERVICE_BLOBSTORE) {
      count('unknown');
      return statusOnly(h, BLOB_BADPARAMETER);
    }
    switch (h.command) {
      case COMMANDS.create: {
        count('create');
        const key = keyIn(packet, 8, 40);
        return statusOnly(h, typeof key === 'number' ? key : blobs.create(key));
      }
      case COMMANDS.info: {
        count('info');
        const key = keyIn(packet, 8, 40);
        const out = respond(h, BLOB_HEADER + 4);
        const forced = typeof key === 'number' ? undefined : knobs.takeBlobStatus();
        if (typeof key === 'number' || forced !== undefined) {
          out.writeUInt32LE(typeof key === 'number' ? key : (forced as number), 8);
          return out;
        }
        const info = blobs.info(key);
        out.writeUInt32LE(info.status, 8);
        out.writeUInt32LE(info.status === BLOB_SUCCESS ? (knobs.announceBlobSize ?? info.size) : info.size, BLOB_HEADER);
        return out;
      }
      case COMMANDS.read: {
        count('read');
        const key = packet.length >= 80 ? keyIn(packet, 8, 40) : BLOB_BADPARAMETER;
        // A failed read is signalled by 0 bytes read: HPE's client never reads the status (docs/reference/chif-abi.md §3.1).
        if (typeof key === 'number') return respondRead(h, key, Buffer.alloc(0));
        const offset = packet.readUInt32LE(72);
        const wanted = packet.readUInt32LE(76);
        if (knobs.takeZeroRead()) return respondRead(h, BLOB_SUCCESS, Buffer.alloc(0));
        const room = Math.max(0, Math.min(MAX_BUFFER, recvSize) - BLOB_HEADER - 4);
        const asked = Math.min(wanted, room);
        const read = blobs.read(key, offset, asked);
        if (knobs.announceBlobSize !== undefined && read.status === BLOB_SUCCESS && read.data.length < asked) {
          return respondRead(h, read.status, Buffer.concat([read.data, Buffer.alloc(asked - read.data.length, 0x20)]));
        }
        return respondRead(h, read.status, read.data);
      }
      case COMMANDS.write: {
        count('write');
        const key = packet.length >= 100 ? keyIn(packet, 8, 40) : BLOB_BADPARAMETER;
        if (typeof key === 'number') return statusOnly(h, key);
        const offset = packet.readUInt32LE(72);
        const bytes = packet.readUInt32LE(76);
        if (100 + bytes > packet.length) return statusOnly(h, BLOB_BADPARAMETER);
        return statusOnly(h, blobs.write(key, offset, packet.subarray(100, 100 + bytes)));
      }
      case COMMANDS.finalize: {
        count('finalize');
        const key = keyIn(packet, 8, 40);
        return statusOnly(h, typeof key === 'number' ? key : blobs.finalize(key));
      }
      case COMMANDS.delete: {
        count('delete');
        const key = keyIn(packet, 8, 40);
        if (typeof key === 'number') return statusOnly(h, key);
        return statusOnly(h, knobs.takeBlobStatus() ?? blobs.delete(key));
      }
      case COMMANDS.list: {
        count('list');
        return this.#list(packet, h, recvSize);
      }
      case COMMANDS.restImmediate: {
        count('restImmediate');
        const rspKey = keyIn(packet, 8, 40);
        if (typeof rspKey === 'number') return restStatus(h, rspKey);
        if (packet.length < 80) return restStatus(h, BLOB_BADPARAMETER);
        const length = packet.readUInt32LE(72);
        if (80 + length > packet.length) return restStatus(h, BLOB_BADPARAMETER);
        return this.#rest(h, packet.subarray(80, 80 + length), rspKey, recvSize, channelUser, signal);
      }
      case COMMANDS.restBlob: {
        count('restBlob');
        if (packet.length < 104) return restStatus(h, BLOB_BADPARAMETER);
        const rqtKey = keyIn(packet, 8, 72);
        const rspKey = keyIn(packet, 40, 72);
        if (typeof rqtKey === 'number') return restStatus(h, rqtKey);
        if (typeof rspKey === 'number') return restStatus(h, rspKey);
        if (blobs.info(rqtKey).status === BLOB_NOTFOUND) return restStatus(h, BLOB_NOTFOUND);
        const request = blobs.content(rqtKey);
        if (!request) return restStatus(h, BLOB_BADPARAMETER); // not finalized
        return this.#rest(h, request, rspKey, recvSize, channelUser, signal);
      }
      case COMMANDS.securityState: {
        count('securityState');
        const out = respond(h, SECURITY_STATE_RESPONSE);
        out.writeUInt8(this.knobs.securityStateByte ?? STATE_BYTE[this.securityState], 72);
        return out;
      }
      default:
        if (h.command >= MEDIA_FIRST && h.command <= MEDIA_LAST) {
          // Virtual media: nothing to mount here; the error byte @12 says 0 (done).
          count('media');
          return respond(h, MEDIA_RESPONSE);
        }
        count('unknown');
        return statusOnly(h, BLOB_BADPARAMETER);
    }
  }

  /** **Choice** (the layout is not public): u32 count @12, then 32-byte NUL-padded keys from @16, as many as fit. */
  #list(packet: Buffer, h: PacketHeader, recvSize: number): Buffer {
    if (packet.length < 40 || field(packet, 8) !== BLOB_NAMESPACE) return statusOnly(h, BLOB_BADPARAMETER);
    const keys = this.blobs.keys();
    const fit = Math.max(0, Math.floor((Math.min(MAX_BUFFER, recvSize) - 16) / FIELD));
    const listed = keys.slice(0, fit);
    const out = respond(h, 16 + listed.length * FIELD);
    out.writeUInt32LE(listed.length, 12);
    listed.forEach((key, i) => out.write(key, 16 + i * FIELD, FIELD, 'latin1'));
    return out;
  }

  /** HTTP bytes → RedfishService → HTTP bytes, inline when they fit, else in blob `rspKey`. */
  async #rest(h: PacketHeader, http: Buffer, rspKey: string, recvSize: number, channelUser: string | null, signal: AbortSignal): Promise<Buffer> {
    const { service, faults, log } = this.#o;
    const parsed = parseHttpRequest(http, MAX_REQUEST_BODY);
    let response: SimResponse;
    if (!parsed.ok) {
      log.info({ status: parsed.status, reason: parsed.reason }, 'CHIF REST request refused');
      response = service.errorResponse(parsed.status, 'GeneralError');
    } else {
      const request: SimRequest = {
        ...parsed.request,
        transport: 'chif',
        remoteAddress: INBAND_ADDRESS,
        origin: this.#o.origin(),
        channelUser,
      };
      response = await service.handle(request);
    }
    const { fault } = response;
    if (fault?.type === 'hang') {
      try {
        await faults.hold();
      } catch {
        throw new Drop();
      }
    }
    if (signal.aborted || fault?.type === 'drop') throw new Drop();
    const bytes = serializeHttpResponse(response, { truncate: fault?.type === 'truncate', contentLength: this.#o.contentLength });
    if (REST_FIXED + bytes.length <= Math.min(MAX_BUFFER, recvSize)) {
      const out = respond(h, REST_FIXED + bytes.length);
      out.writeUInt32LE(0, 12);
      out.writeUInt32LE(bytes.length, 16);
      bytes.copy(out, REST_FIXED);
      return out;
    }
    const stored = this.blobs.put(rspKey, bytes);
    if (stored !== BLOB_SUCCESS) return restStatus(h, stored);
    const out = respond(h, REST_FIXED);
    out.writeUInt32LE(1, 12);
    out.writeUInt32LE(0, 16);
    return out;
  }
}

// ---- packet helpers ---------------------------------------------------------------------------

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value >>> 0);
  return out;
}

/** `u16 n` then n bytes of UTF-8, at `at`. */
function readCounted(buf: Buffer, at: number): { text: string; next: number } | undefined {
  if (buf.length < at + 2) return undefined;
  const n = buf.readUInt16LE(at);
  if (buf.length < at + 2 + n) return undefined;
  return { text: buf.toString('utf8', at + 2, at + 2 + n), next: at + 2 + n };
}

/** A NUL-padded 32-byte field (a full field without NUL is a 32-character string). */
function field(packet: Buffer, at: number): string {
  const raw = packet.subarray(at, at + FIELD);
  const nul = raw.indexOf(0);
  return raw.toString('latin1', 0, nul < 0 ? raw.length : nul);
}

/** The key at `keyAt` when the namespace at `nsAt` is `volatile`, else blob status 2. */
function keyIn(packet: Buffer, keyAt: number, nsAt: number): string | number {
  if (packet.length < Math.max(keyAt, nsAt) + FIELD) return BLOB_BADPARAMETER;
  if (field(packet, nsAt) !== BLOB_NAMESPACE) return BLOB_BADPARAMETER;
  const key = field(packet, keyAt);
  return key === '' ? BLOB_BADPARAMETER : key;
}

/** A response packet: the request's header with the response bit, sequence echoed. */
function respond(h: PacketHeader, length: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeUInt16LE(Math.min(length, 0xffff), 0);
  out.writeUInt16LE(h.seq, 2);
  out.writeUInt16LE((h.command | RESPONSE_BIT) & 0xffff, 4);
  out.writeUInt16LE(h.service, 6);
  return out;
}

function statusOnly(h: PacketHeader, status: number): Buffer {
  const out = respond(h, STATUS_ONLY);
  out.writeUInt32LE(status, 8);
  return out;
}

function restStatus(h: PacketHeader, status: number): Buffer {
  const out = respond(h, REST_FIXED);
  out.writeUInt32LE(status, 8);
  return out;
}

function respondRead(h: PacketHeader, status: number, data: Buffer): Buffer {
  const out = respond(h, BLOB_HEADER + 4 + data.length);
  out.writeUInt32LE(status, 8);
  out.writeUInt32LE(data.length, BLOB_HEADER);
  data.copy(out, BLOB_HEADER + 4);
  return out;
}

// ---- the listeners: a Unix socket, or loopback TCP with a secret ------------------------------

export interface ChifEndpoint {
  /** The socket path as given, or the TCP address `127.0.0.1:port`. */
  readonly path: string;
  close(): Promise<void>;
}

/** The op of the frame that opens every TCP connection: the secret (PROTOCOL.md). */
const OP_SECRET = 7;

/**
 * One connection: frames until the answer is sent. With `secret`, the first frame must be
 * OP_SECRET carrying it; otherwise the answer is OP_SECRET with rc 13 and nothing is done.
 */
function serveConnection(socket: Socket, options: { core: ChifCore; log: Logger; signal: AbortSignal; secret?: Buffer }): void {
  const { core, log, signal, secret } = options;
  socket.on('error', (error) => log.debug({ err: error }, 'CHIF connection error'));
  socket.setTimeout(FRAME_TIMEOUT_MS, () => socket.destroy());
  let buffered = Buffer.alloc(0);
  let received = 0;
  let opened = secret === undefined;
  let done = false;

  const reply = (op: number, payload: Buffer | undefined) => {
    if (socket.destroyed) return;
    if (payload === undefined) {
      socket.destroy();
      return;
    }
    const head = Buffer.alloc(5);
    head.writeUInt32LE(1 + payload.length, 0);
    head.writeUInt8(op, 4);
    socket.end(Buffer.concat([head, payload]));
  };
  const refuse = (reason: string, op = 0) => {
    done = true;
    core.counters.frames.bad++;
    log.warn({ reason }, 'bad CHIF frame');
    reply(op, u32(RC_BAD_FRAME));
  };

  socket.on('data', (chunk: Buffer) => {
    if (done) return;
    buffered = Buffer.concat([buffered, chunk]);
    received += chunk.length;
    while (!done && buffered.length >= 4) {
      const wanted = buffered.readUInt32LE(0);
      if (wanted === 0 || wanted > MAX_FRAME) {
        refuse(`frame length ${wanted}`);
        return;
      }
      if (buffered.length < 4 + wanted) return;
      const frame = buffered.subarray(4, 4 + wanted);
      buffered = buffered.subarray(4 + wanted);
      const op = frame[0] ?? 0;
      if (!opened) {
        const given = frame.subarray(1);
        if (op !== OP_SECRET || given.length !== secret?.length || !timingSafeEqual(given, secret)) {
          done = true;
          log.warn('CHIF connection refused: the first frame is not the secret');
          reply(OP_SECRET, u32(RC_ACCESS_DENIED));
          return;
        }
        opened = true;
        continue;
      }
      done = true;
      socket.setTimeout(0);
      core.answer(Buffer.from(frame), signal).then(
        (payload) => reply(op, payload),
        (error: unknown) => {
          log.error({ err: error }, 'CHIF endpoint failed to answer');
          socket.destroy();
        },
      );
    }
  });
  socket.on('end', () => {
    if (done) return;
    if (received === 0) socket.destroy(); // a bare connect (a liveness probe)
    else refuse('connection ended inside a frame');
  });
}

/** A server that tracks its connections, so that close() can end them. */
function frameServer(options: { core: ChifCore; log: Logger; secret?: Buffer }) {
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  // allowHalfOpen: an emulator may shut its writing side down once its frame is sent.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, { ...options, signal: closing.signal });
  });
  const listen = (where: string, at: { path: string } | { port: number; host: string }) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new InvalidInputError(`cannot listen on the CHIF ${where}: ${error.code ?? error.message}`, { cause: error })),
      );
      server.listen(at, () => {
        server.removeAllListeners('error');
        server.on('error', (error) => options.log.error({ err: error }, 'CHIF endpoint error'));
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      closing.abort();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return { server, listen, close };
}

/**
 * Listens on `path`, one frame per connection. A stale socket file is replaced (only a socket,
 * and only when nothing answers on it); the file is removed at close.
 */
export async function startChifEndpoint(options: { path: string; core: ChifCore; log: Logger }): Promise<ChifEndpoint> {
  const { path, core, log } = options;
  checkSocketPath(path);
  await removeStaleSocket(path);
  const frames = frameServer({ core, log });
  await frames.listen(`socket ${path}`, { path });
  let inode: number;
  try {
    inode = lstatSync(path).ino;
  } catch (error) {
    frames.server.close();
    throw new InvalidInputError(`the CHIF socket ${path} is not where it was bound: ${(error as Error).message}`, { cause: error });
  }
  log.info({ path }, 'CHIF endpoint ready');

  let closed: Promise<void> | undefined;
  return {
    path,
    close: () =>
      (closed ??= frames.close().then(() => {
        // Node removes the file itself; make sure, but never remove someone else's file.
        try {
          const stat = lstatSync(path);
          if (stat.isSocket() && stat.ino === inode) unlinkSync(path);
        } catch {
          // already gone
        }
      })),
  };
}

/**
 * Listens on loopback TCP (`port` 0: a free one), for the emulator's Windows build: a Windows
 * process has no Unix socket to rely on. Any local user can connect to a port, so each
 * connection must first send `secret` (PROTOCOL.md, "Loopback TCP").
 */
export async function startChifTcpEndpoint(options: { port: number; secret: string; core: ChifCore; log: Logger }): Promise<ChifEndpoint> {
  const { port, core, log } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError(`the CHIF TCP port must be a whole number from 0 to 65535; got ${port}`);
  if (options.secret === '') throw new InvalidInputError('the CHIF TCP secret must not be empty');
  const frames = frameServer({ core, log, secret: Buffer.from(options.secret) });
  await frames.listen(`TCP port ${port}`, { port, host: '127.0.0.1' });
  const address = `127.0.0.1:${(frames.server.address() as AddressInfo).port}`;
  log.info({ address }, 'CHIF endpoint ready on loopback TCP');
  let closed: Promise<void> | undefined;
  return { path: address, close: () => (closed ??= frames.close()) };
}

/** A Unix socket path must fit sockaddr_un (108 bytes with its NUL on Linux; longer ones are cut silently). */
export function checkSocketPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) throw new InvalidInputError('the CHIF socket path must be a non-empty path');
  if (Buffer.byteLength(path) > 107) throw new InvalidInputError(`the CHIF socket path is ${Buffer.byteLength(path)} bytes; a Unix socket path may have at most 107`);
}

async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InvalidInputError(`cannot check the CHIF socket path ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!isSocket) throw new InvalidInputError(`${path} exists and is not a socket; refusing to replace it`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new InvalidInputError(`the CHIF socket ${path} is in use by a running listener`);
  unlinkSync(path);
}
