// How openHttpsTransport fails: which Node/OpenSSL failure becomes which coded error with which words, the pin
// and name checks, the scrubbing of credentials from a bad address, the response size bound, the deadlines and
// close(). Against small HTTPS/TLS/TCP servers of our own with throwaway certificates, that record what arrives.
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, ConnectError, InvalidInputError, ProtocolError, TimeoutError, TlsError, UsageError } from '../../src/errors.js';
import { makeSelfSignedCertificate } from '../../src/simulator/certificate.js';
import { MAX_RESPONSE_BODY } from '../../src/transport/limits.js';
import { openHttpsTransport, parseIloUrl, parsePin, type HttpsTransportOptions, type Transport } from '../../src/transport/index.js';
import { rejectionOf, thrownBy, until } from '../helpers/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function transport(options: HttpsTransportOptions): Transport {
  const t = openHttpsTransport(options);
  cleanups.unshift(() => t.close());
  return t;
}


const causeCode = (error: Error) => (error.cause as { code?: string } | undefined)?.code;
const hex = (pem: string) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

interface Held {
  req: IncomingMessage;
  res: ServerResponse;
}

/**
 * An HTTPS server: `answer` handles each request (default 200 {}), or returns false to hold it in `held`.
 * Counts connections and records each request line and the peer address.
 */
async function httpsServer(
  options: { cert?: { cert: string; key: string }; answer?: (req: IncomingMessage, res: ServerResponse) => boolean } = {},
) {
  const certificate = options.cert ?? makeSelfSignedCertificate();
  const seen: string[] = [];
  const peers: string[] = [];
  const held: Held[] = [];
  const resumed: boolean[] = [];
  let connections = 0;
  const server = createHttpsServer(certificate, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    peers.push(req.socket.remoteAddress ?? '');
    req.resume();
    req.on('end', () => {
      if (options.answer && !options.answer(req, res)) {
        held.push({ req, res });
        return;
      }
      if (!options.answer) res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '2' }).end('{}');
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    connections++;
    resumed.push(socket.isSessionReused());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}`, port, ca: certificate.cert, seen, peers, held, resumed, connections: () => connections };
}

/** A TLS server that answers requests on each connection with `onData(connection, request index, socket)`. */
async function tlsServer(onData: (connection: number, index: number, socket: TLSSocket) => void) {
  const { cert, key } = makeSelfSignedCertificate();
  let connections = 0;
  const lines: string[] = [];
  const server = createTlsServer({ cert, key }, (socket) => {
    const connection = ++connections;
    let index = 0;
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => {
      const line = data.toString('latin1').split('\r\n')[0] ?? '';
      if (/^[A-Z]+ /.test(line)) lines.push(`${connection}: ${line}`);
      onData(connection, index++, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ca: cert, lines };
}

/** The address of a port nothing listens on any more. */
async function closedPort(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `https://127.0.0.1:${port}`;
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}';

// ---- the address -----------------------------------------------------------------------------

describe('parseIloUrl: the words of each refusal', () => {
  it('an invalid address with credentials is shown with the credentials cut out, scheme and rest kept', () => {
    const withScheme = thrownBy(() => parseIloUrl('https://admin:Secr3t-canary@[bad'));
    expect(withScheme).toBeInstanceOf(UsageError);
    expect(withScheme.message).toBe('not a valid iLO address: "https://…@[bad" (expected https://host[:port])');
    // No scheme: the whole user:password part goes, up to the @.
    const bare = thrownBy(() => parseIloUrl('admin:Secr3t-canary@[bad'));
    expect(bare.message).toBe('not a valid iLO address: "…@[bad" (expected https://host[:port])');
    // Without credentials the address is shown as given.
    expect(thrownBy(() => parseIloUrl('https://[bad')).message).toBe('not a valid iLO address: "https://[bad" (expected https://host[:port])');
  });

  it('http:, another scheme, a user name alone, a path: each its own message', () => {
    expect(thrownBy(() => parseIloUrl('http://ilo.example')).message).toMatch(/^http:\/\/ is refused: the iLO is reached over https:\/\/ only/);
    expect(thrownBy(() => parseIloUrl('ftp://ilo.example')).message).toBe('unsupported scheme ftp: in the iLO address (expected https://host[:port])');
    // A user name with no password is refused too.
    const user = thrownBy(() => parseIloUrl('https://admin@ilo.example'));
    expect(user).toBeInstanceOf(UsageError);
    expect(user.message).toMatch(/^put no credentials in the iLO address; use --username/);
    expect(thrownBy(() => parseIloUrl('https://ilo.example/redfish?x=1')).message).toBe(
      'the iLO address takes no path or query (got /redfish?x=1); give https://host[:port]',
    );
  });
});

describe('parsePin', () => {
  const digits = 'ab'.repeat(32);

  it('takes 64 hex digits with or without sha256: (any case) and colons', () => {
    expect(parsePin(digits)).toBe(digits);
    expect(parsePin(`SHA256:${'AB:'.repeat(31)}AB`)).toBe(digits);
  });

  it('refuses anything around the digits: sha256: elsewhere than at the start, a character before or after', () => {
    expect(parsePin(`${digits}sha256:`)).toBeUndefined();
    expect(parsePin(`x${digits}`)).toBeUndefined();
    expect(parsePin(`${digits}x`)).toBeUndefined();
    expect(parsePin(digits.slice(1))).toBeUndefined();
  });
});

// ---- failures to connect ---------------------------------------------------------------------

describe('connection failures: code and words', () => {
  it('ECONNREFUSED: a ConnectError naming the address and the code, not the whole Node message', async () => {
    const url = await closedPort();
    const error = await rejectionOf(transport({ url }).request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe('E_CONNECT');
    expect(error.message).toBe(`cannot reach the iLO at ${url}: ECONNREFUSED`);
    expect(causeCode(error)).toBe('ECONNREFUSED');
  });

  it('a pinned transport reports a refused connection the same way (the error before the handshake)', async () => {
    const url = await closedPort();
    const error = await rejectionOf(transport({ url, pin: 'ab'.repeat(32), timeoutMs: 30_000 }).request({ method: 'GET', path: '/' }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.message).toBe(`cannot reach the iLO at ${url}: ECONNREFUSED`);
  });

  it('a fresh connection closed at the request: ConnectError "the iLO closed the connection (ECONNRESET)", not sent again', async () => {
    const server = await tlsServer((_connection, _index, socket) => socket.destroy());
    const error = await rejectionOf(transport({ url: server.url, ca: server.ca }).request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.message).toBe('GET /redfish/v1/: the iLO closed the connection (ECONNRESET)');
    expect(causeCode(error)).toBe('ECONNRESET');
    // Only a kept-alive socket earns a second try: this one was new.
    expect(server.lines).toEqual(['1: GET /redfish/v1/ HTTP/1.1']);
  });

  it('a GET is retried once only: when the retry meets a stale kept-alive socket too, it fails', async () => {
    // Each connection answers its first request and drops the connection at its second.
    const server = await tlsServer((_connection, index, socket) => (index === 0 ? socket.write(OK) : socket.destroy()));
    const t = transport({ url: server.url, ca: server.ca });
    // Two kept-alive sockets.
    await Promise.all([t.request({ method: 'GET', path: '/a' }), t.request({ method: 'GET', path: '/b' })]);
    const error = await rejectionOf(t.request({ method: 'GET', path: '/c' }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.message).toBe('GET /c: the iLO closed the connection (ECONNRESET)');
    expect(server.lines.filter((l) => l.endsWith('GET /c HTTP/1.1'))).toHaveLength(2);
  });

  it('a local address that is not this machine\'s: ConnectError naming the code', async () => {
    const server = await httpsServer();
    const error = await rejectionOf(transport({ url: server.url, ca: server.ca, localAddress: '192.0.2.1' }).request({ method: 'GET', path: '/' }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.message).toBe(`cannot reach the iLO at ${server.url}: EADDRNOTAVAIL`);
    expect(server.connections()).toBe(0);
  });

  it('localAddress binds the connection to that address', async () => {
    const server = await httpsServer();
    expect((await transport({ url: server.url, ca: server.ca, localAddress: '127.0.0.2' }).request({ method: 'GET', path: '/' })).status).toBe(200);
    expect(server.peers.map((p) => p.replace(/^::ffff:/, ''))).toEqual(['127.0.0.2']);
  });

  it('a server that does not speak TLS: TlsError naming the OpenSSL code and reason, what this client offers, and the hint', async () => {
    const sockets: Socket[] = [];
    const server: TcpServer = createTcpServer((socket: Socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          sockets.forEach((socket) => socket.destroy());
          server.close(() => resolve());
        }),
    );
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = await rejectionOf(transport({ url, handshakeHint: () => 'the hint' }).request({ method: 'GET', path: '/' }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.code).toBe('E_TLS');
    expect(error.message).toMatch(new RegExp(`^the TLS handshake with the iLO at ${url} failed \\(EPROTO: wrong version number\\): `));
    expect(error.message).toContain(`this client is Node ${process.version} with OpenSSL ${process.versions.openssl}, offering TLS 1.2 to 1.3; the hint`);
    expect(causeCode(error)).toBe('EPROTO');
  });
});

// ---- certificates ----------------------------------------------------------------------------

describe('certificates: which check failed, in words', () => {
  it('an unknown self-signed certificate: DEPTH_ZERO_SELF_SIGNED_CERT, advice for --ca-cert and --insecure, nothing sent', async () => {
    const server = await httpsServer();
    const error = await rejectionOf(transport({ url: server.url }).request({ method: 'GET', path: '/' }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.message).toBe(
      `cannot verify the iLO's certificate at ${server.url} (DEPTH_ZERO_SELF_SIGNED_CERT): give its CA with --ca-cert FILE, or accept any certificate with --insecure`,
    );
    expect(causeCode(error)).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(server.seen).toEqual([]);
  });

  it('an expired certificate: CERT_HAS_EXPIRED, the clock named, nothing sent', async () => {
    const cert = makeSelfSignedCertificate([], { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') });
    const server = await httpsServer({ cert });
    const error = await rejectionOf(transport({ url: server.url, ca: cert.cert }).request({ method: 'GET', path: '/' }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.message).toMatch(new RegExp(`^the iLO's certificate at ${server.url} has expired \\(by this machine's clock: \\d{4}-.*\\); renew it on the iLO, or set this machine's clock right$`));
    expect(causeCode(error)).toBe('CERT_HAS_EXPIRED');
    expect(server.seen).toEqual([]);
  });

  it('a certificate with no names at all: "it names no host"', async () => {
    const cert = makeSelfSignedCertificate([], { onlyHosts: true });
    const server = await httpsServer({ cert });
    const error = await rejectionOf(transport({ url: server.url, ca: cert.cert }).request({ method: 'GET', path: '/' }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.message).toBe(
      `the iLO's certificate at ${server.url} is not for "127.0.0.1": it names no host (no subjectAltName); reach the iLO by one of those names in --url, or give it a certificate for this name`,
    );
    expect(causeCode(error)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('servername: the certificate is checked against that name, not the address', async () => {
    const cert = makeSelfSignedCertificate(['ilo.example'], { onlyHosts: true });
    const server = await httpsServer({ cert });
    expect((await transport({ url: server.url, ca: cert.cert, servername: 'ilo.example' }).request({ method: 'GET', path: '/' })).status).toBe(200);
    // Another name: the message names the name asked for.
    const error = await rejectionOf(transport({ url: server.url, ca: cert.cert, servername: 'other.example' }).request({ method: 'GET', path: '/' }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.message).toMatch(/^the iLO's certificate at https:\/\/127\.0\.0\.1:\d+ is not for "other\.example": it names DNS:ilo\.example;/);
    expect(server.seen).toEqual(['GET /']);
  });
});

describe('pin', () => {
  it('the pinned leaf is accepted whoever signed it, on every new connection (no session is resumed)', async () => {
    // Each answer closes its connection, so the second request needs a new one.
    const server = await httpsServer({ answer: (_req, res) => (res.writeHead(200, { Connection: 'close', 'Content-Length': '2' }).end('{}'), true) });
    const t = transport({ url: server.url, pin: hex(server.ca) });
    expect((await t.request({ method: 'GET', path: '/1' })).status).toBe(200);
    expect((await t.request({ method: 'GET', path: '/2' })).status).toBe(200);
    expect(server.connections()).toBe(2);
    expect(server.resumed).toEqual([false, false]);
  });

  it('without a pin a new connection resumes the TLS session', async () => {
    const server = await httpsServer({ answer: (_req, res) => (res.writeHead(200, { Connection: 'close', 'Content-Length': '2' }).end('{}'), true) });
    const t = transport({ url: server.url, ca: server.ca });
    expect((await t.request({ method: 'GET', path: '/1' })).status).toBe(200);
    expect((await t.request({ method: 'GET', path: '/2' })).status).toBe(200);
    expect(server.resumed).toEqual([false, true]);
  });

  it('a pin one byte off: TlsError naming the fingerprint seen, nothing sent', async () => {
    const server = await httpsServer();
    const right = hex(server.ca);
    const wrong = `${right.slice(0, 62)}${right.slice(62) === '00' ? '01' : '00'}`;
    const error = await rejectionOf(transport({ url: server.url, pin: wrong }).request({ method: 'POST', path: '/login', body: Buffer.from('{"Password":"Secr3t-canary"}') }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.code).toBe('E_TLS');
    expect(error.message).toBe(`the certificate at ${server.url} is not the pinned one (--pin): its SHA-256 fingerprint is sha256:${right}; nothing was sent`);
    expect(error.message).not.toContain('Secr3t-canary');
    expect((error.cause as { fingerprint?: string } | undefined)?.fingerprint).toBe(right);
    expect(server.seen).toEqual([]);
  });
});

// ---- answers ---------------------------------------------------------------------------------

describe('answers', () => {
  it('a malformed answer names the parser\'s reason and code, and keeps Node\'s error as the cause', async () => {
    const server = await tlsServer((_c, _i, socket) => socket.write('HTTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'));
    const error = await rejectionOf(transport({ url: server.url, ca: server.ca }).request({ method: 'GET', path: '/x' }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toBe('GET /x: the iLO\'s answer is not valid HTTP (Expected HTTP/, RTSP/ or ICE/; HPE_INVALID_CONSTANT)');
    expect(causeCode(error)).toBe('HPE_INVALID_CONSTANT');
  });

  it(`a body of exactly ${MAX_RESPONSE_BODY} bytes is taken; one byte more is a ProtocolError`, async () => {
    const body = Buffer.alloc(MAX_RESPONSE_BODY + 1, 0x61);
    const server = await httpsServer({
      answer: (req, res) => {
        const size = req.url === '/limit' ? MAX_RESPONSE_BODY : MAX_RESPONSE_BODY + 1;
        res.on('error', () => undefined);
        res.writeHead(200, { 'Content-Length': String(size) }).end(body.subarray(0, size));
        return true;
      },
    });
    const t = transport({ url: server.url, ca: server.ca });
    const res = await t.request({ method: 'GET', path: '/limit' });
    expect(res.body.byteLength).toBe(MAX_RESPONSE_BODY);
    const error = await rejectionOf(t.request({ method: 'GET', path: '/over' }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toBe(`GET /over: the answer is larger than ${MAX_RESPONSE_BODY} bytes`);
  });

  it.each([
    ['closed', (socket: TLSSocket) => socket.end()],
    ['reset', (socket: TLSSocket) => socket.destroy()],
  ])('a connection %s in the middle of the body: ConnectError saying so, never a partial response', async (_how, cut) => {
    const server = await tlsServer((_c, _i, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}');
      cut(socket);
    });
    const error = await rejectionOf(transport({ url: server.url, ca: server.ca }).request({ method: 'GET', path: '/x' }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.message).toBe('GET /x: the iLO closed the connection in the middle of its answer');
  });

  it('a body with a GET or DELETE carries its Content-Length, and the server gets it whole', async () => {
    const bodies: string[] = [];
    const server = await httpsServer({
      answer: (req, res) => {
        bodies.push(`${req.method} ${req.headers['content-length']} ${req.headers['transfer-encoding'] ?? '-'}`);
        res.writeHead(200, { 'Content-Length': '2' }).end('{}');
        return true;
      },
    });
    const t = transport({ url: server.url, ca: server.ca });
    for (const method of ['GET', 'DELETE'] as const) expect((await t.request({ method, path: '/x', body: Buffer.from('{"a":1}') })).status).toBe(200);
    expect(bodies).toEqual(['GET 7 -', 'DELETE 7 -']);
  });

  it('several Set-Cookie headers come as one string', async () => {
    const server = await httpsServer({ answer: (_req, res) => (res.writeHead(200, [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Length', '0']]).end(), true) });
    const res = await transport({ url: server.url, ca: server.ca }).request({ method: 'GET', path: '/' });
    expect(res.headers['set-cookie']).toBe('a=1, b=2');
  });

  it('a header Node cannot send: InvalidInputError with the method, path and Node\'s words', async () => {
    const server = await httpsServer();
    const error = await rejectionOf(transport({ url: server.url, ca: server.ca }).request({ method: 'GET', path: '/x', headers: { 'X-Bad': 'a\nb' } }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/^GET \/x: Invalid character in header content \["X-Bad"\]/);
    expect(server.seen).toEqual([]);
  });

  it('the default allows four connections at once', async () => {
    const server = await httpsServer();
    const t = transport({ url: server.url, ca: server.ca });
    await Promise.all(Array.from({ length: 8 }, (_, i) => t.request({ method: 'GET', path: `/${i}` })));
    expect(server.connections()).toBe(4);
  });
});

// ---- deadlines, aborts, close ----------------------------------------------------------------

describe('deadlines, aborts and close()', () => {
  it('requests started at different times each time out on their own deadline, after reaching the server', async () => {
    const server = await httpsServer({ answer: () => false });
    const t = transport({ url: server.url, ca: server.ca, timeoutMs: 400 });
    const first = rejectionOf(t.request({ method: 'GET', path: '/1' }));
    await until(() => server.held.length === 1, 'the first is held');
    const second = rejectionOf(t.request({ method: 'GET', path: '/2' }));
    const errors = await Promise.all([first, second]);
    expect(errors.map((e) => e.code)).toEqual(['E_TIMEOUT', 'E_TIMEOUT']);
    expect(errors[0]).toBeInstanceOf(TimeoutError);
    expect(errors.map((e) => e.message)).toEqual(['GET /1: no complete answer within 0.4 s', 'GET /2: no complete answer within 0.4 s']);
    expect(server.seen).toEqual(['GET /1', 'GET /2']);
  });

  it('an already aborted signal: AbortedError, nothing sent', async () => {
    const server = await httpsServer();
    const error = await rejectionOf(transport({ url: server.url, ca: server.ca }).request({ method: 'GET', path: '/x', signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe('GET /x aborted before sending');
    expect(server.connections()).toBe(0);
  });

  it('an abort while the server holds the request: AbortedError; the transport stays usable', async () => {
    const server = await httpsServer({ answer: (req, res) => req.url !== '/held' && (res.end('{}'), true) });
    const t = transport({ url: server.url, ca: server.ca, timeoutMs: 60_000 });
    const controller = new AbortController();
    const pending = rejectionOf(t.request({ method: 'GET', path: '/held', signal: controller.signal }));
    await until(() => server.held.length === 1, 'the request is held');
    controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe('GET /held aborted');
    expect((await t.request({ method: 'GET', path: '/after' })).status).toBe(200);
  });

  it('close() waits for every request in flight, then refuses new ones', async () => {
    const server = await httpsServer({ answer: () => false });
    const t = transport({ url: server.url, ca: server.ca });
    const one = t.request({ method: 'GET', path: '/1' });
    const two = t.request({ method: 'GET', path: '/2' });
    await until(() => server.held.length === 2, 'both are held');
    let closed = false;
    const closing = t.close().then(() => (closed = true));
    const answer = (h: Held | undefined) => h?.res.writeHead(200, { 'Content-Length': '2' }).end('{}');
    answer(server.held[0]);
    expect((await one).status).toBe(200);
    expect(closed).toBe(false);
    answer(server.held[1]);
    expect((await two).status).toBe(200);
    await closing;
    const refused = await rejectionOf(t.request({ method: 'GET', path: '/3' }));
    expect(refused).toBeInstanceOf(ClosedError);
    expect(refused.message).toBe('the HTTPS transport is closed');
  });
});
