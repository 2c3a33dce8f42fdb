// The CHIF transport's HTTP/1.1 parser and serializer at their edges: each refusal with its exact
// message (it names what was wrong), each limit at and one past its value, and the answers that
// are accepted although they look odd. The fuzzed round trips are in http1.test.ts.
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { parseResponse, serializeRequest } from '../../src/transport/chif/http1.js';
import { MAX_RESPONSE_BODY, MAX_RESPONSE_HEAD } from '../../src/transport/limits.js';

const bytes = (text: string, body: Buffer | string = ''): Buffer => Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from(body)]);
const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
const headers = (n: number): string => Array.from({ length: n }, (_, i) => `H${i}: v\r\n`).join('');
const trailers = (n: number): string => Array.from({ length: n }, (_, i) => `T${i}: v\r\n`).join('');
/** A header block (status line and one header) exactly `length` bytes long, before its blank line. */
const headOf = (length: number): string => {
  const start = 'HTTP/1.1 200 OK\r\nA: ';
  return start + 'x'.repeat(length - start.length);
};

function refusal(data: Buffer, method?: string): ProtocolError {
  try {
    parseResponse(data, method);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('parsed');
}

describe('parseResponse: each refusal names what was wrong', () => {
  it.each([
    ['no blank line', bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n'), 'no end of headers'],
    ['a blank line first', bytes('\r\n\r\n'), 'bad status line ""'],
    ['no blank line within the header limit', bytes(headOf(MAX_RESPONSE_HEAD)), 'no end of headers'],
    ['no blank line, more than the header limit', bytes(headOf(MAX_RESPONSE_HEAD + 1)), 'header block too large'],
    ['a header block one byte over the limit', bytes(`${headOf(MAX_RESPONSE_HEAD + 1)}\r\n\r\n`), 'header block too large'],
    ['text before the status line', bytes('XHTTP/1.1 200 OK\r\n\r\n'), 'bad status line "XHTTP/1.1 200 OK"'],
    ['a control character after the reason', bytes('HTTP/1.1 200 OK\x01\r\n\r\n'), 'bad status line "HTTP/1.1 200 OK\\u0001"'],
    ['a long bad status line (quoted to 80 characters)', bytes(`${'Y'.repeat(100)}\r\n\r\n`), `bad status line "${'Y'.repeat(80)}"`],
    ['a status under 100', bytes('HTTP/1.1 099 X\r\n\r\n'), 'bad status 99'],
    ['101 headers', bytes(`HTTP/1.1 200 OK\r\n${headers(101)}\r\n`), 'too many headers'],
    ['a header line starting with its colon', bytes('HTTP/1.1 200 OK\r\n: x\r\n\r\n'), 'bad header line ": x"'],
    ['a long header line without colon (quoted to 80)', bytes(`HTTP/1.1 200 OK\r\n${'L'.repeat(100)}\r\n\r\n`), `bad header line "${'L'.repeat(80)}"`],
    ['a long header name with a space (quoted to 80)', bytes(`HTTP/1.1 200 OK\r\n${'B'.repeat(90)} x: v\r\n\r\n`), `bad header name "${'B'.repeat(80)}"`],
    ['a control character in a value', bytes('HTTP/1.1 200 OK\r\nA: b\x01c\r\n\r\n'), 'bad value in header A'],
    ['a transfer coding other than chunked', bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'), 'unsupported Transfer-Encoding gzip'],
    ['both lengths', bytes('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), 'both Transfer-Encoding and Content-Length'],
    ['one good length of two', bytes('HTTP/1.1 200 OK\r\nContent-Length: 1, x\r\n\r\na'), 'bad Content-Length'],
    ['a length after a letter', bytes('HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\na'), 'bad Content-Length'],
    ['a length before a letter', bytes('HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\na'), 'bad Content-Length'],
    ['a length over the body limit', bytes(`HTTP/1.1 200 OK\r\nContent-Length: ${MAX_RESPONSE_BODY + 1}\r\n\r\n`), 'body too large'],
    ['a length of exactly the limit, body missing', bytes(`HTTP/1.1 200 OK\r\nContent-Length: ${MAX_RESPONSE_BODY}\r\n\r\n`), `body shorter than its Content-Length (0 < ${MAX_RESPONSE_BODY})`],
    ['bytes after the body', bytes('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nabc'), 'bytes after the body'],
    ['a chunk size line without its end', bytes(`${CHUNKED}4`), 'chunk size line not terminated'],
    ['an empty chunk size line', bytes(`${CHUNKED}\r\n`), 'bad chunk size'],
    ['a chunk size after a letter', bytes(`${CHUNKED}x4\r\nWiki\r\n0\r\n\r\n`), 'bad chunk size'],
    ['a chunk size before a letter', bytes(`${CHUNKED}4x\r\nWiki\r\n0\r\n\r\n`), 'bad chunk size'],
    ['a chunk over the body limit', bytes(`${CHUNKED}ffffffff\r\n`), 'body too large'],
    ['a chunk of exactly the limit, missing', bytes(`${CHUNKED}${MAX_RESPONSE_BODY.toString(16)}\r\n`), 'chunk shorter than its size'],
    ['a chunk shorter than its size', bytes(`${CHUNKED}4\r\nWik`), 'chunk shorter than its size'],
    ['a chunk without its CRLF', bytes(`${CHUNKED}4\r\nWiki`), 'chunk shorter than its size'],
    ['a chunk and its CRLF, then nothing', bytes(`${CHUNKED}4\r\nWiki\r\n`), 'chunk size line not terminated'],
    ['a chunk followed by CR and another byte', bytes(`${CHUNKED}4\r\nWiki\rX0\r\n\r\n`), 'chunk not followed by CRLF'],
    ['a chunk followed by another byte and LF', bytes(`${CHUNKED}4\r\nWikiX\n0\r\n\r\n`), 'chunk not followed by CRLF'],
    ['101 trailers', bytes(`${CHUNKED}0\r\n${trailers(101)}\r\n`), 'too many trailers'],
    ['trailers without their end', bytes(`${CHUNKED}0\r\nT: v`), 'trailers not terminated'],
    ['bytes after the chunked body', bytes(`${CHUNKED}0\r\n\r\nXYZ`), 'bytes after the chunked body'],
    ['a gzip body that is not gzip', bytes('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc'), 'the gzip body cannot be decoded'],
    ['an unknown content coding', bytes('HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc'), 'unsupported Content-Encoding br'],
  ])('%s', (_name, data, message) => {
    const error = refusal(data);
    expect(error.message).toBe(`malformed HTTP answer over CHIF: ${message}`);
    if (message.includes('cannot be decoded')) expect(error.cause).toBeInstanceOf(Error);
  });

  it('a body without length over the limit is refused; one of exactly the limit is taken', () => {
    const head = Buffer.from('HTTP/1.1 200 OK\r\n\r\n');
    expect(refusal(Buffer.concat([head, Buffer.alloc(MAX_RESPONSE_BODY + 1)])).message).toBe('malformed HTTP answer over CHIF: body too large');
    expect(parseResponse(Buffer.concat([head, Buffer.alloc(MAX_RESPONSE_BODY)])).body.byteLength).toBe(MAX_RESPONSE_BODY);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ] as const)('a %s body that would decode past the body limit is refused', (name, encode) => {
    const packed = encode(Buffer.alloc(MAX_RESPONSE_BODY + 1));
    const error = refusal(bytes(`HTTP/1.1 200 OK\r\nContent-Encoding: ${name}\r\nContent-Length: ${packed.length}\r\n\r\n`, packed));
    expect(error.message).toBe(`malformed HTTP answer over CHIF: the ${name} body cannot be decoded`);
  });
});

describe('parseResponse: what is accepted', () => {
  const body = (r: { body: Uint8Array }): string => Buffer.from(r.body).toString('latin1');

  it('a header block of exactly the limit', () => {
    expect(parseResponse(bytes(`${headOf(MAX_RESPONSE_HEAD)}\r\n\r\n`)).headers.a).toHaveLength(MAX_RESPONSE_HEAD - 'HTTP/1.1 200 OK\r\nA: '.length);
  });

  it('a status line without reason phrase, status 100, and 100 headers', () => {
    expect(parseResponse(bytes('HTTP/1.1 200\r\n\r\n')).status).toBe(200);
    expect(parseResponse(bytes('HTTP/1.1 100 Continue\r\n\r\n')).status).toBe(100);
    expect(Object.keys(parseResponse(bytes(`HTTP/1.1 200 OK\r\n${headers(100)}\r\n`)).headers)).toHaveLength(100);
  });

  it('values trimmed of outer blanks only; a repeated header joined with ", "', () => {
    const r = parseResponse(bytes('HTTP/1.1 200 OK\r\nA: \t b  c \t \r\nR: 1\r\nR: 2\r\n\r\n'));
    expect(r.headers).toEqual({ a: 'b  c', r: '1, 2' });
  });

  it('no body for 304 and 1xx answers, whatever follows', () => {
    expect(parseResponse(bytes('HTTP/1.1 304 Not Modified\r\n\r\nabc')).body.byteLength).toBe(0);
    expect(parseResponse(bytes('HTTP/1.1 101 Switching\r\n\r\nabc')).body.byteLength).toBe(0);
  });

  it('"Chunked" in any case; chunk sizes with blanks before an extension; 100 trailers', () => {
    expect(body(parseResponse(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n4 ;x\r\nWiki\r\n0\r\n\r\n')))).toBe('Wiki');
    expect(body(parseResponse(bytes(`${CHUNKED}0\r\n${trailers(100)}\r\n`)))).toBe('');
  });

  it('the same length twice', () => {
    expect(body(parseResponse(bytes('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na')))).toBe('a');
  });

  it('x-gzip, deflate and identity bodies', () => {
    const text = '{"ok":true}';
    const withCoding = (name: string, packed: Buffer) => body(parseResponse(bytes(`HTTP/1.1 200 OK\r\nContent-Encoding: ${name}\r\nContent-Length: ${packed.length}\r\n\r\n`, packed)));
    expect(withCoding('x-gzip', gzipSync(text))).toBe(text);
    expect(withCoding('deflate', deflateSync(text))).toBe(text);
    expect(withCoding('identity', Buffer.from(text))).toBe(text);
  });
});

describe('serializeRequest: edges', () => {
  it('refusals name what was wrong', () => {
    expect(() => serializeRequest({ method: 'GET', path: '/', headers: { 'A\r': 'x' } })).toThrow(/^a request header contains a line break$/);
    expect(() => serializeRequest({ method: 'GET', path: '/', headers: { 'A B': 'x' } })).toThrow(/^a request header name is not an HTTP token: "A B"$/);
  });

  it('a GET without token and body: no token line, no body headers', () => {
    expect(serializeRequest({ method: 'GET', path: '/' }).toString('latin1')).toBe(
      'GET / HTTP/1.1\r\nHost: \r\nAccept-Encoding: gzip\r\nOData-Version: 4.0\r\nAccept: */*\r\nConnection: Keep-Alive\r\n\r\n',
    );
  });

  it('the caller\'s Content-Type is sent (any case); without one, application/json; a GET with a body gets its length', () => {
    expect(serializeRequest({ method: 'POST', path: '/', headers: { 'CONTENT-TYPE': 'text/plain' }, body: Buffer.from('x') }).toString()).toContain('\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx');
    expect(serializeRequest({ method: 'POST', path: '/' }).toString()).toContain('\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n');
    expect(serializeRequest({ method: 'GET', path: '/', body: Buffer.from('ab') }).toString()).toContain('\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\nab');
  });

  it('header values go out one byte a character (latin1), with and without a body', () => {
    const head = serializeRequest({ method: 'GET', path: '/', headers: { 'X-Name': 'caf\xe9' } });
    expect(head.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d]))).toBe(true);
    const post = serializeRequest({ method: 'POST', path: '/', headers: { 'X-Name': 'caf\xe9' }, body: Buffer.from('x') });
    expect(post.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d]))).toBe(true);
  });
});
