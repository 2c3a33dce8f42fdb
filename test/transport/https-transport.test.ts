// What openHttpsTransport does beyond the cases every transport shares (test/transport/contract.test.ts):
// addresses, the wire, TLS, connections, against the simulator and small HTTPS/TCP servers of our own
// that record what arrives.
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:tls';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClosedError,
  ConnectError,
  InvalidInputError,
  ProtocolError,
  TimeoutError,
  TlsError,
  UsageError,
} from '../../src/errors.js';
import { makeSelfSignedCertificate } from '../../src/simulator/certificate.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { openHttpsTransport, parseIloUrl, type HttpsTransportOptions, type Transport } from '../../src/transport/index.js';
import { until, rejectionOf, thrownBy } from '../helpers/wait.js';

// ---- helpers ---------------------------------------------------------------------------------

const sims: Simulator[] = [];
const transports: Transport[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const t of transports.splice(0)) await t.close().catch(() => undefined);
  for (const s of sims.splice(0)) {
    s.faults.release();
    await s.close();
  }
  for (const c of cleanups.splice(0)) await c();
});

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ loginFailureDelayMs: 0, ...options });
  sims.push(s);
  return s;
}

function transport(options: HttpsTransportOptions): Transport {
  const t = openHttpsTransport(options);
  transports.push(t);
  return t;
}




const json = (body: Uint8Array) => JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;

/** A bare HTTPS server that records each request's headers and body and answers 200 {}. */
interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
async function recordingServer(
  handler?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean,
): Promise<{ url: string; ca: string; seen: Recorded[]; connections: () => number }> {
  const { cert, key } = makeSelfSignedCertificate();
  const seen: Recorded[] = [];
  let connections = 0;
  const server: HttpsServer = createHttpsServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (handler?.(req, res, body)) return;
      const out = Buffer.from('{}');
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(out.length) }).end(out);
    });
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}`, ca: cert, seen, connections: () => connections };
}

// ---- addresses -------------------------------------------------------------------------------

describe('parseIloUrl / openHttpsTransport: the iLO address', () => {
  it('refuses http:// with a UsageError that points to https', () => {
    for (const fn of [() => parseIloUrl('http://ilo.example'), () => openHttpsTransport({ url: 'http://ilo.example' })]) {
      const error = thrownBy(fn);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.code).toBe('E_USAGE');
      expect(error.message).toMatch(/https/);
    }
  });

  it('refuses credentials in the address without repeating the password', () => {
    for (const fn of [
      () => parseIloUrl('https://admin:Secr3t-canary@ilo.example'),
      () => openHttpsTransport({ url: 'https://admin:Secr3t-canary@ilo.example' }),
    ]) {
      const error = thrownBy(fn);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.code).toBe('E_USAGE');
      expect(error.message).not.toContain('Secr3t-canary');
    }
  });

  it('does not repeat the password even when the address with credentials is otherwise invalid', () => {
    // errors.ts: "Messages never carry tokens, passwords or auth headers".
    const error = thrownBy(() => parseIloUrl('https://admin:Secr3t-canary@ilo example'));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).not.toContain('Secr3t-canary');
  });

  it('refuses a path or a query', () => {
    for (const url of ['https://ilo.example/redfish', 'https://ilo.example/redfish/v1/', 'https://ilo.example/?a=b']) {
      const error = thrownBy(() => parseIloUrl(url));
      expect(error, url).toBeInstanceOf(UsageError);
      expect(error.code).toBe('E_USAGE');
    }
    expect(thrownBy(() => openHttpsTransport({ url: 'https://ilo.example/redfish' }))).toBeInstanceOf(UsageError);
  });

  it('refuses a #fragment with a message about the fragment, not about a path', () => {
    for (const url of ['https://ilo.example#x', 'https://ilo.example/#x', 'ilo.example:8443#', 'https://ilo.example#']) {
      const error = thrownBy(() => parseIloUrl(url));
      expect(error, url).toBeInstanceOf(UsageError);
      expect(error.message, url).toMatch(/takes no #fragment \(got #x?\)/);
    }
  });

  it('refuses other schemes and garbage', () => {
    expect(thrownBy(() => parseIloUrl('ftp://ilo.example'))).toBeInstanceOf(UsageError);
    expect(thrownBy(() => parseIloUrl('https://'))).toBeInstanceOf(UsageError);
  });

  it('takes a bare host (and host:port) as https', async () => {
    const url = parseIloUrl('ilo.example');
    expect(url.protocol).toBe('https:');
    expect(url.hostname).toBe('ilo.example');
    expect(url.origin).toBe('https://ilo.example');
    expect(parseIloUrl('ilo.example:8443').origin).toBe('https://ilo.example:8443');
    expect(parseIloUrl('https://ilo.example/').origin).toBe('https://ilo.example');
    const t = transport({ url: 'ilo.example' });
    expect(t.kind).toBe('https');
    expect(t.description).toBe('https://ilo.example');
  });
});

// ---- answers -----------------------------------------------------------------------------------

describe('answers from the simulator', () => {
  it('reaches an iLO by an IPv6 address (https://[::1]:port), certificate verified', async () => {
    const s = await sim({ host: '::1' });
    expect(s.url).toMatch(/^https:\/\/\[::1\]:\d+$/);
    const t = transport({ url: s.url, ca: s.ca });
    const res = await t.request({ method: 'GET', path: '/redfish/v1/' });
    expect(res.status).toBe(200);
    expect(json(res.body)['@odata.id']).toBe('/redfish/v1');
  });

  it('resolves GET /redfish/v1/ with 200, lower-cased header names and the body bytes', async () => {
    const s = await sim();
    const t = transport({ url: s.url, ca: s.ca });
    expect(t.description).toBe(s.url);
    const res = await t.request({ method: 'GET', path: '/redfish/v1/' });
    expect(res.status).toBe(200);
    expect(res.body).toBeInstanceOf(Uint8Array);
    for (const name of Object.keys(res.headers)) expect(name).toBe(name.toLowerCase());
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['odata-version']).toBe('4.0');
    // The simulator answers chunked, as iLO 5 and later do: the body is read whole all the same.
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    const root = json(res.body);
    expect(root['@odata.id']).toBe('/redfish/v1');
    expect(root.Vendor).toBe('HPE');
  });

  it('resolves any status: 401 without a token, 404, 405 — statuses never reject', async () => {
    const s = await sim();
    const t = transport({ url: s.url, ca: s.ca });
    const unauthorized = await t.request({ method: 'GET', path: '/redfish/v1/Systems' });
    expect(unauthorized.status).toBe(401);
    expect(JSON.stringify(json(unauthorized.body))).toContain('NoValidSession');
    const login = await t.request({
      method: 'POST',
      path: '/redfish/v1/SessionService/Sessions',
      body: Buffer.from(JSON.stringify({ UserName: 'Administrator', Password: 'password' })),
    });
    expect(login.status).toBe(201);
    const token = login.headers['x-auth-token'] as string;
    const missing = await t.request({ method: 'GET', path: '/redfish/v1/NoSuchThing', headers: { 'X-Auth-Token': token } });
    expect(missing.status).toBe(404);
    expect(JSON.stringify(json(missing.body))).toContain('ResourceMissingAtURI');
    const notAllowed = await t.request({ method: 'DELETE', path: '/redfish/v1/' });
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.body.byteLength).toBe(0);
    s.faults.inject({ type: 'status503' });
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(503);
  });

  it('logs in and out: a 201 with its token and Location, then DELETE with the token', async () => {
    const s = await sim();
    const t = transport({ url: s.url, ca: s.ca });
    const login = await t.request({
      method: 'POST',
      path: '/redfish/v1/SessionService/Sessions',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify({ UserName: 'Administrator', Password: 'password' })),
    });
    expect(login.status).toBe(201);
    const token = login.headers['x-auth-token'] as string;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const path = new URL(login.headers.location as string).pathname;
    expect(s.sessions()).toHaveLength(1);
    expect((await t.request({ method: 'GET', path: '/redfish/v1/Systems/1', headers: { 'X-Auth-Token': token } })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', path, headers: { 'X-Auth-Token': token } })).status).toBe(200);
    expect(s.sessions()).toHaveLength(0);
  });
});

// ---- what goes on the wire ---------------------------------------------------------------------

describe('headers on the wire (a recording HTTPS server)', () => {
  it('sends Content-Length with every body and OData-Version: 4.0 with every request', async () => {
    const server = await recordingServer();
    const t = transport({ url: server.url, ca: server.ca });
    const body = Buffer.from(JSON.stringify({ UserName: 'Administrator', Password: 'pässword' })); // multi-byte: bytes, not chars
    expect((await t.request({ method: 'POST', path: '/redfish/v1/SessionService/Sessions', body })).status).toBe(200);
    expect((await t.request({ method: 'PATCH', path: '/redfish/v1/Systems/1', body: new Uint8Array(0) })).status).toBe(200);
    expect((await t.request({ method: 'PATCH', path: '/redfish/v1/Systems/1' })).status).toBe(200);
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
    expect((await t.request({ method: 'PUT', path: '/redfish/v1/Systems/1/Bios/Settings', body: Buffer.from('{"a":1}') })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', path: '/redfish/v1/SessionService/Sessions/x' })).status).toBe(200);
    expect((await t.request({ method: 'HEAD', path: '/redfish/v1/' })).status).toBe(200);

    const [post, patchEmpty, patchNone, get, put, del, head] = server.seen;
    expect(post?.method).toBe('POST');
    expect(post?.headers['content-length']).toBe(String(body.byteLength));
    expect(post?.body.equals(body)).toBe(true);
    expect(post?.headers['transfer-encoding']).toBeUndefined();
    expect(patchEmpty?.headers['content-length']).toBe('0');
    expect(patchNone?.headers['content-length']).toBe('0');
    expect(put?.headers['content-length']).toBe('7');
    expect(get?.method).toBe('GET');
    expect(get?.headers['content-length']).toBeUndefined();
    expect(get?.headers['transfer-encoding']).toBeUndefined();
    expect(del?.method).toBe('DELETE');
    expect(head?.method).toBe('HEAD');
    for (const request of server.seen) {
      expect(request.headers['odata-version'], request.method).toBe('4.0');
      expect(request.headers['transfer-encoding'], request.method).toBeUndefined();
    }
  });

  it('OData-Version and Content-Length win over caller headers that say otherwise', async () => {
    const server = await recordingServer();
    const t = transport({ url: server.url, ca: server.ca });
    const body = Buffer.from('{"x":true}');
    await t.request({ method: 'POST', path: '/redfish/v1/x', body, headers: { 'odata-version': '3.0', 'content-length': '999', 'X-Auth-Token': 'abc' } });
    const [post] = server.seen;
    expect(post?.headers['odata-version']).toBe('4.0');
    expect(post?.headers['content-length']).toBe(String(body.byteLength));
    expect(post?.headers['x-auth-token']).toBe('abc');
    expect(post?.body.equals(body)).toBe(true);
  });

  it('sends one Host, Accept and OData-Version whatever case the caller used for them', async () => {
    const server = await recordingServer();
    const t = transport({ url: server.url, ca: server.ca });
    await t.request({ method: 'GET', path: '/redfish/v1/', headers: { host: 'elsewhere.example', accept: 'text/html', 'ODATA-VERSION': '3.0', 'If-None-Match': 'W/"1"' } });
    const [get] = server.seen;
    expect(get?.headers.host).toBe(new URL(server.url).host);
    expect(get?.headers.accept).toBe('application/json');
    expect(get?.headers['odata-version']).toBe('4.0');
    expect(get?.headers['if-none-match']).toBe('W/"1"');
  });

  it('refuses a header Node cannot send with InvalidInputError, sends nothing, and stays usable', async () => {
    const server = await recordingServer();
    const t = transport({ url: server.url, ca: server.ca });
    const badName = await rejectionOf(t.request({ method: 'GET', path: '/redfish/v1/', headers: { 'Bad Name': 'x' } }));
    expect(badName).toBeInstanceOf(InvalidInputError);
    expect(badName.code).toBe('E_INPUT');
    const badValue = await rejectionOf(t.request({ method: 'GET', path: '/redfish/v1/', headers: { 'X-Smuggle': 'a\r\nX-Injected: 1' } }));
    expect(badValue).toBeInstanceOf(InvalidInputError);
    expect(server.seen).toHaveLength(0);
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
    // nothing counted as in flight: close() does not wait
    await t.close();
  });

  it('refuses a path outside printable ASCII with ProtocolError, as CHIF does, and sends nothing', async () => {
    const server = await recordingServer();
    const t = transport({ url: server.url, ca: server.ca });
    // Node throws on the first (ERR_UNESCAPED_CHARACTERS) and would send the second as a raw byte.
    for (const path of ['/redfish/v1/Σ', '/redfish/v1/Syst\u00e9ms']) {
      const error = await rejectionOf(t.request({ method: 'DELETE', path }));
      expect(error, path).toBeInstanceOf(ProtocolError);
      expect(error.message).toMatch(/only printable ASCII/);
    }
    expect(server.seen).toHaveLength(0);
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
  });

  it('keeps the connection alive between sequential requests', async () => {
    const server = await recordingServer();
    const t = transport({ url: server.url, ca: server.ca });
    for (let i = 0; i < 10; i++) expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  it('retries a GET once on a fresh connection when a kept-alive socket was closed, never a POST', async () => {
    // The server drops the second request that arrives on a connection without answering:
    // what a kept-alive socket the iLO already closed looks like to a client.
    const perSocket = new WeakMap<object, number>();
    const server = await recordingServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2) {
        res.destroy();
        return true;
      }
      return false;
    });
    const t = transport({ url: server.url, ca: server.ca, maxSockets: 1 });
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200); // retried
    expect(server.seen.filter((r) => r.method === 'GET')).toHaveLength(3);

    // The retry went out on a fresh socket; its next request (a POST) is dropped in turn and,
    // as a POST may have been done, is not sent again.
    const post = await rejectionOf(t.request({ method: 'POST', path: '/redfish/v1/x', body: Buffer.from('{}') }));
    expect(post).toBeInstanceOf(ConnectError);
    expect(post.code).toBe('E_CONNECT');
    expect(server.seen.filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});

// ---- failures ------------------------------------------------------------------------------------

// ---- answers no HTTP server gives (a raw TLS server writes the bytes) ----------------------------

/** A TLS server that answers every request with `answer`, whatever it was asked. */
async function rawTlsServer(answer: string): Promise<{ url: string; ca: string }> {
  const { cert, key } = makeSelfSignedCertificate();
  const server = createTlsServer({ cert, key }, (socket) => {
    socket.on('error', () => undefined);
    socket.on('data', () => socket.write(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ca: cert };
}

describe('malformed answers', () => {
  it.each([
    ['a bad status line', 'HTTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}', /Expected HTTP\/.*HPE_INVALID_CONSTANT/],
    ['a Content-Length shorter than the body', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}and-more-bytes\r\n', /HPE_INVALID_CONSTANT/],
    ['a 100 KB header', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100_000)}\r\nContent-Length: 2\r\n\r\n{}`, /Header overflow.*HPE_HEADER_OVERFLOW/],
    ['a control character in a token', 'HTTP/1.1 201 Created\r\nX-Auth-Token: ab\u0001cd\r\nContent-Length: 2\r\n\r\n{}', /Invalid header value char.*HPE_INVALID_HEADER_TOKEN/],
    ['a header name with a space', 'HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 2\r\n\r\n{}', /HPE_INVALID_HEADER_TOKEN/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /HPE_INVALID_CHUNK_SIZE/],
  ])('%s is a ProtocolError (exit 6) naming the parser\'s complaint, never "cannot reach"', async (_what, answer, complaint) => {
    const server = await rawTlsServer(answer);
    const error = await rejectionOf(transport({ url: server.url, ca: server.ca }).request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(/^GET \/redfish\/v1\/: the iLO's answer is not valid HTTP/);
    expect(error.message).toMatch(complaint);
    expect(error.message).not.toContain('ab\u0001cd');
  });
});

describe('TLS', () => {
  const serverWith = async (certificate: { cert: string; key: string }) => {
    const server = createHttpsServer(certificate, (_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  it('a certificate for other names: says which name was expected and which the certificate has, no --ca-cert advice', async () => {
    const certificate = makeSelfSignedCertificate(['ilo.example', '10.0.0.5'], { onlyHosts: true });
    const url = await serverWith(certificate);
    const error = await rejectionOf(transport({ url, ca: certificate.cert }).request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.message).toContain('is not for "127.0.0.1": it names DNS:ilo.example, IP Address:10.0.0.5');
    expect(error.message).not.toContain('--ca-cert');
  });

  it.each([
    ['expired', { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') }, /has expired \(by this machine's clock: 20\d\d-/],
    ['not valid yet', { notBefore: new Date(Date.now() + 30 * 86_400_000) }, /is not valid yet \(by this machine's clock: /],
  ])('a certificate that is %s says so, with no --ca-cert advice', async (_what, dates, message) => {
    const certificate = makeSelfSignedCertificate([], dates);
    const url = await serverWith(certificate);
    const error = await rejectionOf(transport({ url, ca: certificate.cert }).request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.code).toBe('E_TLS');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('--ca-cert');
  });

  it('rejects an unknown certificate with TlsError pointing to --ca-cert', async () => {
    const s = await sim();
    const before = s.state().counters.requests;
    const error = await rejectionOf(transport({ url: s.url }).request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.code).toBe('E_TLS');
    expect(error.message).toContain('--ca-cert');
    expect(s.state().counters.requests).toBe(before);
  });

  it('rejects a certificate signed by another CA with TlsError', async () => {
    const s = await sim();
    const other = makeSelfSignedCertificate().cert;
    const error = await rejectionOf(transport({ url: s.url, ca: other }).request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.code).toBe('E_TLS');
  });

  it('accepts any certificate with insecure: true', async () => {
    const s = await sim();
    const res = await transport({ url: s.url, insecure: true }).request({ method: 'GET', path: '/redfish/v1/' });
    expect(res.status).toBe(200);
  });
});

describe('connection failures', () => {
  it('rejects with ConnectError when nothing listens', async () => {
    const s = await startSimulator({ loginFailureDelayMs: 0 });
    const { url, ca } = s;
    await s.close();
    const error = await rejectionOf(transport({ url, ca }).request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe('E_CONNECT');
    expect(error.message).toContain(url);
  });

  it('bounds the connection time: a server that never does TLS gives TimeoutError', async () => {
    const held: Socket[] = [];
    const server: TcpServer = createTcpServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          held.forEach((socket) => socket.destroy());
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as AddressInfo;
    // the request timeout is out of reach: only the connect timeout can end this
    const t = transport({ url: `https://127.0.0.1:${port}`, connectTimeoutMs: 200, timeoutMs: 600_000 });
    const error = await rejectionOf(t.request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toBe(`cannot connect to https://127.0.0.1:${port} within 0.2 s`);
  });

  it('times out a request that gets no answer, then stays usable', async () => {
    const s = await sim();
    s.faults.inject({ type: 'hang', path: '/redfish/v1/Systems' });
    const t = transport({ url: s.url, ca: s.ca, timeoutMs: 1_000 });
    const error = await rejectionOf(t.request({ method: 'GET', path: '/redfish/v1/Systems' }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toBe('GET /redfish/v1/Systems: no complete answer within 1 s');
    expect(s.faults.held).toBe(1); // it reached the iLO and was held: the timeout, not a refusal, ended it
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
    expect(s.faults.release()).toBe(1);
  });

  it('times out each of several requests in flight on its own deadline', async () => {
    const s = await sim();
    s.faults.inject({ type: 'hang', path: '/redfish/v1/Systems*', times: 0 });
    const t = transport({ url: s.url, ca: s.ca, timeoutMs: 1000 });
    const settled = { first: false, second: false };
    const first = rejectionOf(t.request({ method: 'GET', path: '/redfish/v1/Systems' })).finally(() => (settled.first = true));
    await until(() => s.faults.held === 1, 'the first is held');
    await sleep(500); // the second starts later, so its own deadline is later
    const second = rejectionOf(t.request({ method: 'GET', path: '/redfish/v1/Systems/1' })).finally(() => (settled.second = true));
    await until(() => s.faults.held === 2, 'the second is held');
    expect((await first)).toBeInstanceOf(TimeoutError);
    // when the first one's deadline ends it, the second is still waiting for its own
    expect(settled.second).toBe(false);
    expect((await second)).toBeInstanceOf(TimeoutError);
    s.faults.clear();
    s.faults.release();
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
  });

  it('bounds only the connection set-up: a slow answer on an open connection is not a connect timeout', async () => {
    const s = await sim();
    const t = transport({ url: s.url, ca: s.ca, connectTimeoutMs: 150, timeoutMs: 5000 });
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
    s.faults.setLatency({ requestMs: 400 });
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
  });

  it('a truncated body is a ConnectError, never a partial response', async () => {
    const s = await sim();
    const t = transport({ url: s.url, ca: s.ca });
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200); // a kept-alive socket now exists
    s.faults.inject({ type: 'truncate', method: 'GET', path: '/redfish/v1', times: 0 });
    const error = await rejectionOf(t.request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe('E_CONNECT');
    s.faults.clear();
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
  });

  it('a connection dropped after the headers is a ConnectError, never a partial response', async () => {
    const s = await sim();
    const t = transport({ url: s.url, ca: s.ca });
    s.faults.inject({ type: 'drop', method: 'GET', path: '/redfish/v1', times: 0 });
    const error = await rejectionOf(t.request({ method: 'GET', path: '/redfish/v1/' }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe('E_CONNECT');
    s.faults.clear();
    // A dropped POST (not retried) as well.
    s.faults.inject({ type: 'drop', on: 'login' });
    const login = await rejectionOf(
      t.request({
        method: 'POST',
        path: '/redfish/v1/SessionService/Sessions',
        body: Buffer.from(JSON.stringify({ UserName: 'Administrator', Password: 'password' })),
      }),
    );
    expect(login).toBeInstanceOf(ConnectError);
    expect(s.state().counters.logins).toBe(1);
    expect((await t.request({ method: 'GET', path: '/redfish/v1/' })).status).toBe(200);
  });
});

// Abort, close() and concurrent answers are contract cases (test/transport/contract.test.ts), run for
// HTTPS against the simulator as for every other transport.

describe('close()', () => {
  it('a transport never used closes at once', async () => {
    const t = transport({ url: 'https://127.0.0.1:1' });
    await t.close();
    expect(await rejectionOf(t.request({ method: 'GET', path: '/redfish/v1/' }))).toBeInstanceOf(ClosedError);
  });
});

describe('keep-alive', () => {
  it('serves 50 sequential GETs', async () => {
    const s = await sim();
    const t = transport({ url: s.url, ca: s.ca });
    for (let i = 0; i < 50; i++) {
      const res = await t.request({ method: 'GET', path: '/redfish/v1/' });
      expect(res.status).toBe(200);
    }
    expect(s.state().counters.requests).toBe(50);
  });

  it('serves parallel requests over fewer sockets than requests', async () => {
    const s = await sim();
    const t = transport({ url: s.url, ca: s.ca, maxSockets: 2 });
    const all = await Promise.all(Array.from({ length: 12 }, () => t.request({ method: 'GET', path: '/redfish/v1/' })));
    expect(all.map((r) => r.status)).toEqual(Array(12).fill(200));
  });
});
