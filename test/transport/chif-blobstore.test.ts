// The blob-store protocol of one REST request (src/transport/chif/blobstore.ts) driven directly
// through its PacketLink over the in-memory library: the answers the iLO may get wrong, the
// statuses each step accepts, and the packets it sends, one field at a time.
import { describe, expect, it, vi } from 'vitest';
import type { Logger } from 'pino';
import { ChifError, ProtocolError } from '../../src/errors.js';
import { restRequest, type PacketLink } from '../../src/transport/chif/blobstore.js';
import { MAX_RESPONSE_BODY, MAX_RESPONSE_HEAD } from '../../src/transport/limits.js';
import { FakeChifLibrary, type HttpHandler } from '../helpers/fake-chif-library.js';
import { rejectionOf } from '../helpers/wait.js';

/** Where the fake library puts a packet's operation and its count (test/helpers/fake-chif-library.ts). */
const FAKE_OP = 4;
const FAKE_COUNT = 12;
const READ_OP = 7; // OPS.indexOf('read') + 1

interface Link extends PacketLink {
  /** Every packet sent, in order. */
  sent: Buffer[];
  warn: ReturnType<typeof vi.fn>;
  debug: ReturnType<typeof vi.fn>;
  /** Changes what comes back from the exchange of a packet (after the library answered). */
  reshape?: (packet: Buffer, answer: Buffer) => Buffer;
}

function linkOver(lib: FakeChifLibrary, deadlineMs = 10_000): Link {
  const warn = vi.fn();
  const debug = vi.fn();
  const link: Link = {
    lib,
    sent: [],
    warn,
    debug,
    deadline: Date.now() + deadlineMs,
    log: { warn, debug } as unknown as Logger,
    async exchange(packet: Buffer): Promise<Buffer> {
      link.sent.push(Buffer.from(packet));
      const { rc, response } = await lib.exchange(1, packet);
      if (rc !== 0) throw new ChifError(`exchange failed with rc ${rc}`, rc);
      return link.reshape ? link.reshape(packet, response) : response;
    },
  };
  return link;
}

/** Raw HTTP request bytes exactly `total` long (the fake's REST side reads method and path). */
function httpOf(total: number): Buffer {
  const head = 'PATCH /redfish/v1/Systems/1 HTTP/1.1\r\n\r\n';
  return Buffer.from(head + 'a'.repeat(total - head.length));
}

const GET = Buffer.from('GET /redfish/v1/Systems/1 HTTP/1.1\r\n\r\n');
const BIG: HttpHandler = (request) => ({ body: JSON.stringify({ path: request.path, data: 'd'.repeat(3000) }) });

const status = (value: number) => ({ edit: (a: Buffer) => a.writeUInt32LE(value, 8) });

describe('blob store: inline answers', () => {
  it('an inline answer with a failing blob status to an immediate request is a ChifError (only 0 and 20 pass)', async () => {
    const lib = new FakeChifLibrary();
    lib.fault('immediate', status(5));
    const error = await rejectionOf(restRequest(linkOver(lib), GET, true));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toBe('the iLO answered the request with blob status 5');
  });

  it('an inline answer that fills the packet to its last byte is taken whole', async () => {
    const lib = new FakeChifLibrary();
    const fixed = lib.sizes.restResponseFixed;
    lib.fault('immediate', { edit: (a) => a.writeUInt32LE(a.length - fixed, 16) });
    const answer = await restRequest(linkOver(lib), GET, true);
    expect(answer).toHaveLength(lib.sizes.maxBuffer - fixed);
    expect(answer.toString('latin1', 0, 15)).toBe('HTTP/1.1 200 X\r');
  });
});

describe('blob store: the request blob', () => {
  it('a request of exactly two fragments is written in two writes, no empty third', async () => {
    const lib = new FakeChifLibrary();
    const chunk = lib.sizes.maxWrite - lib.sizes.writeRequest;
    await restRequest(linkOver(lib), httpOf(2 * chunk), false);
    expect(lib.ops('write')).toHaveLength(2);
    expect(lib.executed[0]?.body).toBe('a'.repeat(2 * chunk - 'PATCH /redfish/v1/Systems/1 HTTP/1.1\r\n\r\n'.length));
  });

  it.each([
    ['create', 'blob create failed with status 5'],
    ['finalize', 'blob finalize failed with status 5'],
  ] as const)('a failed blob %s is a ChifError naming the step', async (op, message) => {
    const lib = new FakeChifLibrary();
    lib.fault(op, { status: 5 });
    const error = await rejectionOf(restRequest(linkOver(lib), httpOf(400), false));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toBe(message);
    expect((error as ChifError).rc).toBe(5);
  });

  it('status 20 (not modified) on a blob create is a success', async () => {
    const lib = new FakeChifLibrary();
    lib.fault('create', status(20));
    await restRequest(linkOver(lib), httpOf(400), false);
    expect(lib.executed).toHaveLength(1);
  });
});

describe('blob store: reading the response blob', () => {
  it('a size answered with a failing blob status is a ChifError, before any read', async () => {
    const lib = new FakeChifLibrary(BIG);
    lib.fault('info', { status: 5 });
    const error = await rejectionOf(restRequest(linkOver(lib), GET, true));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toBe("reading the answer's size failed with blob status 5");
    expect(lib.ops('read')).toHaveLength(0);
  });

  it('a size answered with status 20 (not modified) is read', async () => {
    const lib = new FakeChifLibrary(BIG);
    lib.fault('info', status(20));
    const answer = await restRequest(linkOver(lib), GET, true);
    expect(answer.toString()).toContain('d'.repeat(3000));
  });

  it('an announced size over the limit is refused before a byte is read (ProtocolError)', async () => {
    const lib = new FakeChifLibrary(BIG);
    const value = lib.sizes.responseHeaderBlob;
    lib.fault('info', { edit: (a) => a.writeUInt32LE(MAX_RESPONSE_HEAD + MAX_RESPONSE_BODY + 1, value) });
    const error = await rejectionOf(restRequest(linkOver(lib), GET, true));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toBe(`the iLO announced a ${MAX_RESPONSE_HEAD + MAX_RESPONSE_BODY + 1}-byte answer over CHIF, more than the ${MAX_RESPONSE_HEAD + MAX_RESPONSE_BODY} a Redfish answer may take; not read`);
    expect(lib.ops('read')).toHaveLength(0);
    expect(lib.ops().at(-1)?.op).toBe('delete');
  });

  it('an announced size of exactly the limit is read (here it runs dry: the empty-fragment error, not the size refusal)', async () => {
    const lib = new FakeChifLibrary(BIG);
    const value = lib.sizes.responseHeaderBlob;
    lib.fault('info', { edit: (a) => a.writeUInt32LE(MAX_RESPONSE_HEAD + MAX_RESPONSE_BODY, value) }, Infinity);
    const error = await rejectionOf(restRequest(linkOver(lib), GET, true));
    expect(error).toBeInstanceOf(ChifError);
    expect(error.message).toBe('the iLO kept answering empty fragments while its answer was read');
    expect(lib.ops('read').length).toBeGreaterThan(0);
  });

  it('no read asks past the announced size: the counts add up to it exactly', async () => {
    const lib = new FakeChifLibrary(BIG);
    const link = linkOver(lib);
    const answer = await restRequest(link, GET, true);
    const counts = link.sent.filter((p) => p.readUInt16LE(FAKE_OP) === READ_OP).map((p) => p.readUInt32LE(FAKE_COUNT));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(answer.length);
    expect(Math.max(...counts)).toBe(lib.sizes.maxRead - lib.sizes.readRequest);
  });

  it('a fragment claiming more bytes than asked for is not taken: the answer is read again, intact', async () => {
    const lib = new FakeChifLibrary(BIG);
    const value = lib.sizes.responseHeaderBlob;
    const asked = lib.sizes.maxRead - lib.sizes.readRequest;
    lib.fault('read', { edit: (a) => a.writeUInt32LE(asked + 1, value) });
    const link = linkOver(lib);
    const answer = await restRequest(link, GET, true);
    expect(answer.toString()).toMatch(/^HTTP\/1\.1 200 X\r\n[^]*"data":"d{3000}"}$/);
    expect(lib.ops('info')).toHaveLength(2);
    expect(link.debug).toHaveBeenCalledWith({ pass: 0 }, 'a read fragment came back empty; reading the answer again');
  });

  it('a fragment whose data run past the end of its packet is not taken; one that ends on it is', async () => {
    const data = new FakeChifLibrary().sizes.responseHeaderBlob + 4;
    const cut = async (short: number): Promise<{ answer: Buffer; infos: number }> => {
      const lib = new FakeChifLibrary(BIG);
      const link = linkOver(lib);
      let first = true;
      link.reshape = (packet, answer) => {
        if (packet.readUInt16LE(FAKE_OP) !== READ_OP || !first) return answer;
        first = false;
        return answer.subarray(0, data + answer.readUInt32LE(data - 4) - short);
      };
      const answer = await restRequest(link, GET, true);
      return { answer, infos: lib.ops('info').length };
    };
    const exact = await cut(0);
    expect(exact.infos).toBe(1);
    const short = await cut(1);
    expect(short.infos).toBe(2);
    expect(short.answer.equals(exact.answer)).toBe(true);
    expect(exact.answer.toString()).toMatch(/"data":"d{3000}"}$/);
  });

  it('a busy blob store is asked again after growing pauses: within 2.7 s, at most five asks', async () => {
    // pauses of 350, 450, 550, 650 ms (2 s), the next (750) past the deadline: five asks at most
    const lib = new FakeChifLibrary(BIG);
    lib.fault('info', { status: 2 }, Infinity);
    const error = await rejectionOf(restRequest(linkOver(lib, 2700), GET, true));
    expect(error).toBeInstanceOf(ChifError);
    expect((error as ChifError).rc).toBe(2);
    expect(lib.ops('info').length).toBeGreaterThan(1);
    expect(lib.ops('info').length).toBeLessThanOrEqual(5);
  }, 20_000);
});

describe('blob store: deleting the response blob', () => {
  it.each([
    [0, false],
    [20, false],
    [12, false],
    [5, true],
  ])('a delete answered with status %i: warned %s, the answer still returned', async (code, warned) => {
    const lib = new FakeChifLibrary(BIG);
    lib.fault('delete', status(code));
    const link = linkOver(lib);
    const answer = await restRequest(link, GET, true);
    expect(answer.toString()).toMatch(/"data":"d{3000}"}$/);
    if (warned) expect(link.warn).toHaveBeenCalledWith({ status: code }, 'deleting a response blob failed');
    else expect(link.warn).not.toHaveBeenCalled();
  });
});
