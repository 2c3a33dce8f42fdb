// The CHIF transport's protocol and channel logic against an in-memory library
// (test/helpers/fake-chif-library.ts), packet by packet: where faults carry wrong data, so that a
// check that is missing shows as a wrong answer, not as a request that happens to work.
import { describe, expect, it } from 'vitest';
import { AbortedError, AuthError, ChifCredentialsError, ChifError, ChifLibraryError, ClosedError, ProtocolError, TimeoutError } from '../../src/errors.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { openChifTransport, type Transport, type TransportRequest } from '../../src/transport/index.js';
import { serializeRequest } from '../../src/transport/chif/http1.js';
import { ECHO, FakeChifLibrary, type HttpHandler } from '../helpers/fake-chif-library.js';
import { rejectionOf, until } from '../helpers/wait.js';

const GET = (path = '/redfish/v1/Systems/1'): TransportRequest => ({ method: 'GET', path });
const POST = (path = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset'): TransportRequest => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from('{"ResetType":"On"}'),
});

async function open(lib: FakeChifLibrary, timeoutMs = 10_000): Promise<Transport> {
  return openChifTransport({ library: lib, credentials: null, timeoutMs });
}

/** The answer's body as the echo handler wrote it. */
async function echoed(transport: Transport, request: TransportRequest): Promise<{ method: string; path: string; body: string }> {
  const response = await transport.request(request);
  expect(response.status).toBe(200);
  return JSON.parse(Buffer.from(response.body).toString('utf8'));
}

/** A PATCH whose HTTP bytes (head and body) are exactly `total` long. */
function patchOf(total: number): TransportRequest {
  const base = { method: 'PATCH' as const, path: '/redfish/v1/Systems/1', headers: { 'content-type': 'application/json' } };
  const overhead = serializeRequest({ ...base, body: Buffer.from('x') }).length - 1;
  // the Content-Length header grows with the body's digits: adjust until the total is exact
  for (let n = total - overhead; n > 0; n--) {
    const request = { ...base, body: Buffer.from('a'.repeat(n)) };
    if (serializeRequest(request).length === total) return request;
  }
  throw new Error(`no body makes ${total} bytes`);
}

/** A handler whose answers are too large for one packet: they come back through the response blob. */
const BIG: HttpHandler = (request) => ({ body: JSON.stringify({ path: request.path, data: 'd'.repeat(3000) }) });

describe('CHIF transport over a fake library: packets and blobs', () => {
  it('a small GET is one immediate exchange on the channel opened at start, its answer inline', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    expect(await echoed(t, GET())).toEqual({ method: 'GET', path: '/redfish/v1/Systems/1', body: '' });
    expect(lib.ops().map((e) => [e.op, e.handle])).toEqual([['immediate', 1]]);
    expect(lib.refused).toEqual([]);
    await t.close();
    expect(lib.closed).toEqual([1]);
  });

  it('the inline limit is the library\'s restImmediateRequest + max_write_size: one byte under goes inline, the limit through a request blob', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    const limit = lib.sizes.restImmediateRequest + lib.sizes.maxWrite;

    const below = patchOf(limit - 1);
    expect((await echoed(t, below)).body).toBe(Buffer.from(below.body as Uint8Array).toString());
    expect(lib.ops().map((e) => e.op)).toEqual(['immediate']);

    lib.exchanges.length = 0;
    const at = patchOf(limit);
    expect((await echoed(t, at)).body).toBe(Buffer.from(at.body as Uint8Array).toString());
    const fragments = Math.ceil(limit / (lib.sizes.maxWrite - lib.sizes.writeRequest));
    expect(lib.ops().map((e) => e.op)).toEqual(['create', ...Array<string>(fragments).fill('write'), 'finalize', 'blobDesc', 'delete']);
    expect(lib.refused).toEqual([]);
    expect(lib.blobs.size).toBe(0); // the request blob deleted
    await t.close();
  });

  it('an answer too large for a packet is read from the response blob in fragments, then deleted', async () => {
    const lib = new FakeChifLibrary(BIG);
    const t = await open(lib);
    const body = JSON.parse(Buffer.from((await t.request(GET())).body).toString());
    expect(body.data).toHaveLength(3000);
    // in fragments of max_read_size − size_of_readRequest (larger ones the fake refuses)
    expect(lib.ops('read').length).toBeGreaterThan(3000 / (lib.sizes.maxRead - lib.sizes.readRequest));
    expect(lib.ops().at(-1)?.op).toBe('delete');
    expect(lib.refused).toEqual([]);
    expect(lib.blobs.size).toBe(0);
    await t.close();
  });

  it('the security state is read from its answer\'s byte (no credentials in a state that needs them)', async () => {
    const lib = new FakeChifLibrary();
    lib.securityRequired = 1;
    lib.securityStateValue = 4;
    const error = await rejectionOf(open(lib));
    expect(error).toBeInstanceOf(ChifCredentialsError);
    expect(error.message).toContain('(HighSecurity)');
  });
});

describe('CHIF transport over a fake library: answers the transport must refuse or accept', () => {
  it.each([
    ['the response blob lost (status 12 on its size)', 'info', { status: 12 }, /lost the response blob/, 12, BIG],
    ['the request blob lost (status 12 on the REST answer)', 'blobDesc', { status: 12 }, /lost the request blob/, 12],
    ['status 20 on a REST answer in blob mode', 'blobDesc', { edit: (a: Buffer) => a.writeUInt32LE(20, 8) }, /blob status 20/, 20],
    ['an unknown receive mode', 'blobDesc', { edit: (a: Buffer) => a.writeUInt32LE(7, 12) }, /unknown receive mode 7/, undefined],
    ['an inline length beyond the packet', 'blobDesc', { edit: (a: Buffer) => a.writeUInt32LE(a.length, 16) }, /more than a packet holds/, undefined],
    ['a failed blob write', 'write', { status: 5 }, /blob write failed with status 5/, 5],
  ] as const)('%s: ChifError', async (_name, op, fault, message, rc, handler?: HttpHandler) => {
    const lib = new FakeChifLibrary(handler);
    const t = await open(lib);
    lib.fault(op, fault);
    const limit = lib.sizes.restImmediateRequest + lib.sizes.maxWrite;
    // a request in blob mode, so that every one of these packets is sent
    const error = await rejectionOf(t.request(patchOf(limit)));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toMatch(message);
    expect((error as ChifError).rc).toBe(rc);
    await t.close();
  });

  it('status 20 (not modified) on an inline REST answer of an immediate request is a success, as HPE\'s clients take it', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { edit: (a) => a.writeUInt32LE(20, 8) });
    expect((await echoed(t, GET())).path).toBe('/redfish/v1/Systems/1');
    await t.close();
  });
});

describe('CHIF transport over a fake library: a busy blob store and empty reads', () => {
  it('blob status 2 (another local user) on the answer\'s size is waited out', async () => {
    const lib = new FakeChifLibrary(BIG);
    const t = await open(lib);
    lib.fault('info', { status: 2 }, 2);
    expect(JSON.parse(Buffer.from((await t.request(GET())).body).toString()).data).toHaveLength(3000);
    expect(lib.ops('info')).toHaveLength(3);
    expect(lib.executed).toHaveLength(1);
    await t.close();
  });

  it('a blob store busy past the deadline is a ChifError (E_CHIF, exit 5) with rc 2, not a timeout and not an endless wait', async () => {
    const lib = new FakeChifLibrary(BIG);
    const t = await open(lib, 1500);
    lib.fault('info', { status: 2 }, Infinity);
    const error = await rejectionOf(t.request(GET()));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.code).toBe('E_CHIF');
    expect((error as ChifError).rc).toBe(2);
    expect(exitCodeFor(error)).toBe(5);
    expect(error.message).toMatch(/another local client keeps the iLO's blob store busy \(status 2\)/);
    expect(lib.ops('info').length).toBeGreaterThan(1); // it did wait and ask again
    await t.close();
  }, 30_000);

  it('an answer whose fragments come back empty once is read again from the start', async () => {
    const lib = new FakeChifLibrary(BIG);
    const t = await open(lib);
    lib.fault('read', { zeroRead: true }, 1);
    expect(JSON.parse(Buffer.from((await t.request(GET())).body).toString()).data).toHaveLength(3000);
    expect(lib.ops('info')).toHaveLength(2); // the size read again before the second pass
    expect(lib.blobs.size).toBe(0);
    await t.close();
  });

  it('fragments that keep coming back empty: ChifError after four passes, and the response blob still deleted', async () => {
    const lib = new FakeChifLibrary(BIG);
    const t = await open(lib);
    lib.fault('read', { zeroRead: true }, Infinity);
    const error = await rejectionOf(t.request(GET()));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toBe('the iLO kept answering empty fragments while its answer was read');
    expect(lib.ops('info')).toHaveLength(4);
    expect(lib.ops('read')).toHaveLength(4);
    expect(lib.ops().at(-1)?.op).toBe('delete');
    expect(lib.blobs.size).toBe(0);
    await t.close();
  });
});

describe('CHIF transport over a fake library: the checks on each exchange', () => {
  it('a GET answered with another packet\'s answer (its sequence number) is sent again, and the right answer is taken', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    await echoed(t, GET('/redfish/v1/Managers/1')); // the answer that comes back stale
    lib.fault('immediate', { wrongSequence: true }, 1);
    expect((await echoed(t, GET('/redfish/v1/Systems/1'))).path).toBe('/redfish/v1/Systems/1');
    expect(lib.ops('immediate')).toHaveLength(3);
    await t.close();
  });

  it('a GET that keeps getting other packets\' answers: ChifError after three tries, not an endless loop', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    await echoed(t, GET('/redfish/v1/Managers/1'));
    lib.fault('immediate', { wrongSequence: true }, Infinity);
    const error = await rejectionOf(t.request(GET()));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toMatch(/another packet's sequence number/);
    expect(lib.ops('immediate')).toHaveLength(4);
    await t.close();
  });

  it('a POST answered with another packet\'s sequence number: ChifError, and the POST is not sent again (it may have been done)', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    await echoed(t, GET('/redfish/v1/Managers/1'));
    lib.executed.length = 0;
    lib.fault('immediate', { wrongSequence: true }, 1);
    const error = await rejectionOf(t.request(POST()));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toMatch(/another packet's sequence number/);
    expect(lib.executed.map((c) => c.method)).toEqual(['POST']); // done once, never twice
    await t.close();
  });

  it('a failed exchange of a GET is retried on a fresh channel: the failed one closed first, never used again', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { rc: 5 }, 1);
    expect((await echoed(t, GET())).path).toBe('/redfish/v1/Systems/1');
    expect(lib.ops().map((e) => e.handle)).toEqual([1, 2]);
    expect(lib.closed).toEqual([1]);
    await echoed(t, GET());
    expect(lib.ops().map((e) => e.handle)).toEqual([1, 2, 2]);
    expect(lib.ops().filter((e) => e.afterClose)).toEqual([]);
    await t.close();
  });

  it('a failed exchange of a POST is not retried: ChifError with the library\'s rc', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { rc: 5 }, 1);
    const error = await rejectionOf(t.request(POST()));
    expect(error).toBeInstanceOf(ChifError);
    expect((error as ChifError).rc).toBe(5);
    expect(lib.ops('immediate')).toHaveLength(1);
    await t.close();
  });

  it('the library\'s receive timeout (ETIMEDOUT) is a TimeoutError (E_TIMEOUT) naming the request, not retried', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { rc: 110 }, 1);
    const error = await rejectionOf(t.request(GET()));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toBe('GET /redfish/v1/Systems/1: no answer over CHIF within 10 s');
    expect(lib.ops('immediate')).toHaveLength(1);
    await t.close();
  });
});

describe('CHIF transport over a fake library: a channel given up on', () => {
  it('an aborted request leaves its hung channel behind: the next request runs on a fresh channel, the old one is closed only when its exchange ends', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { hang: true }, 1);
    const controller = new AbortController();
    const first = t.request({ ...GET('/redfish/v1/Managers/1'), signal: controller.signal });
    await until(() => lib.hung === 1, 'the exchange to hang');
    controller.abort();
    expect((await rejectionOf(first)).code).toBe('E_ABORTED');
    // the DELETE of a session must not wait behind the hung exchange
    expect((await echoed(t, { method: 'DELETE', path: '/redfish/v1/SessionService/Sessions/1' })).method).toBe('DELETE');
    expect(lib.ops().map((e) => e.handle)).toEqual([1, 2]);
    expect(lib.closed).toEqual([]); // never closed under a running exchange
    lib.release();
    await until(() => lib.closed.includes(1), 'the abandoned channel to be closed');
    await echoed(t, GET());
    expect(lib.ops().map((e) => e.handle)).toEqual([1, 2, 2]); // the abandoned one never used again
    expect(lib.ops().filter((e) => e.afterClose)).toEqual([]);
    await t.close();
    expect(lib.closed).toEqual([1, 2]);
  }, 20_000);

  it('a request whose exchange never returns times out (E_TIMEOUT) and the next one runs on a fresh channel', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib, 500);
    lib.fault('immediate', { hang: true }, 1);
    const error = await rejectionOf(t.request(GET('/redfish/v1/Managers/1')));
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toBe('GET /redfish/v1/Managers/1: no answer over CHIF within 0.5 s');
    expect((await echoed(t, GET())).path).toBe('/redfish/v1/Systems/1');
    expect(lib.ops().map((e) => e.handle)).toEqual([1, 2]);
    lib.release();
    await t.close();
  }, 20_000);
});

describe('CHIF transport over a fake library: the blocking request of a leaving process', () => {
  it('goes inline on a fresh channel, with a receive timeout of at most 5 s', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    const response = t.requestSync?.({ method: 'DELETE', path: '/redfish/v1/SessionService/Sessions/1' });
    expect(response?.status).toBe(200);
    expect(JSON.parse(Buffer.from(response?.body ?? []).toString()).method).toBe('DELETE');
    expect(lib.ops().map((e) => [e.op, e.handle])).toEqual([['immediate', 2]]);
    expect(lib.recvTimeouts.at(-1)).toBe(5000);
    await t.close();
  });

  it('refuses what does not fit one packet, before any exchange', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    const limit = lib.sizes.restImmediateRequest + lib.sizes.maxWrite;
    expect(() => t.requestSync?.(patchOf(limit))).toThrow(/must fit one packet/);
    expect(lib.ops()).toEqual([]);
    await t.close();
  });
});

describe('CHIF transport over a fake library: opening, and the security flow', () => {
  const calls = (lib: FakeChifLibrary): string[] => {
    const seen: string[] = [];
    lib.initiateCredentials = (...args: unknown[]) => void seen.push(`initiate ${args.join(' ')}`);
    lib.disableSecurity = () => void seen.push('disable');
    return seen;
  };
  const withCredentials = (lib: FakeChifLibrary) => openChifTransport({ library: lib, credentials: { username: 'admin', password: 'pw' }, timeoutMs: 10_000 });

  it('names its library in its description', async () => {
    const t = await open(new FakeChifLibrary());
    expect(t.description).toBe('via /fake/libilorestchif.so');
    await t.close();
  });

  it('a security state the library cannot read: the channel is probed and closed, then ChifError with the library\'s value', async () => {
    const lib = new FakeChifLibrary();
    lib.isSecurityRequired = () => Promise.resolve(-1);
    const error = await rejectionOf(open(lib));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toBe('the CHIF library could not read the iLO\'s security state');
    expect((error as ChifError).rc).toBe(-1);
    expect(lib.closed).toEqual([1]);
  });

  it('security not required, no credentials: security disabled, the channel opened', async () => {
    const lib = new FakeChifLibrary();
    const seen = calls(lib);
    const t = await open(lib);
    expect(seen).toEqual(['disable']);
    await t.close();
  });

  it('security required, no credentials: security not disabled, ChifCredentialsError', async () => {
    const lib = new FakeChifLibrary();
    lib.securityRequired = 1;
    const seen = calls(lib);
    expect(await rejectionOf(open(lib))).toBeInstanceOf(ChifCredentialsError);
    expect(seen).toEqual([]);
  });

  it('security required, credentials verified: they are given to the library, security stays on, the channel opens', async () => {
    const lib = new FakeChifLibrary();
    lib.securityRequired = 1;
    const seen = calls(lib);
    const t = await withCredentials(lib);
    expect(seen).toEqual(['initiate admin pw']);
    expect((await echoed(t, GET())).method).toBe('GET');
    await t.close();
  });

  it.each([
    [13, AuthError, 'the iLO refused the in-band credentials of admin'],
    [5, ChifError, 'in-band verification of the credentials failed with status 5'],
  ] as const)('security required, credentials refused with status %i: %o', async (rc, type, message) => {
    const lib = new FakeChifLibrary();
    lib.securityRequired = 1;
    lib.verifyCredentials = () => Promise.resolve(rc);
    const error = await rejectionOf(withCredentials(lib));
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
    if (error instanceof AuthError) expect(error.status).toBe(401);
    expect(lib.created).toEqual([]);
  });

  it('security not required, credentials verified: security disabled too', async () => {
    const lib = new FakeChifLibrary();
    const seen = calls(lib);
    const t = await withCredentials(lib);
    expect(seen).toEqual(['initiate admin pw', 'disable']);
    await t.close();
  });

  it('security required, no credentials, a state that cannot be read: the message names no state', async () => {
    const lib = new FakeChifLibrary();
    lib.securityRequired = 1;
    lib.fault('security', { rc: 5 }, Infinity);
    const error = await rejectionOf(open(lib));
    expect(error).toBeInstanceOf(ChifCredentialsError);
    expect(error.message).toBe("the iLO's security state requires credentials for in-band access: give --username and a password");
  });

  it('security not required, credentials the channel refuses: security disabled (the session POST checks them)', async () => {
    const lib = new FakeChifLibrary();
    lib.verifyCredentials = () => Promise.resolve(13);
    const seen = calls(lib);
    const t = await withCredentials(lib);
    expect(seen).toEqual(['initiate admin pw', 'disable']);
    await t.close();
  });

  it.each([
    [19, 'the CHIF driver is not available'],
    [13, 'in-band access to the iLO is not permitted: run as root (Administrator on Windows)'],
    [7, 'the CHIF channel could not be created (status 7)'],
  ])('a channel the library cannot create (status %i): ChifLibraryError', async (rc, message) => {
    const lib = new FakeChifLibrary();
    lib.create = () => Promise.resolve({ rc, handle: 0 });
    const error = await rejectionOf(open(lib));
    expect(error).toBeInstanceOf(ChifLibraryError);
    expect(error.message).toContain(message);
  });

  it.each([
    [8, ChifCredentialsError, 'the iLO requires credentials for in-band access: give --username and a password'],
    [7, ChifLibraryError, 'the CHIF channel could not be opened (status 7)'],
  ] as const)('a channel whose ping fails (status %i) is closed: %o', async (rc, type, message) => {
    const lib = new FakeChifLibrary();
    lib.ping = () => Promise.resolve(rc);
    const error = await rejectionOf(open(lib));
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
    expect(lib.closed).toEqual([1]);
  });
});

describe('CHIF transport over a fake library: requests refused, retried or given up', () => {
  it('a request after close is refused (ClosedError) without an exchange', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    await t.close();
    const error = await rejectionOf(t.request(GET()));
    expect(error).toBeInstanceOf(ClosedError);
    expect(error.message).toBe('the CHIF transport is closed');
    expect(lib.ops()).toEqual([]);
    expect(lib.created).toEqual([1]);
  });

  it('a request that cannot be written (a control character in its path): ProtocolError, no exchange', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    expect(await rejectionOf(t.request(GET('/redfish/v1/\x01')))).toBeInstanceOf(ProtocolError);
    expect(lib.ops()).toEqual([]);
    await t.close();
  });

  it('close after an abandoned channel, with nothing else sent: resolves, the abandoned channel closed when its exchange ends', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { hang: true }, 1);
    const controller = new AbortController();
    const first = t.request({ ...GET(), signal: controller.signal });
    await until(() => lib.hung === 1, 'the exchange to hang');
    controller.abort();
    expect((await rejectionOf(first)).code).toBe('E_ABORTED');
    await t.close();
    lib.release();
    await until(() => lib.closed.includes(1), 'the abandoned channel to be closed');
    expect(lib.closed).toEqual([1]);
  }, 20_000);

  it('a request queued behind an abandoned one can be aborted too (no channel at that moment)', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { hang: true }, 1);
    const one = new AbortController();
    const two = new AbortController();
    const first = t.request({ ...GET(), signal: one.signal });
    const second = t.request({ ...GET('/redfish/v1/Managers/1'), signal: two.signal });
    await until(() => lib.hung === 1, 'the exchange to hang');
    one.abort();
    expect((await rejectionOf(first)).code).toBe('E_ABORTED');
    two.abort();
    const error = await rejectionOf(second);
    expect(error.message).toBe('GET /redfish/v1/Managers/1 aborted');
    lib.release();
    await t.close();
    expect(lib.closed).toEqual([1]);
  }, 20_000);

  it('a request aborted before it is sent: AbortedError, no exchange', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(t.request({ ...GET(), signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe('GET /redfish/v1/Systems/1 aborted before sending');
    expect(lib.ops()).toEqual([]);
    await t.close();
  });

  it('status 8 on an exchange: ChifCredentialsError, not retried', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { rc: 8 }, Infinity);
    const error = await rejectionOf(t.request(GET()));
    expect(error).toBeInstanceOf(ChifCredentialsError);
    expect(error.message).toBe('the iLO requires credentials for in-band access (status 8): give --username and a password');
    expect(lib.ops('immediate')).toHaveLength(1);
    await t.close();
  });

  it('a GET whose exchange keeps failing: ChifError with the status after three tries', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { rc: 5 }, Infinity);
    const error = await rejectionOf(t.request(GET()));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toBe('the CHIF exchange failed with status 5');
    expect(lib.ops('immediate')).toHaveLength(3);
    await t.close();
  });

  it('the blob-store packets of a GET are resent after a failed exchange too', async () => {
    const lib = new FakeChifLibrary(BIG);
    const t = await open(lib);
    lib.fault('info', { rc: 5 }, 1);
    expect(JSON.parse(Buffer.from((await t.request(GET())).body).toString()).data).toHaveLength(3000);
    expect(lib.ops('info')).toHaveLength(2);
    await t.close();
  });

  it('a request whose time ran out during an exchange sends nothing more: TimeoutError', async () => {
    const lib = new FakeChifLibrary(BIG);
    const t = await open(lib, 500);
    lib.fault('immediate', { hang: true }, 1);
    const started = Date.now();
    const pending = rejectionOf(t.request(GET()));
    await until(() => lib.hung === 1, 'the exchange to hang');
    await until(() => Date.now() > started + 700, 'the deadline to pass');
    lib.release();
    const error = await pending;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(lib.ops('info')).toHaveLength(0);
    await t.close();
  }, 20_000);

  it('an abort while the channel is idle (a busy blob store waited out) keeps the channel, and the request sends nothing more', async () => {
    const lib = new FakeChifLibrary((request) => (request.path === '/big' ? BIG(request) : ECHO(request)));
    const t = await open(lib);
    lib.fault('info', { status: 2 }, Infinity);
    const controller = new AbortController();
    const first = t.request({ ...GET('/big'), signal: controller.signal });
    await until(() => lib.ops('info').length === 1, 'the first size request');
    controller.abort();
    const error = await rejectionOf(first);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe('GET /big aborted');
    expect((await echoed(t, GET())).path).toBe('/redfish/v1/Systems/1'); // queued behind the aborted one
    expect(lib.ops('info').length).toBeLessThanOrEqual(2);
    expect(lib.ops().map((e) => e.handle).every((h) => h === 1)).toBe(true);
    expect(lib.closed).toEqual([]);
    await t.close();
    expect(lib.closed).toEqual([1]);
  }, 20_000);

  it('close after an abandoned channel: resolves, and waits for a request queued behind it (its channel closed too)', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { hang: true }, 1);
    const controller = new AbortController();
    const first = t.request({ ...GET('/redfish/v1/Managers/1'), signal: controller.signal });
    const second = t.request(GET());
    await until(() => lib.hung === 1, 'the exchange to hang');
    controller.abort();
    expect((await rejectionOf(first)).code).toBe('E_ABORTED');
    const closing = t.close();
    lib.release();
    await closing;
    expect(JSON.parse(Buffer.from((await second).body).toString()).path).toBe('/redfish/v1/Systems/1');
    expect([...lib.created].sort()).toEqual([...lib.closed].sort());
  }, 20_000);

  it('an abandoned channel whose exchange then fails is closed once, and the fresh channel stays in use', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { hang: true, rc: 5 }, 1);
    const controller = new AbortController();
    const first = t.request({ ...GET('/redfish/v1/Managers/1'), signal: controller.signal });
    await until(() => lib.hung === 1, 'the exchange to hang');
    controller.abort();
    expect((await rejectionOf(first)).code).toBe('E_ABORTED');
    await echoed(t, GET());
    lib.release();
    await until(() => lib.closed.includes(1), 'the abandoned channel to be closed');
    await echoed(t, GET());
    expect(lib.ops().map((e) => e.handle)).toEqual([1, 2, 2]);
    await t.close();
    expect(lib.closed).toEqual([1, 2]);
  }, 20_000);
});

describe('CHIF transport over a fake library: the blocking request, refused answers', () => {
  it('a channel the library cannot create: ChifLibraryError', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.createSync = () => ({ rc: 19, handle: 0 });
    expect(() => t.requestSync?.(GET())).toThrow(ChifLibraryError);
    lib.createSync = () => ({ rc: 7, handle: 0 });
    expect(() => t.requestSync?.(GET())).toThrow('the CHIF channel could not be created (status 7)');
    await t.close();
  });

  it('a failed exchange: ChifError with its status', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { rc: 5 });
    expect(() => t.requestSync?.(GET())).toThrow('the CHIF exchange failed with status 5');
    await t.close();
  });

  it('status 20 on its inline answer is a success; an answer left in a blob is a ChifError', async () => {
    const lib = new FakeChifLibrary();
    const t = await open(lib);
    lib.fault('immediate', { edit: (a) => a.writeUInt32LE(20, 8) });
    expect(t.requestSync?.(GET()).status).toBe(200);
    lib.fault('immediate', { edit: (a) => a.writeUInt32LE(1, 12) });
    expect(() => t.requestSync?.(GET())).toThrow('the blocking request was not answered inline');
    await t.close();
  });
});
