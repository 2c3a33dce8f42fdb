// The CHIF channel logic of the simulator, without sockets: one frame in, one answer out. Here
// frames meet iLO's side of CHIF: the security state, the blob store, and REST packets carrying
// HTTP/1.1 bytes to the same RedfishService the HTTPS front uses. The listeners are in
// chif-endpoint.ts, the layouts in chif-wire.ts, the fault knobs in chif-faults.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { BLOB_BADPARAMETER, BLOB_NAMESPACE, BLOB_NOTFOUND, BLOB_SUCCESS, BlobStore } from './chif-blobstore.js';
import { ChifFaultKnobs } from './chif-faults.js';
import { parseHttpRequest, serializeHttpResponse } from './chif-http.js';
import {
  BLOB_HEADER, CHIF_OPS, COMMANDS, FIELD, field, keyIn, MAX_BUFFER, MEDIA_FIRST, MEDIA_LAST, MEDIA_RESPONSE, RC_ACCESS_DENIED, RC_BAD_FRAME,
  RC_NO_DRIVER, RC_OK, RC_SECURITY_REQUIRED, readCounted, respond, respondRead, REST_FIXED, restStatus, SECURITY_STATE_RESPONSE, SERVICE_BLOBSTORE, statusOnly, u32, type ChifCommandName, type ChifOpName, type PacketHeader,
} from './chif-wire.js';
import type { AppEndpoint } from './app-endpoint.js';
import type { FaultController } from './faults.js';
import { MAX_REQUEST_BODY } from './limits.js';
import type { RedfishService, SimRequest, SimResponse } from './redfish-service.js';

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
