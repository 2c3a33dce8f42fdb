// The ChifLibrary that loadChifLibrary returns, driven against the emulator of HPE's library
// (dist/native/libilorestchif.so) and the simulator's CHIF socket: sizes read from the library,
// return codes passed through, builders copied, and the security/credential calls reaching the
// library. A small C library (cc) stands in for an older or broken HPE library: missing symbols,
// sizes that do not fit, a builder that returns NULL. Runs in a fork: the emulator reads
// ILO_CHIF_EMULATOR_SOCKET with getenv().
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { APP_ACCOUNT_SYMBOLS, loadChifLibrary, nativeCallsPending, type ChifLibrary } from '../../src/binding/index.js';
import { loadKoffi } from '../../src/binding/chif-library.js';
import { ChifLibraryError } from '../../src/errors.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { rejectionOf } from '../helpers/wait.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const SOCKET_ENV = 'ILO_CHIF_EMULATOR_SOCKET';
const CLEARS_ENV = 'ILO_CHIF_EMULATOR_INIT_CLEARS_CREDENTIALS';

// native-bindings/PROTOCOL.md's table, under the names ChifSizes gives them.
const EMULATOR_SIZES = {
  maxBuffer: 4096,
  maxWrite: 3500,
  maxRead: 4000,
  createRequest: 88,
  infoRequest: 84,
  readRequest: 96,
  writeRequest: 100,
  deleteRequest: 80,
  finalizeRequest: 76,
  responseHeaderBlob: 24,
  restImmediateRequest: 80,
  restBlobRequest: 112,
  restResponseFixed: 32,
  securityStateRequest: 60,
};

/** A 32-byte name field of a request. */
const field = (packet: Buffer, at: number) => packet.subarray(at, at + 32).toString('latin1').replace(/\0+$/, '');
/** [length, command, service] of a request header (the sequence is @2). */
const header = (packet: Buffer) => [packet.readUInt16LE(0), packet.readUInt16LE(4), packet.readUInt16LE(6)];

describe('the emulator through loadChifLibrary', () => {
  let dir: string;
  let sim: Simulator;
  let lib: ChifLibrary;
  const opened: unknown[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ilo-agent-binding-'));
    const chifSocket = join(dir, 'chif.sock');
    sim = await startSimulator({ loginFailureDelayMs: 0, chifSocket });
    process.env[SOCKET_ENV] = chifSocket;
  });
  // Loaded for each test, not once: what bind() does at load time then counts as that test's
  // (Stryker runs a mutant only against the tests that reach it, and a beforeAll belongs to none).
  beforeEach(async () => {
    lib = await loadChifLibrary(EMULATOR);
  });
  afterEach(() => {
    sim.chif.setFaults({ ping: null, create: null, securityRequired: null, verify: null, exchange: null });
    process.env[SOCKET_ENV] = join(dir, 'chif.sock');
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    for (const handle of opened) await lib.close(handle);
    await sim.close();
    delete process.env[SOCKET_ENV];
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(): Promise<unknown> {
    const { rc, handle } = await lib.create();
    expect(rc).toBe(0);
    expect(handle).not.toBeNull();
    opened.push(handle);
    return handle;
  }

  it('reads every size from the library, and binds the app-account functions it has', () => {
    expect(lib.path).toBe(EMULATOR);
    expect(lib.sizes).toEqual(EMULATOR_SIZES);
    expect(lib.appAccountMissing).toEqual([]);
    expect(lib.appAccount).not.toBeNull();
    expect(lib.appAccountManagement.missing).toEqual([]);
  });

  it('seeds the library\'s sequence numbers at each load with 1 + a random 16-bit value (updaterandval)', async () => {
    // Math.random() = 0.5: the seed is 1 + floor(0.5 * 65535) = 32768, the first builder's sequence.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const again = await loadChifLibrary(EMULATOR);
    expect(again.securityState().readUInt16LE(2)).toBe(32768);
    expect(again.securityState().readUInt16LE(2)).toBe(32769);
  });

  it('each builder returns a copy of its template, as long as the library says, with the fields given', () => {
    const create = lib.createBlob('key0000001', 'volatile');
    const info = lib.blobInfo('key0000002', 'volatile');
    expect(header(create)).toEqual([88, 0x0101, 2]);
    expect(create).toHaveLength(88);
    // A copy: the library reuses its buffer at the next builder call.
    expect(field(create, 8)).toBe('key0000001');
    expect(field(create, 40)).toBe('volatile');
    expect([info.length, ...header(info)]).toEqual([84, 84, 0x0102, 2]);
    expect(field(info, 8)).toBe('key0000002');

    const read = lib.readFragment(7808, 3904, 'rsp', 'volatile');
    expect([read.length, ...header(read), read.readUInt32LE(72), read.readUInt32LE(76)]).toEqual([96, 96, 0x0103, 2, 7808, 3904]);
    const write = lib.writeFragment(3400, 7, 'rqt', 'volatile');
    expect([write.length, write.readUInt16LE(4), write.readUInt32LE(72), write.readUInt32LE(76)]).toEqual([100, 0x0104, 3400, 7]);
    expect(field(write, 8)).toBe('rqt');
    const finalize = lib.finalizeBlob('fin', 'volatile');
    expect([finalize.length, finalize.readUInt16LE(4), field(finalize, 8)]).toEqual([76, 0x0105, 'fin']);
    const del = lib.deleteBlob('del', 'volatile');
    expect([del.length, del.readUInt16LE(4), field(del, 8)]).toEqual([80, 0x0106, 'del']);
    const rest = lib.restImmediate(5, 'rspKey', 'volatile');
    expect([rest.length, rest.readUInt16LE(4), field(rest, 8), field(rest, 40), rest.readUInt32LE(72)]).toEqual([80, 0x0110, 'rspKey', 'volatile', 5]);
    const blob = lib.restBlobDesc('rqtKey', 'rspKey', 'volatile');
    expect([blob.length, blob.readUInt16LE(4), field(blob, 8), field(blob, 40), field(blob, 72)]).toEqual([112, 0x0111, 'rqtKey', 'rspKey', 'volatile']);
    const state = lib.securityState();
    expect([state.length, state.readUInt16LE(4)]).toEqual([60, 0x0120]);
  });

  it('create answers the driver\'s rc: 19 without a driver (async and blocking), 0 and a handle with one, or the fault', async () => {
    delete process.env[SOCKET_ENV];
    expect(await lib.create()).toEqual({ rc: 19, handle: null });
    expect(lib.createSync()).toEqual({ rc: 19, handle: null });
    process.env[SOCKET_ENV] = join(dir, 'chif.sock');
    await open();
    sim.chif.setFaults({ create: 13 });
    expect(await lib.create()).toEqual({ rc: 13, handle: null });
  });

  it('ping, close and the security query return the library\'s numbers', async () => {
    const handle = await open();
    expect(await lib.ping(handle)).toBe(0);
    sim.chif.setFaults({ ping: 32 });
    expect(await lib.ping(handle)).toBe(32);
    expect(await lib.isSecurityRequired()).toBe(0); // production
    sim.chif.setFaults({ securityRequired: 1 });
    expect(await lib.isSecurityRequired()).toBe(1);
    sim.chif.setFaults({ securityRequired: -1 });
    expect(await lib.isSecurityRequired()).toBe(-1);
    expect(await lib.close(null)).toBe(22); // the emulator's EINVAL for no handle
    const other = await lib.create();
    expect(await lib.close(other.handle)).toBe(0);
    expect(sim.chif.counters().frames.close).toBeGreaterThanOrEqual(1);
  });

  it('exchange: the security state and the credentials reach the library; the answer is a maxBuffer-sized buffer', async () => {
    const handle = await open();
    const exchange = async (key: string) => {
      const packet = lib.deleteBlob(key, 'volatile');
      const { rc, response } = await lib.exchange(handle, packet);
      if (rc === 0) {
        expect(response).toHaveLength(4096);
        expect(response.readUInt16LE(2)).toBe(packet.readUInt16LE(2)); // the request's sequence echoed
        expect(response.readUInt16LE(4)).toBe(0x8106);
      }
      return rc;
    };
    // Production without credentials nor ChifDisableSecurity: 8 (security required).
    expect(await exchange('k1')).toBe(8);
    lib.initiateCredentials('Administrator', 'wrong');
    expect(await lib.verifyCredentials()).toBe(13);
    lib.initiateCredentials('Administrator', 'password');
    expect(await lib.verifyCredentials()).toBe(0);
    expect(await exchange('k2')).toBe(0);
    sim.chif.setFaults({ verify: 95 });
    expect(await lib.verifyCredentials()).toBe(95);
    sim.chif.setFaults({ verify: null });
    expect(await lib.verifyCredentials()).toBe(0);
    // ChifInitialize forgets the credentials (as HPE's newer library does, with this variable set).
    process.env[CLEARS_ENV] = '1';
    try {
      lib.initialize();
    } finally {
      delete process.env[CLEARS_ENV];
    }
    expect(await exchange('k3')).toBe(8);
    lib.disableSecurity();
    expect(await exchange('k4')).toBe(0);
    sim.chif.setFaults({ exchange: 5 });
    expect(await exchange('k5')).toBe(5);
  });

  it('exchangeSync answers without the event loop (no handle: 22), with a maxBuffer-sized buffer', () => {
    const { rc, response } = lib.exchangeSync(null, lib.deleteBlob('k', 'volatile'));
    expect(rc).toBe(22);
    expect(response).toHaveLength(4096);
  });

  it('setRecvTimeout bounds the wait for an answer that never comes (110, ETIMEDOUT); the call is counted while it runs', async () => {
    const handle = await open();
    lib.disableSecurity();
    sim.faults.inject({ type: 'hang', on: 'request', path: '/redfish/v1/Systems/1' });
    try {
      lib.setRecvTimeout(handle, 200);
      const http = Buffer.from('GET /redfish/v1/Systems/1 HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const packet = Buffer.concat([lib.restImmediate(http.length, 'rspKey0001', 'volatile'), http]);
      const pending = lib.exchange(handle, packet);
      // Counted while it runs on a worker thread: a process leaving now must use exitNow.
      expect(nativeCallsPending()).toBe(true);
      expect((await pending).rc).toBe(110);
      expect(nativeCallsPending()).toBe(false);
    } finally {
      sim.faults.release();
    }
  });
});

// An older or broken library: the size functions (set at run time through stub_set), a builder
// that returns NULL, and nothing else.
const STUB = String.raw`
#include <stdint.h>
#include <stddef.h>
static int sizes[13] = { 4096, 3500, 4000, 88, 84, 96, 100, 80, 76, 24, 80, 112, 32 };
void stub_set(int i, int v) { sizes[i] = v; }
int get_max_buffer_size(void) { return sizes[0]; }
int max_write_size(void) { return sizes[1]; }
int max_read_size(void) { return sizes[2]; }
int size_of_createRequest(void) { return sizes[3]; }
int size_of_infoRequest(void) { return sizes[4]; }
int size_of_readRequest(void) { return sizes[5]; }
int size_of_writeRequest(void) { return sizes[6]; }
int size_of_deleteRequest(void) { return sizes[7]; }
int size_of_finalizeRequest(void) { return sizes[8]; }
int size_of_responseHeaderBlob(void) { return sizes[9]; }
int size_of_restImmediateRequest(void) { return sizes[10]; }
int size_of_restBlobRequest(void) { return sizes[11]; }
int size_of_restResponseFixed(void) { return sizes[12]; }
uint8_t *delete_blob(const char *key, const char *ns) { (void)key; (void)ns; return NULL; }
`;
const SIZE_INDEX = { maxBuffer: 0, maxWrite: 1, maxRead: 2, createRequest: 3, readRequest: 5, writeRequest: 6, restResponseFixed: 12 } as const;

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasCc && process.env.CI === 'true') {
  it('needs a C compiler (required when CI=true)', () => {
    throw new Error('no cc: install gcc');
  });
}

describe.skipIf(!hasCc || process.platform !== 'linux')(hasCc ? 'an older or broken library (a C stub)' : 'SKIPPED: no C compiler (cc)', () => {
  let dir: string;
  let stub: string;
  let set: (name: keyof typeof SIZE_INDEX, value: number) => void;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ilo-agent-stub-'));
    writeFileSync(join(dir, 'stub.c'), STUB);
    stub = join(dir, 'stub.so');
    execFileSync('cc', ['-shared', '-fPIC', '-o', stub, join(dir, 'stub.c')]);
    // The same loaded library as loadChifLibrary's (one dlopen handle per file).
    const setter = (await loadKoffi()).load(stub).func('void stub_set(int i, int v)');
    set = (name, value) => setter(SIZE_INDEX[name], value);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads, and each function it lacks fails when used, naming it; the optional ones answer as absent', async () => {
    const lib = await loadChifLibrary(stub);
    expect(lib.sizes).toEqual({ ...EMULATOR_SIZES, securityStateRequest: 0 });
    expect(lib.appAccount).toBeNull();
    expect(lib.appAccountMissing).toEqual([...APP_ACCOUNT_SYMBOLS]);
    expect(await lib.isSecurityRequired()).toBe(0);
    expect(() => lib.disableSecurity()).not.toThrow();
    expect(() => lib.setRecvTimeout(null, 200)).not.toThrow();
    const lacks = (name: string) => new RegExp(`^the CHIF library ${stub} has no ${name} \\(an older library\\?\\)$`);
    expect(() => lib.initialize()).toThrow(lacks('ChifInitialize'));
    expect(() => lib.initiateCredentials('a', 'b')).toThrow(lacks('initiate_credentials'));
    const ping = await rejectionOf(lib.ping(null));
    expect(ping).toBeInstanceOf(ChifLibraryError);
    expect(ping.message).toMatch(lacks('ChifPing'));
    expect((await rejectionOf(lib.verifyCredentials())).message).toMatch(lacks('ChifVerifyCredentials'));
    expect((await rejectionOf(lib.create())).message).toMatch(lacks('ChifCreate'));
    expect(() => lib.createSync()).toThrow(lacks('ChifCreate'));
    expect(() => lib.exchangeSync(null, Buffer.alloc(8))).toThrow(lacks('ChifPacketExchange'));
    expect(() => lib.securityState()).toThrow(lacks('get_security_state'));
    expect((await rejectionOf(lib.close(null))).message).toMatch(lacks('ChifClose'));
    expect(() => lib.createBlob('k', 'volatile')).toThrow(lacks('create_not_blobentry'));
    expect(() => lib.restImmediate(1, 'k', 'volatile')).toThrow(lacks('rest_immediate'));
    expect(() => lib.restBlobDesc('k', 'r', 'volatile')).toThrow(lacks('rest_immediate_blobdesc'));
    expect(() => lib.writeFragment(0, 1, 'k', 'volatile')).toThrow(lacks('write_fragment'));
    expect(() => lib.finalizeBlob('k', 'volatile')).toThrow(lacks('finalize_blob'));
    expect(() => lib.blobInfo('k', 'volatile')).toThrow(lacks('get_info'));
    expect(() => lib.readFragment(0, 1, 'k', 'volatile')).toThrow(lacks('read_fragment'));
    // There, but returning no packet.
    expect(() => lib.deleteBlob('k', 'volatile')).toThrow(/^the CHIF library's delete_blob returned no packet$/);
    expect((await rejectionOf(lib.appAccountManagement.deleteAppToken('a', 'b', 'c'))).message).toBe(
      `HPE's library ${stub} has no DeleteAppToken (an older library: install iLOrest 7's library for application-account management)`,
    );
  });

  it.each([
    ['a response buffer no larger than the fixed response', { maxBuffer: 32 }],
    ['a write limit no larger than the write request', { maxWrite: 100 }],
    ['a read limit no larger than the read request', { maxRead: 96 }],
    ['a negative size', { createRequest: -1 }],
    ['a size over 1 MiB', { createRequest: (1 << 20) + 1 }],
  ] as const)('refuses %s, read at load time', async (_what, change) => {
    const [name, value] = Object.entries(change)[0] as [keyof typeof SIZE_INDEX, number];
    const before = (await loadChifLibrary(stub)).sizes[name];
    set(name, value);
    try {
      const error = await rejectionOf(loadChifLibrary(stub));
      expect(error).toBeInstanceOf(ChifLibraryError);
      expect(error.message).toBe(`the CHIF library ${stub} reports sizes that do not fit together (${JSON.stringify({ ...EMULATOR_SIZES, [name]: value, securityStateRequest: 0 })})`);
    } finally {
      set(name, before);
    }
  });

  it('accepts a size of exactly 1 MiB, and sizes that only just fit together', async () => {
    set('createRequest', 1 << 20);
    set('maxBuffer', 33);
    set('maxWrite', 101);
    set('maxRead', 97);
    try {
      expect((await loadChifLibrary(stub)).sizes).toMatchObject({ createRequest: 1 << 20, maxBuffer: 33, maxWrite: 101, maxRead: 97 });
    } finally {
      set('createRequest', 88);
      set('maxBuffer', 4096);
      set('maxWrite', 3500);
      set('maxRead', 4000);
    }
  });
});
