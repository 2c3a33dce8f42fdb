// The HTTP/1.1 bytes carried inside CHIF REST packets: a small request parser and a response
// writer, the simulator's own (it shares no code with the client side). Over CHIF there is one
// request per packet and no connection to keep, so the parser takes a whole request at once.
// Accepted as HPE's clients send them (docs/reference/chif-abi.md §3.3): `Host:` with an empty value,
// `Accept-Encoding: gzip` (responses are never compressed anyway), bare `\n` line ends,
// `Content-Length` or chunked bodies, and a gzip PUT body without `Content-Encoding` (docs/reference/chif-abi.md §3.3).
import { STATUS_CODES } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { CHUNK_BYTES } from './limits.js';
import type { SimResponse } from './redfish-service.js';

/** The header section may not be longer. */
export const MAX_HEADER_BYTES = 64 * 1024;

export interface ParsedHttpRequest {
  method: string;
  target: string;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

export type HttpParseResult = { ok: true; request: ParsedHttpRequest } | { ok: false; status: 400 | 413; reason: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\s]+) HTTP\/1\.[01]$/;

const bad = (reason: string): HttpParseResult => ({ ok: false, status: 400, reason });

/** Parses one whole HTTP/1.x request; bytes after its body are ignored. */
export function parseHttpRequest(bytes: Buffer, maxBody: number): HttpParseResult {
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  let headEnd: number;
  let bodyStart: number;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) {
    headEnd = crlf;
    bodyStart = crlf + 4;
  } else if (lf >= 0) {
    headEnd = lf;
    bodyStart = lf + 2;
  } else {
    return bad(bytes.length > MAX_HEADER_BYTES ? 'header section too long' : 'no end of the header section');
  }
  if (headEnd > MAX_HEADER_BYTES) return bad('header section too long');

  const lines = bytes.subarray(0, headEnd).toString('latin1').split(/\r?\n/);
  const requestLine = REQUEST_LINE.exec(lines[0] ?? '');
  if (!requestLine?.[1] || !requestLine[2]) return bad('malformed request line');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line)) return bad('obsolete header line folding');
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) return bad('malformed header line');
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) return bad('control character in a header value');
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }

  const rest = bytes.subarray(bodyStart);
  let body: Buffer;
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  if (te !== undefined) {
    if (cl !== undefined) return bad('both Transfer-Encoding and Content-Length');
    if (te.toLowerCase() !== 'chunked') return bad(`unsupported Transfer-Encoding ${te}`);
    const chunked = dechunk(rest, maxBody);
    if (!Buffer.isBuffer(chunked)) return chunked;
    body = chunked;
    delete headers['transfer-encoding'];
  } else if (cl !== undefined) {
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const [only] = values;
    if (values.size !== 1 || only === undefined || !/^\d{1,15}$/.test(only)) return bad('malformed Content-Length');
    const length = Number(only);
    if (length > maxBody) return { ok: false, status: 413, reason: `body of ${length} bytes is over ${maxBody}` };
    if (rest.length < length) return bad(`body shorter than its Content-Length (${rest.length} < ${length})`);
    body = Buffer.from(rest.subarray(0, length));
  } else {
    body = Buffer.alloc(0);
  }

  const encoding = headers['content-encoding']?.toLowerCase();
  const type = headers['content-type']?.toLowerCase() ?? '';
  // HPE's client gzips a PUT body without saying so when the preflight GET was gzipped; only a
  // JSON (or untyped) body is sniffed, so an uploaded .gz file stays as it is.
  const sniffed = encoding === undefined && body.length > 2 && body[0] === 0x1f && body[1] === 0x8b && (type === '' || type.includes('json'));
  if (encoding === 'gzip' || sniffed) {
    try {
      body = gunzipSync(body, { maxOutputLength: maxBody });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return { ok: false, status: 413, reason: `decompressed body is over ${maxBody} bytes` };
      return bad('body is not valid gzip');
    }
    delete headers['content-encoding'];
    headers['content-length'] = String(body.length);
  } else if (encoding !== undefined && encoding !== 'identity') {
    return bad(`unsupported Content-Encoding ${encoding}`);
  }
  return { ok: true, request: { method: requestLine[1], target: requestLine[2], headers, body } };
}

function dechunk(bytes: Buffer, maxBody: number): Buffer | HttpParseResult {
  const parts: Buffer[] = [];
  let size = 0;
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf('\n', at);
    if (eol < 0) return bad('truncated chunk size line');
    const sizeLine = bytes.subarray(at, eol).toString('latin1').replace(/\r$/, '').split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeLine)) return bad('malformed chunk size');
    const n = parseInt(sizeLine, 16);
    at = eol + 1;
    if (n === 0) return Buffer.concat(parts, size); // trailers, if any, are ignored
    size += n;
    if (size > maxBody) return { ok: false, status: 413, reason: `chunked body is over ${maxBody} bytes` };
    if (at + n > bytes.length) return bad('truncated chunk');
    parts.push(bytes.subarray(at, at + n));
    at += n;
    if (bytes[at] === 0x0d) at++;
    if (bytes[at] !== 0x0a) return bad('chunk not followed by a line end');
    at++;
  }
}

/**
 * `HTTP/1.1 <status> <reason>`, the response's headers, then the body: chunked (default, as
 * iLO 5 and later answer) or after a `Content-Length` equal to its bytes. An empty body, a HEAD
 * answer's included, always says `Content-Length: 0` (over CHIF a reader has nothing else to go
 * by). With `truncate`, only the first half of the framed body follows (the `truncate` fault).
 */
export function serializeHttpResponse(response: SimResponse, options: { truncate?: boolean; contentLength?: boolean } = {}): Buffer {
  const reason = STATUS_CODES[response.status] ?? 'Unknown';
  const lines = [`HTTP/1.1 ${response.status} ${reason}`];
  for (const [name, value] of Object.entries(response.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'content-encoding' || lower === 'connection') continue;
    lines.push(`${name}: ${String(value).replace(/[\r\n]+/g, ' ')}`);
  }
  const chunked = !options.contentLength && response.body.length > 0;
  lines.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${response.body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const body = chunked ? chunk(response.body) : response.body;
  return Buffer.concat([head, options.truncate ? body.subarray(0, Math.floor(body.length / 2)) : body]);
}

/** A body in chunked transfer coding: chunks of {@link CHUNK_BYTES}, then the last chunk. */
export function chunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += CHUNK_BYTES) {
    const piece = body.subarray(at, at + CHUNK_BYTES);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}
