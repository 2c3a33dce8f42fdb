// HTTP/1.1 as it crosses the CHIF channel: the request bytes HPE's own client writes (see
// docs/reference/chif-abi.md §3.3), and a strict parser for the answer. The parser works on
// one complete buffer, so it cannot hang; anything malformed is a ProtocolError, never a crash.
import { gunzipSync, inflateSync } from 'node:zlib';
import { InvalidInputError, ProtocolError } from '../../errors.js';
import { MAX_RESPONSE_BODY as MAX_BODY_BYTES, MAX_RESPONSE_HEAD as MAX_HEAD_BYTES } from '../limits.js';
import { SENDABLE_PATH, type TransportRequest, type TransportResponse } from '../transport.js';

const MAX_HEADERS = 100;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// eslint-disable-next-line no-control-regex
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers whose place and value the serializer sets itself (lower-cased): a caller's copy is dropped. */
const PLACED = new Set(['host', 'accept-encoding', 'x-auth-token', 'odata-version', 'accept', 'connection', 'content-type', 'content-length', 'transfer-encoding']);
const BODY_METHODS = new Set(['POST', 'PATCH', 'PUT']);
// eslint-disable-next-line no-control-regex
const LINE_BREAK = /[\r\n\0]/;

/** The request in the header order HPE's client uses on real iLOs. */
export function serializeRequest(request: TransportRequest): Buffer {
  const path = request.path.replace(/\/{2,}/g, '/');
  if (!SENDABLE_PATH.test(path)) throw new ProtocolError(`cannot send the path ${JSON.stringify(path)}: only printable ASCII goes on the wire (%-encode the rest)`);
  // One pass over the caller's headers: the ones placed below by name (any case), the rest kept in order.
  let token: string | undefined;
  let contentType: string | undefined;
  let others = '';
  const given = request.headers;
  for (const name in given) {
    const value = given[name] as string;
    if (LINE_BREAK.test(name) || LINE_BREAK.test(value)) throw new InvalidInputError('a request header contains a line break');
    if (!TOKEN.test(name)) throw new InvalidInputError(`a request header name is not an HTTP token: ${JSON.stringify(name)}`);
    const lower = name.toLowerCase();
    if (lower === 'x-auth-token') token = value;
    else if (lower === 'content-type') contentType = value;
    else if (!PLACED.has(lower)) others += `${name}: ${value}\r\n`;
  }
  let head = `${request.method} ${path} HTTP/1.1\r\nHost: \r\nAccept-Encoding: gzip\r\n`;
  if (token) head += `X-Auth-Token: ${token}\r\n`;
  head += `OData-Version: 4.0\r\nAccept: */*\r\nConnection: Keep-Alive\r\n${others}`;
  const body = request.body;
  if (body !== undefined || BODY_METHODS.has(request.method)) {
    head += `Content-Type: ${contentType ?? 'application/json'}\r\nContent-Length: ${body?.byteLength ?? 0}\r\n`;
  }
  head += '\r\n';
  if (!body || body.byteLength === 0) return Buffer.from(head, 'latin1');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

function fail(message: string): never {
  throw new ProtocolError(`malformed HTTP answer over CHIF: ${message}`);
}

/**
 * Parses one complete HTTP/1.x response. `method` tells whether a body may follow (HEAD: none).
 * Header names come back lower-cased; repeated headers are joined with ", ".
 */
export function parseResponse(bytes: Uint8Array, method = 'GET'): TransportResponse {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) fail(data.length > MAX_HEAD_BYTES ? 'header block too large' : 'no end of headers');
  if (headEnd > MAX_HEAD_BYTES) fail('header block too large');
  const lines = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?$/.exec(lines[0] ?? '');
  if (!statusLine) fail(`bad status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const status = Number(statusLine[1]);
  if (status < 100) fail(`bad status ${status}`);
  if (lines.length - 1 > MAX_HEADERS) fail('too many headers');

  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) fail(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name)) fail(`bad header name ${JSON.stringify(name.slice(0, 80))}`);
    if (!FIELD_VALUE.test(value)) fail(`bad value in header ${name}`);
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }

  const rest = data.subarray(headEnd + 4);
  const noBody = method === 'HEAD' || status === 204 || status === 304 || status < 200;
  let body: Buffer;
  const transferEncoding = headers['transfer-encoding'];
  if (noBody) {
    body = Buffer.alloc(0);
  } else if (transferEncoding !== undefined) {
    if (transferEncoding.toLowerCase() !== 'chunked') fail(`unsupported Transfer-Encoding ${transferEncoding}`);
    if (headers['content-length'] !== undefined) fail('both Transfer-Encoding and Content-Length');
    body = dechunk(rest);
  } else if (headers['content-length'] !== undefined) {
    const values = headers['content-length'].split(',').map((v) => v.trim());
    if (!values.every((v) => /^\d{1,15}$/.test(v)) || new Set(values).size !== 1) fail('bad Content-Length');
    const length = Number(values[0]);
    if (length > MAX_BODY_BYTES) fail('body too large');
    if (rest.length < length) fail(`body shorter than its Content-Length (${rest.length} < ${length})`);
    if (rest.length > length) fail('bytes after the body');
    body = rest.subarray(0, length);
  } else {
    if (rest.length > MAX_BODY_BYTES) fail('body too large');
    body = rest;
  }
  return { status, headers, body: decode(body, headers['content-encoding']) };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) fail('chunk size line not terminated');
    const sizeText = data.subarray(at, lineEnd).toString('latin1').split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) fail('bad chunk size');
    const size = parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) break;
    total += size;
    if (total > MAX_BODY_BYTES) fail('body too large');
    if (at + size + 2 > data.length) fail('chunk shorter than its size');
    parts.push(data.subarray(at, at + size));
    if (data[at + size] !== 0x0d || data[at + size + 1] !== 0x0a) fail('chunk not followed by CRLF');
    at += size + 2;
  }
  // Trailers (ignored), then the final CRLF.
  for (let trailers = 0; ; trailers++) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) fail('trailers not terminated');
    if (lineEnd === at) {
      at += 2;
      break;
    }
    if (trailers >= MAX_HEADERS) fail('too many trailers');
    at = lineEnd + 2;
  }
  if (at !== data.length) fail('bytes after the chunked body');
  return Buffer.concat(parts);
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === undefined || body.length === 0) return body;
  const name = encoding.trim().toLowerCase();
  try {
    if (name === 'gzip' || name === 'x-gzip') return gunzipSync(body, { maxOutputLength: MAX_BODY_BYTES });
    if (name === 'deflate') return inflateSync(body, { maxOutputLength: MAX_BODY_BYTES });
  } catch (error) {
    throw new ProtocolError(`malformed HTTP answer over CHIF: the ${name} body cannot be decoded`, { cause: error });
  }
  if (name === 'identity') return body;
  return fail(`unsupported Content-Encoding ${encoding}`);
}
