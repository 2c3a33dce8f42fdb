// The blob-store protocol of one REST request over CHIF (docs/reference/chif-abi.md §3): inline
// or through a request blob, the answer inline or read from a response blob, blobs deleted after.
// Packets come from the library's builders and every size from its size functions, at run time;
// the fixed answer offsets HPE's clients read are named in AT (docs/reference/chif-abi.md §3.1).
// The channel, its retries and the request's deadline belong to chif-transport.ts, reached
// through PacketLink.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ChifLibrary, ChifSizes } from '../../binding/index.js';
import { ChifError, ProtocolError } from '../../errors.js';
import { MAX_RESPONSE_BODY, MAX_RESPONSE_HEAD } from '../limits.js';

/** HPE's clients always use this namespace (docs/reference/chif-abi.md §3.4). */
const NAMESPACE = 'volatile';

/** Blob-store status, `u32 @8` of every answer (docs/reference/chif-abi.md §4.1). */
const BLOB = { SUCCESS: 0, BADPARAMETER: 2, NOTFOUND: 12, NOTMODIFIED: 20 } as const;

/** Fixed offsets of the fields clients read (docs/reference/chif-abi.md §3.1); the rest are library sizes. */
export const AT = {
  /** `u16`: the packet's sequence number, echoed by the answer. */
  sequence: 2,
  /** `u32`: the blob-store status of any answer. */
  status: 8,
  /** `u32`: where a REST answer is (RECV_MODE). */
  recvMode: 12,
  /** `u32`: length of an inline REST answer, which starts at size_of_restResponseFixed(). */
  inlineLength: 16,
  /** `u8`: the security state in the answer to get_security_state (docs/reference/chif-abi.md §5.3). */
  securityState: 72,
} as const;

/** `u32 @12` of a REST answer: the HTTP answer follows inline, or waits in the response blob. */
const RECV_MODE = { INLINE: 0, BLOB: 1 } as const;

/** Passes over a response blob before "kept answering empty fragments" (HPE's 6.3: 3 restarts). */
const READ_PASSES = 4;

/** The largest response blob read: a whole HTTP answer, head and body, as HTTPS would take it. */
const MAX_RESPONSE_BLOB = MAX_RESPONSE_HEAD + MAX_RESPONSE_BODY;

const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

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

/** What the protocol needs from the channel below it, for one request. */
export interface PacketLink {
  readonly lib: ChifLibrary;
  /** One packet exchange with the channel's checks; `resendable` false: never sent twice. */
  exchange(packet: Buffer, resendable?: boolean): Promise<Buffer>;
  /** When the request's time runs out (epoch ms): waiting out a busy blob store stops there. */
  readonly deadline: number;
  readonly log?: Logger | undefined;
}

const statusOf = (answer: Buffer): number => answer.readUInt32LE(AT.status);
export const sequenceOf = (packet: Buffer): number => packet.readUInt16LE(AT.sequence);

/** HPE's rule (docs/reference/chif-abi.md §3.4): below this many HTTP bytes the request goes in one packet. */
export function fitsInline(sizes: ChifSizes, length: number): boolean {
  return length < sizes.restImmediateRequest + sizes.maxWrite;
}

/** The one-packet form of a request: the library's template, then the HTTP bytes. */
export function immediatePacket(lib: ChifLibrary, bytes: Buffer, responseKey: string): Buffer {
  return Buffer.concat([lib.restImmediate(bytes.length, responseKey, NAMESPACE), bytes]);
}

/**
 * The HTTP answer carried inline in a REST answer, or undefined when it waits in the response
 * blob (docs/reference/chif-abi.md §3.5). `blobMode`: the request went through a request blob
 * (status 20 is then refused).
 */
export function inlineAnswer(answer: Buffer, sizes: ChifSizes, blobMode: boolean): Buffer | undefined {
  const status = statusOf(answer);
  const recvMode = answer.readUInt32LE(AT.recvMode);
  if (status === BLOB.NOTFOUND) throw new ChifError('the iLO lost the request blob (status 12)', status);
  if (recvMode === RECV_MODE.BLOB) return undefined;
  if (recvMode !== RECV_MODE.INLINE) throw new ChifError(`the iLO answered with an unknown receive mode ${recvMode}`);
  if (status !== BLOB.SUCCESS && !(status === BLOB.NOTMODIFIED && !blobMode)) throw new ChifError(`the iLO answered the request with blob status ${status}`, status);
  const length = answer.readUInt32LE(AT.inlineLength);
  const start = sizes.restResponseFixed;
  if (start + length > answer.length) throw new ChifError(`the iLO's inline answer claims ${length} bytes, more than a packet holds`);
  return Buffer.from(answer.subarray(start, start + length));
}

/** One REST request's HTTP bytes in, the HTTP answer's bytes out; blobs it made are deleted. */
export async function restRequest(link: PacketLink, bytes: Buffer, resendable: boolean): Promise<Buffer> {
  const { lib } = link;
  const responseKey = blobKey();
  let packet: Buffer;
  let requestKey: string | undefined;
  if (fitsInline(lib.sizes, bytes.length)) {
    packet = immediatePacket(lib, bytes, responseKey);
  } else {
    requestKey = blobKey();
    await writeBlob(link, requestKey, bytes);
    packet = lib.restBlobDesc(requestKey, responseKey, NAMESPACE);
  }
  const answer = await link.exchange(packet, resendable);
  let http = inlineAnswer(answer, lib.sizes, requestKey !== undefined);
  if (!http) {
    try {
      http = await readBlob(link, responseKey);
    } finally {
      // Read, refused or cut short: the answer does not stay in the iLO's blob store.
      await deleteBlob(link, responseKey).catch(() => undefined);
    }
  }
  if (requestKey) await deleteBlob(link, requestKey).catch(() => undefined);
  return http;
}

async function writeBlob(link: PacketLink, key: string, bytes: Buffer): Promise<void> {
  const { lib } = link;
  expectBlob(await link.exchange(lib.createBlob(key, NAMESPACE)), 'create');
  const chunk = lib.sizes.maxWrite - lib.sizes.writeRequest;
  for (let offset = 0; offset < bytes.length; offset += chunk) {
    const part = bytes.subarray(offset, offset + chunk);
    const packet = Buffer.concat([lib.writeFragment(offset, part.length, key, NAMESPACE), part]);
    expectBlob(await link.exchange(packet), 'write');
  }
  expectBlob(await link.exchange(lib.finalizeBlob(key, NAMESPACE)), 'finalize');
}

async function readBlob(link: PacketLink, key: string): Promise<Buffer> {
  const { lib } = link;
  const sizes = lib.sizes;
  // get_info and read_fragment answers carry their value at size_of_responseHeaderBlob()
  // (docs/reference/chif-abi.md §3.1).
  const value = sizes.responseHeaderBlob;
  for (let pass = 0; pass < READ_PASSES; pass++) {
    const info = await retryBusy(link, () => link.exchange(lib.blobInfo(key, NAMESPACE)));
    const infoStatus = statusOf(info);
    if (infoStatus === BLOB.NOTFOUND) throw new ChifError('the iLO lost the response blob (status 12)', infoStatus);
    if (infoStatus !== BLOB.SUCCESS && infoStatus !== BLOB.NOTMODIFIED) throw new ChifError(`reading the answer's size failed with blob status ${infoStatus}`, infoStatus);
    const total = info.readUInt32LE(value);
    // Checked before a byte is read; the loop below never reads past `total`.
    if (total > MAX_RESPONSE_BLOB) {
      throw new ProtocolError(`the iLO announced a ${total}-byte answer over CHIF, more than the ${MAX_RESPONSE_BLOB} a Redfish answer may take; not read`);
    }
    const parts: Buffer[] = [];
    let read = 0;
    let stalled = false;
    while (read < total) {
      const count = Math.min(sizes.maxRead - sizes.readRequest, total - read);
      const answer = await link.exchange(lib.readFragment(read, count, key, NAMESPACE));
      // Only bytes-read counts (docs/reference/chif-abi.md §3.1): 0 means the read failed. Data follow.
      const got = answer.readUInt32LE(value);
      const data = value + 4;
      if (got === 0 || got > count || data + got > answer.length) {
        stalled = true;
        break;
      }
      parts.push(Buffer.from(answer.subarray(data, data + got)));
      read += got;
    }
    if (!stalled) return Buffer.concat(parts);
    link.log?.debug({ pass }, 'a read fragment came back empty; reading the answer again');
  }
  throw new ChifError('the iLO kept answering empty fragments while its answer was read');
}

async function deleteBlob(link: PacketLink, key: string): Promise<void> {
  const answer = await retryBusy(link, () => link.exchange(link.lib.deleteBlob(key, NAMESPACE)));
  const status = statusOf(answer);
  if (status !== BLOB.SUCCESS && status !== BLOB.NOTMODIFIED && status !== BLOB.NOTFOUND) {
    link.log?.warn({ status }, 'deleting a response blob failed');
  }
}

/** Blob status 2 means another local user holds the blob store: back off and retry (docs/reference/chif-abi.md §3.7). */
async function retryBusy(link: PacketLink, send: () => Promise<Buffer>): Promise<Buffer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await send();
    if (statusOf(answer) !== BLOB.BADPARAMETER) return answer;
    const pause = Math.min(250 + 100 * attempt, 1500);
    if (Date.now() + pause > link.deadline) throw new ChifError('another local client keeps the iLO\'s blob store busy (status 2); try again', BLOB.BADPARAMETER);
    await sleep(pause);
  }
}

function expectBlob(answer: Buffer, what: string): void {
  const status = statusOf(answer);
  if (status !== BLOB.SUCCESS && status !== BLOB.NOTMODIFIED) throw new ChifError(`blob ${what} failed with status ${status}`, status);
}
