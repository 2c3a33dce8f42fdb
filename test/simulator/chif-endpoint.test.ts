// The CHIF endpoint, spoken to as the CHIF emulator library speaks to it: frames over a Unix
// socket (native-bindings/PROTOCOL.md), packets built by hand here, HTTP/1.1 bytes inside.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { client, messageIds } from '../helpers/https-client.js';
import { until } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'chif-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let socketCount = 0;
const socketPath = () => join(dir, `chif-${++socketCount}.sock`);

const open: Simulator[] = [];
async function sim(options: SimulatorOptions = {}) {
  const s = await startSimulator({ loginFailureDelayMs: 0, chifSocket: socketPath(), ...options });
  open.push(s);
  return { s, chif: emulator(s.chifSocket as string) };
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

// ---- the emulator's side ------------------------------------------------------------------

const OP = { ping: 1, create: 2, security: 3, verify: 4, exchange: 5, close: 6 };
const NS = 'volatile';
const SESSIONS = '/redfish/v1/SessionService/Sessions';

/** Sends raw bytes on a fresh connection; resolves with every byte the other side sent until it closed. */
function raw(path: string, bytes: Buffer, endAfter = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.write(bytes, () => {
      if (endAfter) socket.end();
    });
  });
}

function frame(op: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(1 + payload.length, 0);
  head.writeUInt8(op, 4);
  return Buffer.concat([head, payload]);
}

function unframe(bytes: Buffer): { op: number; payload: Buffer } {
  expect(bytes.length).toBeGreaterThanOrEqual(5);
  expect(bytes.readUInt32LE(0)).toBe(bytes.length - 4);
  return { op: bytes[4] as number, payload: bytes.subarray(5) };
}

const counted = (...texts: string[]) =>
  Buffer.concat(
    texts.map((t) => {
      const b = Buffer.from(t, 'utf8');
      const n = Buffer.alloc(2);
      n.writeUInt16LE(b.length);
      return Buffer.concat([n, b]);
    }),
  );

let seq = 0x4000;
/** A request packet of `size` template bytes plus `extra`, header per PROTOCOL.md. */
function packet(command: number, size: number, fill: (b: Buffer) => void = () => {}, extra: Buffer<ArrayBufferLike> = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(size + extra.length);
  b.writeUInt16LE(size + extra.length, 0);
  seq = seq === 0xffff ? 1 : seq + 1;
  b.writeUInt16LE(seq, 2);
  b.writeUInt16LE(command, 4);
  b.writeUInt16LE(0x0002, 6);
  fill(b);
  extra.copy(b, size);
  return b;
}
const keyed = (command: number, size: number, key: string, ns = NS, more: (b: Buffer) => void = () => {}, extra?: Buffer<ArrayBufferLike>) =>
  packet(command, size, (b) => {
    b.write(key, 8);
    b.write(ns, 40);
    more(b);
  }, extra);

const P = {
  create: (key: string, ns = NS) => keyed(0x0101, 88, key, ns),
  info: (key: string, ns = NS) => keyed(0x0102, 84, key, ns),
  read: (offset: number, count: number, key: string) =>
    keyed(0x0103, 96, key, NS, (b) => {
      b.writeUInt32LE(offset, 72);
      b.writeUInt32LE(count, 76);
    }),
  write: (offset: number, data: Buffer, key: string) =>
    keyed(0x0104, 100, key, NS, (b) => {
      b.writeUInt32LE(offset, 72);
      b.writeUInt32LE(data.length, 76);
    }, data),
  finalize: (key: string) => keyed(0x0105, 76, key),
  delete: (key: string) => keyed(0x0106, 80, key),
  list: (ns = NS) => packet(0x0107, 44, (b) => b.write(ns, 8)),
  rest: (http: Buffer, rspKey: string) => keyed(0x0110, 80, rspKey, NS, (b) => b.writeUInt32LE(http.length, 72), http),
  restBlob: (rqtKey: string, rspKey: string) =>
    packet(0x0111, 112, (b) => {
      b.write(rqtKey, 8);
      b.write(rspKey, 40);
      b.write(NS, 72);
    }),
  securityState: () => packet(0x0120, 60),
};

interface ExchangeOptions {
  auth?: 0 | 1 | 2;
  user?: string;
  recvSize?: number;
}

function emulator(path: string) {
  const call = async (op: number, payload?: Buffer) => {
    const answer = unframe(await raw(path, frame(op, payload)));
    expect(answer.op).toBe(op);
    return answer.payload;
  };
  const rcOf = async (op: number, payload?: Buffer) => (await call(op, payload)).readUInt32LE(0);

  async function exchange(pkt: Buffer, options: ExchangeOptions = {}) {
    const user = options.auth === 2 ? (options.user ?? 'Administrator') : '';
    const recv = Buffer.alloc(4);
    recv.writeUInt32LE(options.recvSize ?? 4096);
    const answer = await call(OP.exchange, Buffer.concat([Buffer.from([options.auth ?? 1]), counted(user), recv, pkt]));
    const rc = answer.readUInt32LE(0);
    const response = answer.subarray(4);
    if (rc === 0) {
      expect(response.readUInt16LE(2), 'sequence echoed').toBe(pkt.readUInt16LE(2));
      expect(response.readUInt16LE(4)).toBe(pkt.readUInt16LE(4) | 0x8000);
      expect(response.readUInt16LE(0)).toBe(response.length);
    }
    return { rc, response, status: response.length >= 12 ? response.readUInt32LE(8) : undefined };
  }
  const status = async (pkt: Buffer, options?: ExchangeOptions) => {
    const r = await exchange(pkt, options);
    expect(r.rc).toBe(0);
    return r.status;
  };

  let keyCount = 0;
  const newKey = () => `k${(++keyCount).toString(36).padStart(9, '0')}`;

  /** One REST request the way HPE's client makes it (docs/reference/chif-abi.md §3.4, §3.8). */
  async function rest(method: string, target: string, options: ExchangeOptions & { body?: unknown; token?: string; rawHttp?: Buffer; keepRequestBlob?: boolean } = {}) {
    const http = options.rawHttp ?? httpRequest(method, target, options.body, options.token);
    const rspKey = newKey();
    let mode: 'immediate' | 'blob';
    let answer: Awaited<ReturnType<typeof exchange>>;
    let rqtKey: string | undefined;
    if (http.length < 80 + 3500) {
      mode = 'immediate';
      answer = await exchange(P.rest(http, rspKey), options);
    } else {
      mode = 'blob';
      rqtKey = newKey();
      expect(await status(P.create(rqtKey), options)).toBe(0);
      for (let off = 0; off < http.length; off += 3400) {
        expect(await status(P.write(off, http.subarray(off, off + 3400), rqtKey), options)).toBe(0);
      }
      expect(await status(P.finalize(rqtKey), options)).toBe(0);
      answer = await exchange(P.restBlob(rqtKey, rspKey), options);
    }
    expect(answer.rc).toBe(0);
    expect(answer.status).toBe(0);
    const recvmode = answer.response.readUInt32LE(12);
    let bytes: Buffer;
    let reads = 0;
    if (recvmode === 0) {
      bytes = answer.response.subarray(32, 32 + answer.response.readUInt32LE(16));
    } else {
      expect(recvmode).toBe(1);
      expect(answer.response.readUInt32LE(16)).toBe(0);
      const info = await exchange(P.info(rspKey), options);
      expect(info.status).toBe(0);
      const size = info.response.readUInt32LE(24);
      const parts: Buffer[] = [];
      for (let got = 0; got < size; ) {
        const r = await exchange(P.read(got, Math.min(4000 - 96, size - got), rspKey), options);
        const n = r.response.readUInt32LE(24);
        expect(n).toBeGreaterThan(0);
        parts.push(r.response.subarray(28, 28 + n));
        got += n;
        reads++;
      }
      bytes = Buffer.concat(parts);
      expect(bytes.length).toBe(size);
    }
    // HPE's 6.3 client deletes the response blob every time, existing or not.
    expect(await status(P.delete(rspKey), options)).toBe(0);
    if (rqtKey && !options.keepRequestBlob) expect(await status(P.delete(rqtKey), options)).toBe(0);
    return { ...parseHttpResponse(bytes), mode, recvmode, reads, raw: bytes };
  }

  return {
    call,
    rcOf,
    exchange,
    status,
    rest,
    newKey,
    ping: () => rcOf(OP.ping),
    create: () => rcOf(OP.create),
    security: async () => (await call(OP.security)).readInt32LE(0),
    verify: (user: string, password: string) => rcOf(OP.verify, counted(user, password)),
    close: () => rcOf(OP.close),
  };
}

/** HTTP bytes as HPE's client writes them (docs/reference/chif-abi.md §3.3). */
function httpRequest(method: string, target: string, body?: unknown, token?: string): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: ', 'Accept-Encoding: gzip'];
  if (token) lines.push(`X-Auth-Token: ${token}`);
  lines.push('OData-Version: 4.0', 'Accept: */*', 'Connection: Keep-Alive');
  let bytes = Buffer.alloc(0);
  if (body !== undefined) {
    bytes = Buffer.from(JSON.stringify(body));
    lines.push('Content-Type: application/json', `Content-Length: ${bytes.length}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), bytes]);
}

function parseHttpResponse(bytes: Buffer) {
  const end = bytes.indexOf('\r\n\r\n');
  expect(end).toBeGreaterThan(0);
  const [statusLine, ...headerLines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) (.+)$/.exec(statusLine ?? '');
  expect(m, statusLine).not.toBeNull();
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const framed = bytes.subarray(end + 4);
  // iLO 5 and later answer chunked; an empty body says Content-Length: 0.
  const body = headers['transfer-encoding'] === 'chunked' ? dechunk(framed) : framed;
  if (headers['transfer-encoding'] === undefined) expect(Number(headers['content-length'])).toBe(body.length);
  else expect(headers['content-length']).toBeUndefined();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    json = undefined;
  }
  return { status: Number(m?.[1]), reason: m?.[2], headers, body, json };
}

/** A whole chunked body, every chunk checked. */
function dechunk(framed: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = framed.indexOf('\r\n', at);
    expect(eol).toBeGreaterThan(at);
    const size = parseInt(framed.subarray(at, eol).toString('latin1'), 16);
    at = eol + 2;
    if (size === 0) {
      expect(framed.subarray(at).toString('latin1')).toBe('\r\n');
      return Buffer.concat(parts);
    }
    parts.push(framed.subarray(at, at + size));
    expect(framed.subarray(at + size, at + size + 2).toString('latin1')).toBe('\r\n');
    at += size + 2;
  }
}

// ---- tests ----------------------------------------------------------------------------------

describe('channel calls', () => {
  it('answers PING, CREATE, SECURITY, VERIFY and CLOSE, and the ready info names the socket', async () => {
    const { s, chif } = await sim({ users: { Administrator: 'password', operator: 'op:pass' } });
    expect(s.chifSocket).toMatch(/chif-\d+\.sock$/);
    expect(s.info.chifSocket).toBe(s.chifSocket);
    expect(lstatSync(s.chifSocket as string).isSocket()).toBe(true);
    expect(await chif.ping()).toBe(0);
    expect(await chif.create()).toBe(0);
    expect(await chif.security()).toBe(0);
    expect(await chif.verify('Administrator', 'password')).toBe(0);
    expect(await chif.verify('operator', 'op:pass')).toBe(0);
    expect(await chif.verify('Administrator', 'nope')).toBe(13);
    expect(await chif.verify('ghost', 'password')).toBe(13);
    expect(await chif.close()).toBe(0);
    expect(s.state().chif).toMatchObject({
      socket: s.chifSocket,
      securityState: 'production',
      inbandLocation: 'path',
      counters: { frames: { ping: 1, create: 1, security: 1, verify: 4, exchange: 0, close: 1, bad: 0 } },
    });
  });

  it('has no socket without the option', async () => {
    const s = await startSimulator();
    open.push(s);
    expect(s.chifSocket).toBeNull();
    expect(s.info.chifSocket).toBeNull();
    expect(s.state().chif.socket).toBeNull();
  });
});

describe('loopback TCP (the Windows build of the emulator)', () => {
  /** Like raw(), to host:port. */
  const rawTcp = (address: string, bytes: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const [host, port] = address.split(':') as [string, string];
      const socket = connect({ host, port: Number(port) });
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.write(bytes);
    });
  const rc = (value: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    return b;
  };

  it('answers a frame once the secret opened the connection; no secret or a wrong one: op 7 with rc 13, and nothing done', async () => {
    const s = await startSimulator({ loginFailureDelayMs: 0, chifTcp: {} });
    open.push(s);
    const tcp = s.chifTcp as { address: string; secret: string };
    expect(tcp.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(tcp.secret).toMatch(/^[0-9a-f]{48}$/);
    expect(s.state().chif).toMatchObject({ socket: null, tcp: tcp.address });
    expect(JSON.stringify(s.state())).not.toContain(tcp.secret);

    const opened = unframe(await rawTcp(tcp.address, Buffer.concat([frame(7, Buffer.from(tcp.secret)), frame(OP.ping)])));
    expect(opened).toEqual({ op: OP.ping, payload: rc(0) });
    const wrong = tcp.secret.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    for (const first of [frame(OP.ping), frame(7, Buffer.from(wrong)), frame(7, Buffer.from(tcp.secret.slice(1))), frame(7)]) {
      expect(unframe(await rawTcp(tcp.address, Buffer.concat([first, frame(OP.ping)])))).toEqual({ op: 7, payload: rc(13) });
    }
    expect(s.state().chif.counters.frames).toMatchObject({ ping: 1, bad: 0 });

    const other = await startSimulator({ loginFailureDelayMs: 0, chifTcp: {} });
    open.push(other);
    expect(other.chifTcp?.secret).not.toBe(tcp.secret);
  });

  it('serves both a Unix socket and TCP when both are asked for; neither without the options', async () => {
    const { s, chif } = await sim({ chifTcp: {} });
    expect(await chif.ping()).toBe(0);
    expect(s.state().chif.tcp).toBe(s.chifTcp?.address);
    const none = await startSimulator();
    open.push(none);
    expect([none.chifTcp, none.state().chif.tcp]).toEqual([null, null]);
  });
});

describe('REST in-band', () => {
  it.each(['/redfish/v1/', '/redfish/v1'])('GET %s answers an inline HTTP/1.1 200 with JSON', async (path) => {
    const { s, chif } = await sim();
    const res = await chif.rest('GET', path);
    expect(res.mode).toBe('immediate');
    expect(res.recvmode).toBe(0);
    expect(res.status).toBe(200);
    expect(res.reason).toBe('OK');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.json['@odata.id']).toBe('/redfish/v1');
    expect(res.json.Links.Sessions['@odata.id']).toBe(SESSIONS);
    expect(s.chif.blobCount).toBe(0);
    expect(s.state().counters.requests).toBe(1);
    expect(s.chif.counters().commands).toMatchObject({ restImmediate: 1, delete: 1 });
  });

  it('trusts requests without a token at channel level, and checks a token when there is one', async () => {
    const { s, chif } = await sim();
    const system = await chif.rest('GET', '/redfish/v1/Systems/1');
    expect(system.status).toBe(200);
    expect(system.json.Id).toBe('1');
    const collection = await chif.rest('GET', SESSIONS);
    expect(collection.status).toBe(200);
    expect(collection.json.Oem.Hpe.Links).toEqual({});
    const bad = await chif.rest('GET', '/redfish/v1/Systems/1', { token: '0123456789abcdef0123456789abcdef' });
    expect(bad.status).toBe(401);
    expect(messageIds(bad.json)).toEqual(['Base.1.18.NoValidSession']);
    expect(s.sessions()).toHaveLength(0);
  });

  it('a session POST with null credentials makes a "system administrator" Rest Host session, seen over HTTPS, ended by DELETE', async () => {
    const { s, chif } = await sim();
    const login = await chif.rest('POST', `${SESSIONS}/`, { body: { UserName: null, Password: null } });
    expect(login.status).toBe(201);
    const token = login.headers['x-auth-token'] as string;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const location = login.headers.location as string;
    expect(location).toMatch(/^\/redfish\/v1\/SessionService\/Sessions\/system%20administrator00000000[0-9a-f]{15,16}$/);
    expect(login.json).toMatchObject({ '@odata.id': location, UserName: 'system administrator', Oem: { Hpe: { UserTag: 'RESTHost', UserType: 'System' } } });
    expect(s.sessions()).toEqual([expect.objectContaining({ user: 'system administrator', tag: 'RESTHost', transport: 'chif', transient: false })]);

    // the token works in-band, and the session is in the one table another client sees
    const mine = await chif.rest('GET', location, { token });
    expect(mine.json.Oem.Hpe.MySession).toBe(true);
    const https = client(s);
    try {
      const { token: other, location: otherLocation } = await https.login();
      const list = await https.call('GET', SESSIONS, { token: other });
      expect(list.json.Members.map((m: { '@odata.id': string }) => m['@odata.id'])).toContain(location);
      expect(list.json['Members@odata.count']).toBe(2);

      const logout = await chif.rest('DELETE', location, { token });
      expect(logout.status).toBe(200);
      expect(messageIds(logout.json)).toEqual(['Base.1.18.Success']);
      expect(s.sessions().map((x) => x.transport)).toEqual(['https']);
      expect((await chif.rest('GET', '/redfish/v1/Systems/1', { token })).status).toBe(401);
      expect((await https.call('DELETE', new URL(otherLocation).pathname, { token: other })).status).toBe(200);
    } finally {
      https.close();
    }
    s.assertNoSessions();
  });

  it('gives an absolute Location with --inband-location absolute; real credentials make a Rest Host session of that user', async () => {
    const { s, chif } = await sim({ inbandLocation: 'absolute', profile: 'ilo5-legacy' });
    const login = await chif.rest('POST', SESSIONS, { body: { UserName: 'Administrator', Password: 'password' } });
    expect(login.status).toBe(201);
    expect(login.headers.location).toMatch(new RegExp(`^${s.url}${SESSIONS}/administrator00000000[0-9a-f]+/$`));
    // iLO 5's 201 body is an envelope: still a JSON body, never empty
    expect(messageIds(login.json)).toEqual(['Base.1.4.Created']);
    expect(s.sessions()).toEqual([expect.objectContaining({ user: 'Administrator', tag: 'RESTHost', transport: 'chif' })]);
    const bad = await chif.rest('POST', SESSIONS, { body: { UserName: 'Administrator', Password: 'wrong' } });
    expect(bad.status).toBe(401);
    expect(messageIds(bad.json)).toEqual(['iLO.2.13.UnauthorizedLoginAttempt']);
    const missing = await chif.rest('POST', SESSIONS, { body: { UserName: 'Administrator' } });
    expect(missing.status).toBe(400);
    expect(s.sessions()).toHaveLength(1);
  });

  it('takes a 1 MB request through a request blob', async () => {
    const { s, chif } = await sim();
    const tag = 'x'.repeat(1_000_000);
    const patch = await chif.rest('PATCH', '/redfish/v1/Systems/1', { body: { AssetTag: tag }, keepRequestBlob: true });
    expect(patch.mode).toBe('blob');
    expect(patch.status).toBe(200);
    expect(s.chif.counters().commands.write).toBe(Math.ceil((httpRequest('PATCH', '/redfish/v1/Systems/1', { AssetTag: tag }).length) / 3400));
    // HPE's clients never delete the request blob: it stays until deleted (or idle for an hour)
    expect(s.chif.blobCount).toBe(1);
    const https = client(s);
    try {
      const { token, location } = await https.login();
      expect((await https.call('GET', '/redfish/v1/Systems/1', { token })).json.AssetTag).toBe(tag);
      await https.call('DELETE', new URL(location).pathname, { token });
    } finally {
      https.close();
    }
    // an action through a request blob too
    const reset = await chif.rest('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
      rawHttp: Buffer.concat([
        Buffer.from('POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset HTTP/1.1\r\nHost:\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n'),
        Buffer.from('{"ResetType": "ForceOff"}'.padEnd(4000, ' ')),
      ]),
    });
    expect(reset.mode).toBe('blob');
    expect(reset.status).toBe(200);
  });

  describe('a 5 MB response', () => {
    const mockup = join(dir, 'mockup');
    const big = { '@odata.id': '/redfish/v1/Big', '@odata.type': '#Big.v1_0_0.Big', Id: 'Big', Data: 'y'.repeat(5 * 1024 * 1024) };
    beforeAll(() => {
      mkdirSync(join(mockup, 'Big'), { recursive: true });
      writeFileSync(join(mockup, 'index.json'), JSON.stringify({ '@odata.id': '/redfish/v1', Links: { Sessions: { '@odata.id': SESSIONS } } }));
      writeFileSync(join(mockup, 'Big', 'index.json'), JSON.stringify(big));
    });

    it('comes through the response blob: get_info, read fragments, delete, and no blob is left', async () => {
      const { s, chif } = await sim({ mockupDir: mockup });
      const res = await chif.rest('GET', '/redfish/v1/Big');
      expect(res.recvmode).toBe(1);
      expect(res.status).toBe(200);
      expect(res.json.Data).toBe(big.Data);
      expect(res.reads).toBe(Math.ceil(res.raw.length / 3904));
      expect(s.chif.blobCount).toBe(0);
      expect(s.state().chif.blobs).toEqual({ keys: 0, bytes: 0 });
    });

    it('never reads more than asked or than recvSize allows', async () => {
      const { s, chif } = await sim({ mockupDir: mockup });
      const rspKey = chif.newKey();
      const answer = await chif.exchange(P.rest(httpRequest('GET', '/redfish/v1/Big'), rspKey));
      expect(answer.response.readUInt32LE(12)).toBe(1);
      expect(s.chif.blobKeys()).toEqual([rspKey]);
      const asked = await chif.exchange(P.read(0, 100, rspKey));
      expect(asked.response.readUInt32LE(24)).toBe(100);
      expect(asked.response.length).toBe(128);
      expect(asked.response.subarray(28, 40).toString()).toBe('HTTP/1.1 200');
      const small = await chif.exchange(P.read(0, 3904, rspKey), { recvSize: 1000 });
      expect(small.response.readUInt32LE(24)).toBe(1000 - 28);
      expect(small.response.length).toBe(1000);
      const size = (await chif.exchange(P.info(rspKey))).response.readUInt32LE(24);
      const past = await chif.exchange(P.read(size - 10, 3904, rspKey));
      expect(past.response.readUInt32LE(24)).toBe(10);
      expect((await chif.exchange(P.read(size, 3904, rspKey))).response.readUInt32LE(24)).toBe(0);
      expect(await chif.status(P.delete(rspKey))).toBe(0);
      expect(s.chif.blobCount).toBe(0);
    });
  });

  it('answers an HTTP 400 to malformed HTTP, and takes odd but valid HTTP', async () => {
    const { chif } = await sim();
    for (const bytes of ['GARBAGE\r\n\r\n', 'GET /redfish/v1 HTTP/1.1\r\nNoColonHere\r\n\r\n', 'GET /redfish/v1 HTTP/1.1\r\nHost: \r\n', 'POST /redfish/v1/Sessions HTTP/1.1\r\nContent-Length: 50\r\n\r\n{}']) {
      const res = await chif.rest('GET', '/', { rawHttp: Buffer.from(bytes) });
      expect(res.status, bytes).toBe(400);
      expect(messageIds(res.json)).toEqual(['Base.1.18.GeneralError']);
    }
    const chunked = await chif.rest('POST', '/', {
      rawHttp: Buffer.from('POST /redfish/v1/SessionService/Sessions HTTP/1.1\nHost:\nTransfer-Encoding: chunked\n\n10\r\n{"UserName":null\r\n11\r\n,"Password":null}\r\n0\r\n\r\n'),
    });
    expect(chunked.status).toBe(201);
  });
});

describe('the blob store', () => {
  it('create, write, finalize, info, read, list and delete, with the status codes of docs/reference/chif-abi.md §4.1', async () => {
    const { s, chif } = await sim();
    const key = chif.newKey();
    expect(await chif.status(P.info(key))).toBe(12);
    expect(await chif.status(P.write(0, Buffer.from('abc'), key))).toBe(12);
    expect(await chif.status(P.finalize(key))).toBe(12);
    expect(await chif.status(P.delete(key)), 'delete of an absent blob').toBe(0);
    expect(await chif.status(P.create(key))).toBe(0);
    expect(await chif.status(P.create(key))).toBe(20);
    expect(await chif.status(P.write(0, Buffer.from('hello '), key))).toBe(0);
    expect(await chif.status(P.write(6, Buffer.from('world'), key))).toBe(0);
    expect(await chif.status(P.write(100, Buffer.from('hole'), key))).toBe(2);
    expect(await chif.status(P.finalize(key))).toBe(0);
    expect(await chif.status(P.write(11, Buffer.from('!'), key)), 'no write once finalized').toBe(2);
    const info = await chif.exchange(P.info(key));
    expect(info.response.readUInt32LE(24)).toBe(11);
    const read = await chif.exchange(P.read(0, 100, key));
    expect(read.response.subarray(28, 28 + read.response.readUInt32LE(24)).toString()).toBe('hello world');
    const missingRead = await chif.exchange(P.read(0, 100, 'nothere'));
    expect(missingRead.status).toBe(12);
    expect(missingRead.response.readUInt32LE(24)).toBe(0);
    const list = await chif.exchange(P.list());
    expect(list.response.readUInt32LE(12)).toBe(1);
    expect(list.response.subarray(16, 16 + key.length).toString()).toBe(key);
    for (const wrong of [P.create(key, 'persistent'), P.info(key, 'nvram'), P.list('other'), P.create('')]) {
      expect(await chif.status(wrong)).toBe(2);
    }
    expect(await chif.status(P.delete(key))).toBe(0);
    expect(s.chif.blobCount).toBe(0);
  });

  it('answers 12 for a REST request whose request blob does not exist, 2 when it is not finalized', async () => {
    const { chif } = await sim();
    const missing = await chif.exchange(P.restBlob('nothere', chif.newKey()));
    expect(missing.status).toBe(12);
    const key = chif.newKey();
    await chif.status(P.create(key));
    expect((await chif.exchange(P.restBlob(key, chif.newKey()))).status).toBe(2);
  });
});

describe('security states', () => {
  it('production: security disabled is enough, no authentication is refused with 8, state byte 3', async () => {
    const { s, chif } = await sim();
    expect((await chif.exchange(P.rest(httpRequest('GET', '/redfish/v1'), chif.newKey()), { auth: 0 })).rc).toBe(8);
    expect((await chif.exchange(P.rest(httpRequest('GET', '/redfish/v1'), chif.newKey()), { auth: 1 })).rc).toBe(0);
    const state = await chif.exchange(P.securityState(), { auth: 0 });
    expect(state.rc).toBe(0);
    expect(state.response.length).toBe(76);
    expect(state.response[72]).toBe(3);
    expect(s.chif.counters()).toMatchObject({ refused: 1, commands: { restImmediate: 1, securityState: 1 } });
  });

  it.each([
    ['highsecurity', 4],
    ['fips', 5],
  ] as const)('%s: security required, credentials needed, the state request exempt (byte %i)', async (securityState, byte) => {
    const { s, chif } = await sim({ securityState, users: { Administrator: 'password', operator: 'op' } });
    expect(await chif.security()).toBe(1);
    const get = () => P.rest(httpRequest('GET', '/redfish/v1/Systems/1'), chif.newKey());
    expect((await chif.exchange(get(), { auth: 0 })).rc).toBe(8);
    expect((await chif.exchange(get(), { auth: 1 })).rc).toBe(8);
    expect((await chif.exchange(get(), { auth: 2, user: 'ghost' })).rc).toBe(8);
    for (const auth of [0, 1, 2] as const) {
      const state = await chif.exchange(P.securityState(), { auth });
      expect(state.rc).toBe(0);
      expect(state.response[72]).toBe(byte);
    }
    expect(await chif.verify('operator', 'op')).toBe(0);
    expect(await chif.verify('operator', 'wrong')).toBe(13);
    const system = await chif.rest('GET', '/redfish/v1/Systems/1', { auth: 2, user: 'operator' });
    expect(system.status).toBe(200);
    // on a channel verified as operator, a null-credential login is operator's
    const login = await chif.rest('POST', SESSIONS, { auth: 2, user: 'operator', body: { UserName: null, Password: null } });
    expect(login.status).toBe(201);
    expect(login.json).toMatchObject({ UserName: 'operator', Oem: { Hpe: { UserTag: 'RESTHost', UserType: 'Local' } } });
    expect(s.sessions()).toEqual([expect.objectContaining({ user: 'operator', tag: 'RESTHost', transport: 'chif' })]);
    expect(s.chif.counters().refused).toBe(3);
  });
});

describe('CHIF faults', () => {
  it('ping, create, securityRequired, verify and securityStateByte hold until cleared', async () => {
    const { s, chif } = await sim({ chifFaults: { ping: 19 } });
    expect(await chif.ping()).toBe(19);
    expect(await chif.ping()).toBe(19);
    for (const rc of [13, 8, 32]) {
      s.chif.setFaults({ ping: rc });
      expect(await chif.ping()).toBe(rc);
    }
    s.chif.setFaults({ ping: null, create: 5, securityRequired: -1, verify: 95, securityStateByte: 1 });
    expect(await chif.ping()).toBe(0);
    expect(await chif.create()).toBe(5);
    expect(await chif.security()).toBe(-1);
    expect(await chif.verify('Administrator', 'password')).toBe(95);
    expect((await chif.exchange(P.securityState(), { auth: 0 })).response[72]).toBe(1);
    expect(s.chif.faults()).toEqual({ create: 5, securityRequired: -1, verify: 95, securityStateByte: 1 });
    s.chif.clearFaults();
    expect(await chif.create()).toBe(0);
    expect(await chif.security()).toBe(0);
    expect(await chif.verify('Administrator', 'password')).toBe(0);
    expect(s.chif.faults()).toEqual({});
  });

  it('exchange: the next N exchanges answer the rc', async () => {
    const { s, chif } = await sim();
    s.chif.setFaults({ exchange: { rc: 8, times: 2 } });
    expect(s.chif.faults().exchange).toEqual({ rc: 8, times: 2 });
    expect((await chif.exchange(P.info('a'))).rc).toBe(8);
    expect(s.chif.faults().exchange).toEqual({ rc: 8, times: 1 });
    expect((await chif.exchange(P.info('a'))).rc).toBe(8);
    expect((await chif.exchange(P.info('a'))).rc).toBe(0);
    s.chif.setFaults({ exchange: 5 });
    const failed = await chif.exchange(P.info('a'));
    expect(failed.rc).toBe(5);
    expect(failed.response.length).toBe(0);
    expect(s.chif.counters().faulted).toBe(3);
  });

  it('blobStatus: the next N get_info/delete answer 2 or 12', async () => {
    const { s, chif } = await sim();
    const key = chif.newKey();
    await chif.status(P.create(key));
    s.chif.setFaults({ blobStatus: { status: 2, times: 2 } });
    expect(await chif.status(P.info(key))).toBe(2);
    expect(await chif.status(P.delete(key))).toBe(2);
    expect(s.chif.blobCount).toBe(1);
    expect(await chif.status(P.info(key))).toBe(0);
    s.chif.setFaults({ blobStatus: 12 });
    expect(await chif.status(P.info(key))).toBe(12);
    expect(await chif.status(P.delete(key))).toBe(0);
    expect(s.chif.blobCount).toBe(0);
  });

  it('sequenceMismatch is one-shot; zeroRead reports 0 bytes for the next N reads', async () => {
    const { s, chif } = await sim();
    const key = chif.newKey();
    await chif.status(P.create(key));
    const written = (await chif.exchange(P.write(0, Buffer.from('data'), key))).response;
    s.chif.setFaults({ sequenceMismatch: true, zeroRead: 2 });
    const request = P.info(key);
    const recv = Buffer.alloc(4);
    recv.writeUInt32LE(4096);
    const answer = (await chif.call(OP.exchange, Buffer.concat([Buffer.from([1]), counted(''), recv, request]))).subarray(4);
    expect(answer.readUInt16LE(2)).not.toBe(request.readUInt16LE(2));
    // wrong data: the previous packet's answer (the write's), not this packet's with its number changed
    expect(answer.equals(written)).toBe(true);
    expect(s.chif.counters().commands.info).toBe(1); // the info was still done
    expect((await chif.exchange(P.info(key))).status).toBe(0); // echoes again
    expect((await chif.exchange(P.read(0, 10, key))).response.readUInt32LE(24)).toBe(0);
    expect((await chif.exchange(P.read(0, 10, key))).response.readUInt32LE(24)).toBe(0);
    expect((await chif.exchange(P.read(0, 10, key))).response.readUInt32LE(24)).toBe(4);
    expect(s.chif.faults()).toEqual({});
  });

  it('announceBlobSize: get_info announces that size, reads past the blob\'s end get filler, until cleared', async () => {
    const { s, chif } = await sim({ chifFaults: { announceBlobSize: 0xfffffff0 } });
    const key = chif.newKey();
    await chif.status(P.create(key));
    await chif.status(P.write(0, Buffer.from('data'), key));
    expect((await chif.exchange(P.info(key))).response.readUInt32LE(24)).toBe(0xfffffff0);
    const read = (await chif.exchange(P.read(0, 10, key))).response;
    expect(read.readUInt32LE(24)).toBe(10);
    expect(read.subarray(28, 38).toString()).toBe('data      ');
    expect((await chif.exchange(P.read(1_000_000, 10, key))).response.readUInt32LE(24)).toBe(10);
    expect(s.chif.faults()).toEqual({ announceBlobSize: 0xfffffff0 });
    s.chif.setFaults({ announceBlobSize: null });
    expect((await chif.exchange(P.info(key))).response.readUInt32LE(24)).toBe(4);
    expect((await chif.exchange(P.read(4, 10, key))).response.readUInt32LE(24)).toBe(0);
  });

  it('closeDelayMs delays the CLOSE answer', async () => {
    // Shown by order: a delayed CLOSE is still unanswered after later frames' round trips.
    const { s, chif } = await sim({ chifFaults: { closeDelayMs: 60_000 } });
    let answered = false;
    const closing = chif.close().finally(() => (answered = true)).catch(() => undefined);
    await until(() => s.chif.counters().frames.close === 1, 'the CLOSE arrived');
    expect(await chif.ping()).toBe(0);
    expect(answered).toBe(false);
    s.chif.setFaults({ closeDelayMs: null });
    expect(await chif.close()).toBe(0); // undelayed now: answered while the first still waits
    expect(answered).toBe(false);
    await s.close();
    await closing;
  });

  it('are set, shown and cleared through the control view, which refuses bad knobs', async () => {
    const { s, chif } = await sim();
    const https = client(s);
    const headers = { 'X-Sim-Control': s.controlToken };
    try {
      const put = await https.call('PUT', '/__sim/chif-faults', { headers, body: { ping: 32, exchange: { rc: 8, times: 0 } } });
      expect(put.status).toBe(200);
      expect(put.json).toEqual({ ping: 32, exchange: { rc: 8, times: 0 } });
      expect(await chif.ping()).toBe(32);
      for (let i = 0; i < 3; i++) expect((await chif.exchange(P.info('a'))).rc).toBe(8);
      const state = await https.call('GET', '/__sim/state', { headers });
      expect(state.json.chif.faults).toEqual({ ping: 32, exchange: { rc: 8, times: 0 } });
      expect(state.json.chif.counters.frames).toMatchObject({ ping: 1, exchange: 3 });
      for (const body of [{ nonsense: 1 }, { ping: -1 }, { exchange: { rc: 8, often: true } }, { sequenceMismatch: 'yes' }]) {
        expect((await https.call('PUT', '/__sim/chif-faults', { headers, body })).status).toBe(400);
      }
      expect(s.chif.faults()).toEqual({ ping: 32, exchange: { rc: 8, times: 0 } });
      expect((await https.call('DELETE', '/__sim/chif-faults', { headers })).status).toBe(200);
      expect(await chif.ping()).toBe(0);
      expect((await https.call('PUT', '/__sim/chif-faults', { body: { ping: 19 } })).status).toBe(401);
    } finally {
      https.close();
    }
  });

  it('the request faults apply in-band too: hang holds the answer, drop cuts the connection', async () => {
    const { s, chif } = await sim();
    s.faults.inject({ type: 'hang', path: '/redfish/v1/Systems/1' });
    let done = false;
    const held = chif.rest('GET', '/redfish/v1/Systems/1').then((r) => {
      done = true;
      return r;
    });
    await until(() => s.faults.held === 1, 'the GET is held');
    expect(await chif.ping()).toBe(0); // a later frame's round trip
    expect(done).toBe(false);
    expect(s.faults.release()).toBe(1);
    expect((await held).status).toBe(200);
    s.faults.inject({ type: 'drop' });
    expect(await raw(s.chifSocket as string, frame(OP.exchange, Buffer.concat([Buffer.from([1]), counted(''), Buffer.from([0, 16, 0, 0]), P.rest(httpRequest('GET', '/redfish/v1'), 'r')])))).toEqual(
      Buffer.alloc(0),
    );
  });
});

describe('robustness', () => {
  it('answers rc 5 to frames it cannot read, and keeps serving', async () => {
    const { s, chif } = await sim();
    const path = s.chifSocket as string;
    const rc5 = (bytes: Buffer) => {
      const { payload } = unframe(bytes);
      expect(payload.readUInt32LE(0)).toBe(5);
    };
    const lengthOnly = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    rc5(await raw(path, lengthOnly(0)));
    rc5(await raw(path, lengthOnly(0xffffffff)));
    rc5(await raw(path, frame(99)));
    rc5(await raw(path, frame(OP.verify, Buffer.from([5, 0, 65]))));
    rc5(await raw(path, frame(OP.exchange, Buffer.from([1]))));
    rc5(await raw(path, frame(OP.exchange, Buffer.from([7, 0, 0, 0, 16, 0, 0, ...P.info('a')]))));
    const tiny = Buffer.from([1, 0, 0, 0, 16, 0, 0, 4, 0, 1, 0, 2, 1, 2, 0]);
    rc5(await raw(path, frame(OP.exchange, tiny)));
    const overlong = P.info('a');
    overlong.writeUInt16LE(500, 0);
    rc5(await raw(path, frame(OP.exchange, Buffer.concat([Buffer.from([1, 0, 0, 0, 16, 0, 0]), overlong]))));
    rc5(await raw(path, frame(OP.ping).subarray(0, 3), true));
    rc5(await raw(path, Buffer.concat([lengthOnly(10), Buffer.from([1, 2])]), true));
    expect(await raw(path, Buffer.alloc(0), true)).toEqual(Buffer.alloc(0));
    // a packet for another service, or an unknown command: blob status 2
    const other = P.info('a');
    other.writeUInt16LE(0x0009, 6);
    expect(await chif.status(other)).toBe(2);
    expect(await chif.status(packet(0x0199, 72))).toBe(2);
    expect(s.chif.counters().frames.bad).toBe(10);
    expect(await chif.ping()).toBe(0);
    expect((await chif.rest('GET', '/redfish/v1')).status).toBe(200);
  });

  it('removes its socket at close, replaces a stale one, and refuses a file or a live socket', async () => {
    // a stale socket: its listener was killed, so the file stayed behind
    const path = socketPath();
    const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
    expect(spawnSync(process.execPath, ['-e', script]).signal).toBe('SIGKILL');
    expect(lstatSync(path).isSocket()).toBe(true);
    const { s: live } = await sim();
    const s = await startSimulator({ chifSocket: path });
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(await emulator(path).ping()).toBe(0);
    await s.close();
    expect(existsSync(path)).toBe(false);

    await expect(startSimulator({ chifSocket: live.chifSocket as string })).rejects.toThrow(/in use/);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a socket');
    await expect(startSimulator({ chifSocket: file })).rejects.toThrow(/not a socket/);
    await expect(startSimulator({ chifSocket: join(dir, 'x'.repeat(120)) })).rejects.toThrow(/at most 107/);
    expect(existsSync(file)).toBe(true);
    const livePath = live.chifSocket as string;
    await live.close();
    expect(existsSync(livePath)).toBe(false);
  });
});
