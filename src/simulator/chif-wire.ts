// The CHIF wire layouts the simulator answers: the emulator's frame ops and status codes
// (native-bindings/PROTOCOL.md) and the blob-store packets inside EXCHANGE frames
// (docs/reference/chif-abi.md), with the helpers that read and build them.
import { BLOB_BADPARAMETER, BLOB_NAMESPACE } from './chif-blobstore.js';

// ---- protocol constants (PROTOCOL.md) --------------------------------------------------------

export const CHIF_OPS = { ping: 1, create: 2, security: 3, verify: 4, exchange: 5, close: 6 } as const;
export type ChifOpName = keyof typeof CHIF_OPS;

export const COMMANDS = {
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
export const MEDIA_FIRST = 0x0130;
export const MEDIA_LAST = 0x013f;
export const SERVICE_BLOBSTORE = 0x0002;
const RESPONSE_BIT = 0x8000;

/** get_max_buffer_size(): one hpilo packet slot. */
export const MAX_BUFFER = 4096;
/** size_of_restResponseFixed(): inline HTTP bytes start here. */
export const REST_FIXED = 32;
/** size_of_responseHeaderBlob(): blob size / bytes read here, data 4 bytes later. */
export const BLOB_HEADER = 24;
export const SECURITY_STATE_RESPONSE = 76;
export const MEDIA_RESPONSE = 16;
const STATUS_ONLY = 12;
export const FIELD = 32;

/** Channel status codes (Linux values, docs/reference/chif-abi.md §4.2). */
export const RC_OK = 0;
export const RC_BAD_FRAME = 5; // EIO
export const RC_SECURITY_REQUIRED = 8;
export const RC_ACCESS_DENIED = 13;
export const RC_NO_DRIVER = 19;

export interface PacketHeader {
  seq: number;
  command: number;
  service: number;
}

// ---- packet helpers ---------------------------------------------------------------------------

export function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value >>> 0);
  return out;
}

/** `u16 n` then n bytes of UTF-8, at `at`. */
export function readCounted(buf: Buffer, at: number): { text: string; next: number } | undefined {
  if (buf.length < at + 2) return undefined;
  const n = buf.readUInt16LE(at);
  if (buf.length < at + 2 + n) return undefined;
  return { text: buf.toString('utf8', at + 2, at + 2 + n), next: at + 2 + n };
}

/** A NUL-padded 32-byte field (a full field without NUL is a 32-character string). */
export function field(packet: Buffer, at: number): string {
  const raw = packet.subarray(at, at + FIELD);
  const nul = raw.indexOf(0);
  return raw.toString('latin1', 0, nul < 0 ? raw.length : nul);
}

/** The key at `keyAt` when the namespace at `nsAt` is `volatile`, else blob status 2. */
export function keyIn(packet: Buffer, keyAt: number, nsAt: number): string | number {
  if (packet.length < Math.max(keyAt, nsAt) + FIELD) return BLOB_BADPARAMETER;
  if (field(packet, nsAt) !== BLOB_NAMESPACE) return BLOB_BADPARAMETER;
  const key = field(packet, keyAt);
  return key === '' ? BLOB_BADPARAMETER : key;
}

/** A response packet: the request's header with the response bit, sequence echoed. */
export function respond(h: PacketHeader, length: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeUInt16LE(Math.min(length, 0xffff), 0);
  out.writeUInt16LE(h.seq, 2);
  out.writeUInt16LE((h.command | RESPONSE_BIT) & 0xffff, 4);
  out.writeUInt16LE(h.service, 6);
  return out;
}

export function statusOnly(h: PacketHeader, status: number): Buffer {
  const out = respond(h, STATUS_ONLY);
  out.writeUInt32LE(status, 8);
  return out;
}

export function restStatus(h: PacketHeader, status: number): Buffer {
  const out = respond(h, REST_FIXED);
  out.writeUInt32LE(status, 8);
  return out;
}

export function respondRead(h: PacketHeader, status: number, data: Buffer): Buffer {
  const out = respond(h, BLOB_HEADER + 4 + data.length);
  out.writeUInt32LE(status, 8);
  out.writeUInt32LE(data.length, BLOB_HEADER);
  data.copy(out, BLOB_HEADER + 4);
  return out;
}
