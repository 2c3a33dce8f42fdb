// The CHIF emulator library (native-bindings/emulator, built to dist/native/libilorestchif.so),
// driven through koffi like the in-band transport drives HPE's library, against a tiny fake
// simulator speaking the frames of native-bindings/PROTOCOL.md. The fake runs in this process,
// so every call that reaches it goes through koffi's async form (a sync call would block the
// event loop that has to answer it).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import type { IKoffiLib } from 'koffi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

const LIB = join(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const HEADER = join(PROJECT_ROOT, 'native-bindings/ilorest_chif.h');
const SOCKET_ENV = 'ILO_CHIF_EMULATOR_SOCKET';
const CLEARS_ENV = 'ILO_CHIF_EMULATOR_INIT_CLEARS_CREDENTIALS';
const OP = { PING: 1, CREATE: 2, SECURITY: 3, VERIFY: 4, EXCHANGE: 5, CLOSE: 6, APP_DETECT: 16 } as const;

type Fn = ReturnType<IKoffiLib['func']>;
type Handle = unknown;

/** Calls fn on a koffi worker thread. */
function later<T>(fn: Fn, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => fn.async(...args, (err: unknown, rc: T) => (err ? reject(err) : resolve(rc))));
}

/** The exported function names of the header, and each prototype in koffi's syntax. */
function headerPrototypes(): Map<string, string> {
  const text = readFileSync(HEADER, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^CHIF_API\s+([^;#]+\));/gm)) {
    const proto = (m[1] as string).replace(/\s+/g, ' ').replace(/CHIF_HANDLE/g, 'void *');
    const name = /([A-Za-z_]\w*)\s*\(/.exec(proto)?.[1];
    if (name) out.set(name, proto);
  }
  return out;
}

// ---- the fake simulator ------------------------------------------------------------------------

interface Frame {
  op: number;
  payload: Buffer;
}
interface Exchange {
  auth: number;
  user: string;
  recvSize: number;
  packet: Buffer;
}

class FakeSimulator {
  readonly frames: Frame[] = [];
  pingRc = 0;
  createRc = 0;
  required = 0;
  password = 'good';
  /** answer: echo a 64-byte response (ignoring recvSize, so the emulator must cut it); hang:
   * never answer; close: hang up; short: a frame too short to hold the rc. */
  exchange: 'answer' | 'hang' | 'close' | 'short' = 'answer';
  private readonly sockets = new Set<Socket>();
  private server!: Server;

  constructor(readonly path: string) {}

  start(): Promise<void> {
    this.server = createServer((socket) => this.accept(socket));
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  exchanges(): Exchange[] {
    return this.frames
      .filter((f) => f.op === OP.EXCHANGE)
      .map(({ payload: p }) => {
        const n = p.readUInt16LE(1);
        return { auth: p[0] as number, user: p.subarray(3, 3 + n).toString(), recvSize: p.readUInt32LE(3 + n), packet: p.subarray(7 + n) };
      });
  }

  lastExchange(): Exchange {
    const all = this.exchanges();
    return all[all.length - 1] as Exchange;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {}); // the emulator hangs up after reading what it wanted
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readUInt32LE(0)) return;
      const frame = { op: buf[4] as number, payload: Buffer.from(buf.subarray(5, 4 + buf.readUInt32LE(0))) };
      this.frames.push(frame);
      this.answer(socket, frame);
    });
  }

  private answer(socket: Socket, { op, payload }: Frame): void {
    const u32 = (v: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      return b;
    };
    const reply = (body: Buffer) => {
      const head = Buffer.alloc(5);
      head.writeUInt32LE(1 + body.length);
      head[4] = op;
      socket.end(Buffer.concat([head, body]));
    };
    switch (op) {
      case OP.PING:
        return reply(u32(this.pingRc));
      case OP.CREATE:
      case OP.CLOSE:
        return reply(u32(op === OP.CREATE ? this.createRc : 0));
      case OP.SECURITY:
        return reply(u32(this.required));
      case OP.APP_DETECT: // rc, type, state, as an iLO 6 simulator answers (the full set: app-accounts.test.ts)
        return reply(Buffer.concat([u32(0), u32(6), u32(this.required > 0 ? 4 : 3)]));
      case OP.VERIFY: {
        const n = payload.readUInt16LE(0);
        const password = payload.subarray(4 + n, 4 + n + payload.readUInt16LE(2 + n)).toString();
        return reply(u32(password === this.password ? 0 : 13));
      }
      case OP.EXCHANGE: {
        if (this.exchange === 'hang') return;
        if (this.exchange === 'close') return void socket.destroy();
        if (this.exchange === 'short') return void socket.end(Buffer.from([3, 0, 0, 0, op, 0, 0]));
        const rq = this.exchanges().at(-1) as Exchange;
        const rsp = Buffer.alloc(64, 0xa5);
        rsp.writeUInt16LE(64, 0);
        rsp.writeUInt16LE(rq.packet.readUInt16LE(2), 2);
        rsp.writeUInt16LE(rq.packet.readUInt16LE(4) | 0x8000, 4);
        rsp.writeUInt16LE(rq.packet.readUInt16LE(6), 6);
        rsp.writeUInt32LE(0, 8);
        return reply(Buffer.concat([u32(0), rsp]));
      }
    }
  }
}

// ---- the library -------------------------------------------------------------------------------

const skip = process.platform !== 'linux';

describe.skipIf(skip)('CHIF emulator library', () => {
  let dir: string;
  let sim: FakeSimulator;
  let lib: IKoffiLib;
  const fns = new Map<string, Fn>();
  /** A function declared in beforeAll, by name. */
  const f = (name: string): Fn => {
    const fn = fns.get(name);
    if (!fn) throw new Error(`${name} is not declared`);
    return fn;
  };

  /** A copy of a builder's template (n bytes), taken before the next builder call. */
  const template = (ptr: unknown, n: number) => Buffer.from(koffi.decode(ptr, 'uint8_t', n) as Uint8Array);

  /** Creates a channel through the fake simulator. */
  async function open(): Promise<Handle> {
    const out: Handle[] = [null];
    expect(await later<number>(f('ChifCreate'), out)).toBe(0);
    expect(out[0]).not.toBeNull();
    return out[0];
  }

  /** A fresh delete_blob request (80 bytes): the smallest packet the fake answers. */
  function deletePacket(): Buffer {
    return template(f('delete_blob')('k', 'volatile'), 80);
  }

  async function exchange(h: Handle, send: Buffer, recv = Buffer.alloc(4096), recvSize = recv.length): Promise<number> {
    return later<number>(f('ChifPacketExchange'), h, send, recv, recvSize);
  }

  beforeAll(async () => {
    if (!existsSync(LIB)) throw new Error(`${LIB} is missing: run npm run build (or node scripts/build-emulator.mjs)`);
    try {
      koffi.config({ ...koffi.config(), async_stack_size: 8 << 20, sync_stack_size: 8 << 20 });
    } catch {
      // another test file in this worker loaded a library first; the default stacks do here
    }
    lib = koffi.load(LIB);
    dir = mkdtempSync(join(tmpdir(), 'chif-emulator-'));
    sim = new FakeSimulator(join(dir, 'chif.sock'));
    const decl = [
      'void ChifInitialize(void *reserved)',
      'uint32_t ChifCreate(_Out_ void **out)',
      'uint32_t ChifPing(void *h)',
      'void ChifSetRecvTimeout(void *h, int ms)',
      'uint32_t ChifPacketExchange(void *h, const uint8_t *send, _Out_ uint8_t *recv, int recvSize)',
      'uint32_t ChifPacketExchangeSpecifyTimeout(void *h, const uint8_t *send, _Out_ uint8_t *recv, uint32_t recvSize, uint32_t timeoutMs)',
      'uint32_t ChifClose(void *h)',
      'int ChifIsSecurityRequired(void)',
      'void ChifDisableSecurity(void)',
      'void ChifEnableSecurity(void)',
      'int ChifGetSecuritySupport(void)',
      'uint8_t *initiate_credentials(const char *user, const char *password)',
      'int ChifVerifyCredentials(void)',
      'char *login_cert(void *h, const char *cert, const char *key, const char *pass)',
      'void updaterandval(uint16_t value)',
      'bool enabledebugoutput(const char *directory)',
      'void encode_credentials(const char *in, _Out_ uint8_t *out)',
      'void decode_credentials(const char *in, _Out_ uint8_t *out)',
      'uint8_t *create_not_blobentry(const char *key, const char *ns)',
      'uint8_t *create_not_blobentrybc(const char *key, const char *ns)',
      'uint8_t *get_info(const char *key, const char *ns)',
      'uint8_t *read_fragment(uint32_t offset, uint32_t count, const char *key, const char *ns)',
      'uint8_t *write_fragment(uint32_t offset, uint32_t count, const char *key, const char *ns)',
      'uint8_t *finalize_blob(const char *key, const char *ns)',
      'uint8_t *delete_blob(const char *key, const char *ns)',
      'uint8_t *list_blob(const char *ns)',
      'uint8_t *rest_immediate(uint32_t len, const char *rspKey, const char *ns)',
      'uint8_t *rest_immediate_blobdesc(const char *rqtKey, const char *rspKey, const char *ns)',
      'uint8_t *get_security_state(void)',
      'int DetectILO(const char *appid, _Out_ int *iloType, _Out_ int *securityState)',
      'int ReadyToUse(void)',
      'int GetSessionID(const char *appid, const char *appname, const char *salt, _Out_ char **id, _Out_ char **location)',
      'wchar_t *GetIPAddress(void)',
    ];
    for (const d of decl) fns.set(/(\w+)\(/.exec(d)?.[1] as string, lib.func(d));
    await sim.start();
    process.env[SOCKET_ENV] = sim.path;
  });

  afterAll(async () => {
    delete process.env[SOCKET_ENV];
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports every function of ilorest_chif.h with its prototype, and nothing else', () => {
    const protos = headerPrototypes();
    expect(protos.size).toBeGreaterThan(70);
    for (const proto of protos.values()) expect(() => lib.func(proto), proto).not.toThrow();
    const defined = execFileSync('nm', ['-D', '--defined-only', LIB], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[2])
      .filter((name): name is string => !!name);
    expect(defined.sort()).toEqual([...protos.keys()].sort());
    expect(execFileSync('readelf', ['-d', LIB], { encoding: 'utf8' })).toMatch(/FLAGS_1.*NODELETE/);
  });

  it('answers the PROTOCOL.md sizes', () => {
    const sizes: Record<string, number> = {
      get_max_buffer_size: 4096, max_write_size: 3500, max_read_size: 4000,
      size_of_createRequest: 88, size_of_infoRequest: 84, size_of_deleteRequest: 80, size_of_finalizeRequest: 76,
      size_of_readRequest: 96, size_of_readResponse: 3932, size_of_writeRequest: 100, size_of_listRequest: 44,
      size_of_listResponse: 4096, size_of_responseHeaderBlob: 24, size_of_restImmediateRequest: 80,
      size_of_restBlobRequest: 112, size_of_restResponseFixed: 32, size_of_securityStateRequest: 60,
      size_of_embeddedMediaRequest: 16, size_of_createResponse: 12, size_of_writeResponse: 12,
      size_of_deleteResponse: 12, size_of_finalizeResponse: 12, size_of_infoResponse: 28, size_of_restResponse: 4096,
      size_of_srbuf: 4096, size_of_listResponseFixed: 16, size_of_securityStateResponse: 76, size_of_embeddedMediaResponse: 16,
    };
    const actual = Object.fromEntries(Object.keys(sizes).map((name) => [name, lib.func(`uint32_t ${name}(void)`)() as number]));
    expect(actual).toEqual(sizes);
  });

  describe('builders', () => {
    const name = (b: Buffer, at: number) => b.subarray(at, at + 32);
    const padded = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc(32 - s.length)]);

    it('write the header: length, a sequence seeded by updaterandval, command, service 2', () => {
      f('updaterandval')(1000);
      const a = template(f('create_not_blobentry')('rqtKey0001', 'volatile'), 88);
      const b = template(f('get_info')('rqtKey0001', 'volatile'), 84);
      expect([a.readUInt16LE(0), a.readUInt16LE(2), a.readUInt16LE(4), a.readUInt16LE(6)]).toEqual([88, 1000, 0x0101, 2]);
      expect(name(a, 8)).toEqual(padded('rqtKey0001'));
      expect(name(a, 40)).toEqual(padded('volatile'));
      expect([b.readUInt16LE(0), b.readUInt16LE(2), b.readUInt16LE(4)]).toEqual([84, 1001, 0x0102]);

      f('updaterandval')(65535);
      const seqs = [0, 1, 2].map(() => template(f('get_security_state')(), 60).readUInt16LE(2));
      expect(seqs).toEqual([65535, 1, 2]); // never 0
      f('updaterandval')(0);
      expect(template(f('get_security_state')(), 60).readUInt16LE(2)).toBe(1);
    });

    it('lay out every request as PROTOCOL.md says', () => {
      const read = template(f('read_fragment')(7808, 3904, 'rsp', 'volatile'), 96);
      expect([read.readUInt16LE(0), read.readUInt16LE(4), read.readUInt32LE(72), read.readUInt32LE(76)]).toEqual([96, 0x0103, 7808, 3904]);
      expect(name(read, 8)).toEqual(padded('rsp'));

      const write = template(f('write_fragment')(3400, 7, 'rqt', 'volatile'), 100);
      expect([write.readUInt16LE(0), write.readUInt16LE(4), write.readUInt32LE(72), write.readUInt32LE(76)]).toEqual([107, 0x0104, 3400, 7]);
      expect(name(write, 40)).toEqual(padded('volatile'));

      const fin = template(f('finalize_blob')('rqt', 'volatile'), 76);
      const del = template(f('delete_blob')('rqt', 'volatile'), 80);
      const list = template(f('list_blob')('volatile'), 44);
      expect([fin.readUInt16LE(0), fin.readUInt16LE(4), del.readUInt16LE(0), del.readUInt16LE(4)]).toEqual([76, 0x0105, 80, 0x0106]);
      expect([list.readUInt16LE(0), list.readUInt16LE(4)]).toEqual([44, 0x0107]);
      expect(name(list, 8)).toEqual(padded('volatile'));

      const rest = template(f('rest_immediate')(117, 'rspKey0001', 'volatile'), 80);
      expect([rest.readUInt16LE(0), rest.readUInt16LE(4), rest.readUInt32LE(72)]).toEqual([197, 0x0110, 117]);
      expect(name(rest, 8)).toEqual(padded('rspKey0001'));
      expect(template(f('rest_immediate')(70_000, 'r', 'volatile'), 80).readUInt16LE(0)).toBe(0xffff); // refused by the exchange

      const blob = template(f('rest_immediate_blobdesc')('rqtKey0001', 'rspKey0001', 'volatile'), 112);
      expect([blob.readUInt16LE(0), blob.readUInt16LE(4)]).toEqual([112, 0x0111]);
      expect([name(blob, 8), name(blob, 40), name(blob, 72)]).toEqual([padded('rqtKey0001'), padded('rspKey0001'), padded('volatile')]);

      const sec = template(f('get_security_state')(), 60);
      expect([sec.readUInt16LE(0), sec.readUInt16LE(4), sec.readUInt16LE(6)]).toEqual([60, 0x0120, 2]);

      const bc = template(f('create_not_blobentrybc')('k', 'volatile'), 4096);
      expect([bc.readUInt16LE(0), bc.readUInt16LE(4)]).toEqual([88, 0x0101]);
      expect(bc.subarray(72).every((x) => x === 0)).toBe(true);

      const media = ['blackbox_media_mount', 'absaroka_media_mount', 'gaius_media_mount', 'vid_media_mount', 'flat_media_mount',
        'media_unmount', 'bb_media_unmount', 'vid_media_unmount', 'gaius_media_unmount', 'absaroka_media_unmount'];
      media.forEach((m, n) => {
        const p = template(lib.func(`uint8_t *${m}(void)`)(), 16);
        expect([p.readUInt16LE(0), p.readUInt16LE(4), p.readUInt16LE(6)], m).toEqual([16, 0x0130 + n, 2]);
      });
    });

    it('fill a 32-byte name field exactly, and leave it empty for a longer name (the simulator answers 2)', () => {
      const fits = 'k'.repeat(32);
      const p = template(f('get_info')(fits, 'x'.repeat(33)), 84);
      expect(name(p, 8)).toEqual(Buffer.from(fits));
      expect(name(p, 40)).toEqual(Buffer.alloc(32));
      expect(p.readUInt32LE(72)).toBe(0);
    });
  });

  describe('channel', () => {
    it('ChifCreate answers 19 (no driver) with the socket unset or absent, and needs no simulator', () => {
      const out: Handle[] = ['x'];
      delete process.env[SOCKET_ENV];
      try {
        expect(f('ChifCreate')(out)).toBe(19);
        expect(out[0]).toBeNull();
        expect(f('ChifIsSecurityRequired')()).toBe(-1);
        process.env[SOCKET_ENV] = join(dir, 'nobody-listens.sock');
        expect(f('ChifCreate')(out)).toBe(19);
      } finally {
        process.env[SOCKET_ENV] = sim.path;
      }
    });

    it('forwards CREATE, PING and CLOSE and returns the simulator rc', async () => {
      const before = sim.frames.length;
      const h = await open();
      sim.pingRc = 32;
      expect(await later(f('ChifPing'), h)).toBe(32);
      sim.pingRc = 0;
      expect(await later(f('ChifPing'), h)).toBe(0);
      expect(await later(f('ChifClose'), h)).toBe(0);
      expect(sim.frames.slice(before).map((x) => x.op)).toEqual([OP.CREATE, OP.PING, OP.PING, OP.CLOSE]);

      sim.createRc = 13;
      const out: Handle[] = [null];
      expect(await later(f('ChifCreate'), out)).toBe(13);
      expect(out[0]).toBeNull();
      sim.createRc = 0;
      expect(f('ChifClose')(null)).toBe(22);
      expect(f('ChifPing')(null)).toBe(22);
    });

    it('ChifPacketExchange sends exactly u16@0 bytes and writes at most recvSize bytes', async () => {
      const h = await open();
      const http = Buffer.from('GET /redfish/v1 HTTP/1.1\r\n\r\n');
      const rq = template(f('rest_immediate')(http.length, 'rspKey0001', 'volatile'), 80);
      // bytes past u16@0 are not part of the packet (the caller's buffer may end there)
      const send = Buffer.concat([rq, http, Buffer.alloc(500, 0x77)]);
      const recv = Buffer.alloc(64, 0xee);
      expect(await exchange(h, send, recv, 20)).toBe(0);
      const seen = sim.lastExchange();
      expect(seen.packet).toEqual(send.subarray(0, 80 + http.length));
      expect(seen.recvSize).toBe(20);
      expect(recv.readUInt16LE(2)).toBe(rq.readUInt16LE(2));
      expect(recv.readUInt16LE(4)).toBe(0x8110);
      expect(recv.subarray(12, 20).every((x) => x === 0xa5)).toBe(true);
      expect(recv.subarray(20).every((x) => x === 0xee)).toBe(true); // past recvSize: untouched

      const full = Buffer.alloc(4096);
      expect(await later(f('ChifPacketExchangeSpecifyTimeout'), h, deletePacket(), full, 4096, 5000)).toBe(0);
      expect([full.readUInt16LE(0), full.readUInt32LE(8), full[63], full[64]]).toEqual([64, 0, 0xa5, 0]);
      await later(f('ChifClose'), h);
    });

    it('refuses a packet shorter than 8 or longer than 4096 bytes without sending it', async () => {
      const h = await open();
      const before = sim.frames.length;
      for (const length of [0, 4, 7, 4097, 5000]) {
        const send = Buffer.alloc(5000);
        send.writeUInt16LE(length, 0);
        expect(await exchange(h, send), `length ${length}`).toBe(22);
      }
      expect(await exchange(h, deletePacket(), Buffer.alloc(16), -1)).toBe(22);
      expect(sim.frames.length).toBe(before);
      await later(f('ChifClose'), h);
    });

    it('times out with 110 after ChifSetRecvTimeout(h, 200) when the simulator never answers', async () => {
      const h = await open();
      f('ChifSetRecvTimeout')(h, 200);
      sim.exchange = 'hang';
      try {
        // The simulator never answers: only the receive timeout can end these calls (a missing
        // one would hang them until the test's own timeout).
        const before = sim.frames.length;
        expect(await exchange(h, deletePacket())).toBe(110);
        expect(await later(f('ChifPacketExchangeSpecifyTimeout'), h, deletePacket(), Buffer.alloc(4096), 4096, 100)).toBe(110);
        expect(sim.frames.length - before).toBe(2); // both were sent, neither answered
      } finally {
        sim.exchange = 'answer';
      }
      await later(f('ChifClose'), h);
    });

    it('answers 5 (EIO) to a hang-up or a garbled answer', async () => {
      const h = await open();
      try {
        sim.exchange = 'close';
        expect(await exchange(h, deletePacket())).toBe(5);
        sim.exchange = 'short';
        expect(await exchange(h, deletePacket())).toBe(5);
      } finally {
        sim.exchange = 'answer';
      }
      await later(f('ChifClose'), h);
    });

    it('runs 50 concurrent exchanges on separate handles', async () => {
      const handles = await Promise.all(Array.from({ length: 50 }, () => open()));
      const packets = handles.map(() => deletePacket());
      const recvs = handles.map(() => Buffer.alloc(4096));
      const rcs = await Promise.all(handles.map((h, i) => exchange(h, packets[i] as Buffer, recvs[i])));
      expect(rcs).toEqual(Array(50).fill(0));
      recvs.forEach((r, i) => expect(r.readUInt16LE(2)).toBe((packets[i] as Buffer).readUInt16LE(2)));
      expect(await Promise.all(handles.map((h) => later(f('ChifClose'), h)))).toEqual(Array(50).fill(0));
    });
  });

  describe('security and credentials (library-global)', () => {
    it('sends auth 0, 1 after ChifDisableSecurity, 2 + user after verified credentials', async () => {
      const h = await open();
      const auth = async () => {
        expect(await exchange(h, deletePacket())).toBe(0);
        const { auth: a, user } = sim.lastExchange();
        return [a, user];
      };
      f('ChifEnableSecurity')();
      expect(await auth()).toEqual([0, '']);
      f('ChifDisableSecurity')();
      expect(await auth()).toEqual([1, '']);
      f('ChifInitialize')(null); // must not clear the disabled flag (docs/reference/chif-abi.md §5.2)
      expect(await auth()).toEqual([1, '']);

      expect(f('initiate_credentials')('Administrator', 'wrong')).not.toBeNull();
      expect(await later(f('ChifVerifyCredentials'))).toBe(13);
      const verify = sim.frames.filter((x) => x.op === OP.VERIFY).at(-1) as Frame;
      expect(verify.payload).toEqual(Buffer.from('\x0d\x00Administrator\x05\x00wrong', 'latin1'));
      expect(await auth()).toEqual([1, '']);

      f('initiate_credentials')('Administrator', 'good');
      expect(await later(f('ChifVerifyCredentials'))).toBe(0);
      expect(await auth()).toEqual([2, 'Administrator']);
      f('ChifEnableSecurity')();
      expect(await auth()).toEqual([2, 'Administrator']); // verified credentials win
      f('ChifInitialize')(null); // keeps credentials by default
      expect(await auth()).toEqual([2, 'Administrator']);

      process.env[CLEARS_ENV] = '1';
      try {
        f('ChifInitialize')(null);
        expect(await auth()).toEqual([0, '']);
      } finally {
        delete process.env[CLEARS_ENV];
      }
      f('initiate_credentials')('Administrator', 'good'); // the verified pair again (LIB-NEW)
      expect(await auth()).toEqual([2, 'Administrator']);
      f('initiate_credentials')('Administrator', 'other');
      expect(await auth()).toEqual([0, '']);
      f('ChifDisableSecurity')();
      await later(f('ChifClose'), h);
    });

    it('forwards ChifIsSecurityRequired; DetectILO sends its appid in op 16 and returns the answer', async () => {
      const type = [0];
      const state = [0];
      sim.required = 0;
      expect(await later(f('ChifIsSecurityRequired'))).toBe(0);
      expect(await later(f('DetectILO'), 'appid', type, state)).toBe(0);
      expect([type[0], state[0]]).toEqual([6, 3]);
      expect(sim.frames.at(-1)).toEqual({ op: OP.APP_DETECT, payload: Buffer.from('\x05\x00appid', 'latin1') });
      sim.required = 1;
      expect(await later(f('ChifIsSecurityRequired'))).toBe(1);
      expect(await later(f('DetectILO'), 'appid', type, state)).toBe(0);
      expect([type[0], state[0]]).toEqual([6, 4]);
      sim.required = 0;
      delete process.env[SOCKET_ENV];
      try {
        expect(f('DetectILO')('appid', type, state)).toBe(-1);
        expect(type[0]).toBe(100);
      } finally {
        process.env[SOCKET_ENV] = sim.path;
      }
    });

    it('answers the app-account functions with their failure codes when no simulator listens, and writes no debug file', () => {
      expect(f('ChifGetSecuritySupport')()).toBe(2);
      expect(f('login_cert')(null, 'c', 'k', 'p')).toBeNull();
      delete process.env[SOCKET_ENV];
      try {
        expect(f('ReadyToUse')()).toBe(-1);
        expect(f('GetIPAddress')()).toBe('16.1.15.1'); // the documented vNIC address
        const id: unknown[] = ['x'];
        const location: unknown[] = ['y'];
        expect(f('GetSessionID')('a', 'b', 'c', id, location)).toBe(-1);
        expect([id[0], location[0]]).toEqual([null, null]);
      } finally {
        process.env[SOCKET_ENV] = sim.path;
      }
      const logDir = mkdtempSync(join(dir, 'log-'));
      expect(f('enabledebugoutput')(logDir)).toBe(false);
      expect(readdirSync(logDir)).toEqual([]);
    });
  });

  it('encode_credentials / decode_credentials: base64 into a 128-byte buffer, always terminated', () => {
    const run = (fn: Fn, input: string) => {
      const out = Buffer.alloc(256, 0xcc);
      fn(input, out);
      const end = out.indexOf(0);
      expect(end).toBeGreaterThanOrEqual(0);
      expect(end).toBeLessThan(128);
      expect(out.subarray(128).every((x) => x === 0xcc)).toBe(true);
      return out.subarray(0, end);
    };
    for (const s of ['', 'a', 'ab', 'abc', 'Administrator:password', 'usér:pä$$w0rd!']) {
      const encoded = run(f('encode_credentials'), s).toString();
      expect(encoded).toBe(Buffer.from(s).toString('base64'));
      expect(run(f('decode_credentials'), encoded).toString()).toBe(s);
    }
    const long = 'x'.repeat(300);
    const cut = run(f('encode_credentials'), long).toString();
    expect(cut.length % 4).toBe(0);
    expect(Buffer.from(long).toString('base64').startsWith(cut)).toBe(true);
    expect(run(f('decode_credentials'), Buffer.from(long).toString('base64')).length).toBe(127);
  });

  it('survives a second load and dlclose/dlopen cycles with its state intact (-z nodelete)', () => {
    const second = koffi.load(LIB);
    const seed = second.func('void updaterandval(uint16_t value)');
    const build = second.func('uint8_t *get_security_state(void)');
    seed(4242);
    expect(template(f('get_security_state')(), 60).readUInt16LE(2)).toBe(4242); // one library, one state
    expect(template(build(), 60).readUInt16LE(2)).toBe(4243);
    second.unload();
    lib.unload(); // the last reference: without nodelete the state would go with it
    const third = koffi.load(LIB);
    expect(template(third.func('uint8_t *get_security_state(void)')(), 60).readUInt16LE(2)).toBe(4244);
    lib = third;
  });
});

describe.skipIf(skip)('CHIF emulator library over loopback TCP (how the Windows build reaches the simulator)', () => {
  const TCP_ENV = 'ILO_CHIF_EMULATOR_TCP';
  const SECRET_ENV = 'ILO_CHIF_EMULATOR_SECRET';

  it('opens each connection with the secret; a wrong secret is access denied (13), a non-loopback address or no listener no driver (19)', async () => {
    const lib = koffi.load(LIB);
    const create = lib.func('uint32_t ChifCreate(_Out_ void **out)');
    const ping = lib.func('uint32_t ChifPing(void *h)');
    const close = lib.func('uint32_t ChifClose(void *h)');
    const sim = await startSimulator({ loginFailureDelayMs: 0, chifTcp: {} });
    const { address, secret } = sim.chifTcp as { address: string; secret: string };
    const freePort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const saved = process.env[SOCKET_ENV];
    delete process.env[SOCKET_ENV];
    try {
      process.env[TCP_ENV] = address;
      process.env[SECRET_ENV] = secret;
      const out: Handle[] = [null];
      expect(await later<number>(create, out)).toBe(0);
      expect(await later<number>(ping, out[0])).toBe(0);
      expect(await later<number>(close, out[0])).toBe(0);
      expect(sim.state().chif.counters.frames).toMatchObject({ create: 1, ping: 1, close: 1 });

      process.env[SECRET_ENV] = `${secret}x`;
      expect(await later<number>(create, [null])).toBe(13);
      delete process.env[SECRET_ENV];
      expect(await later<number>(create, [null])).toBe(13);
      process.env[SECRET_ENV] = secret;
      process.env[TCP_ENV] = address.replace('127.0.0.1', '192.0.2.1');
      expect(await later<number>(create, [null])).toBe(19);
      process.env[TCP_ENV] = `127.0.0.1:${freePort}`;
      expect(await later<number>(create, [null])).toBe(19);
      expect(sim.state().chif.counters.frames.create).toBe(1);
    } finally {
      delete process.env[TCP_ENV];
      delete process.env[SECRET_ENV];
      if (saved !== undefined) process.env[SOCKET_ENV] = saved;
      await sim.close();
    }
  });
});

// The Windows build (mingw-w64): its export table against the header; it is driven under Wine by
// test/deploy/windows-inband.test.ts.
const DLL = join(PROJECT_ROOT, 'dist/native/ilorest_chif.dll');
const OBJDUMP = 'x86_64-w64-mingw32-objdump';
const dllMissing = skip ? `not on ${process.platform}` : existsSync(DLL) ? undefined : `${DLL} is missing: install the mingw-w64 cross compiler (apt-get install gcc-mingw-w64-x86-64) and run npm run build`;
if (dllMissing && process.env.CI === 'true') {
  it('builds ilorest_chif.dll (required when CI=true)', () => {
    throw new Error(dllMissing);
  });
}

describe.skipIf(dllMissing !== undefined)(`ilorest_chif.dll, the Windows x64 build${dllMissing ? ` (SKIPPED: ${dllMissing})` : ''}`, () => {
  it('exports every function of ilorest_chif.h by name and nothing else, and imports only what every Windows has', () => {
    const dump = execFileSync(OBJDUMP, ['-p', DLL], { encoding: 'utf8' });
    expect(dump).toMatch(/^Magic\s+020b\s+\(PE32\+\)/m);
    const table = dump.slice(dump.indexOf('[Ordinal/Name Pointer] Table'));
    const exported = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\s*\[\s*\d+\]\s+(\S+)$/gm)].map((m) => m[1] as string);
    expect(exported.sort()).toEqual([...headerPrototypes().keys()].sort());
    const imports = [...dump.matchAll(/DLL Name: (\S+)/g)].map((m) => (m[1] as string).toUpperCase()).sort();
    expect(imports).toEqual(['KERNEL32.DLL', 'MSVCRT.DLL', 'WS2_32.DLL']);
  });
});
