// The Transport contract (src/transport/transport.ts) as one set of cases, run by
// test/transport/contract.test.ts against every transport: the scripted one of the tests, HTTPS,
// CHIF and the vNIC. A transport that legitimately differs says so in its capabilities; no case
// is skipped for it.
import { isAbsolute } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, InvalidInputError, ProtocolError, TimeoutError } from '../../src/errors.js';
import type { Transport, TransportRequest, TransportResponse } from '../../src/transport/index.js';
import { rejectionOf, until } from './wait.js';

/** Where transports legitimately differ. */
export interface ContractCapabilities {
  /**
   * `requestSync` exists: CHIF only, a blocking FFI call for a process that is leaving and can
   * run nothing asynchronous any more. Node's HTTPS cannot block, so HTTPS has none.
   */
  requestSync: boolean;
  /** `library` names the file it runs on (CHIF: the guardian loads that file and searches nothing). */
  library: boolean;
}

/** One transport on a fresh far side (a simulator, or the script), and what the cases need of it. */
export interface ContractPeer {
  transport: Transport;
  /** Headers every request carries (a session's token on a simulator). */
  headers: Readonly<Record<string, string>>;
  /** At least four distinct resources, each answered 200 with JSON whose `@odata.id` is its path. */
  resources: readonly string[];
  /** A path nothing is at: answered 404. */
  missing: string;
  /** A resource whose answer is 1 MiB or more; `prepare` makes it so and answers the bytes it must be. */
  large: { path: string; prepare(): Promise<Uint8Array> };
  /**
   * A POST that keeps what it was given: `body(payload)` is the body to send, `delivered` reads
   * back (once the POST is answered) the body the far side got, as bytes.
   */
  post: { path: string; body(payload: string): Uint8Array; delivered(response: TransportResponse): Promise<Uint8Array> };
  /** Requests that reached the far side so far. */
  received(): number;
  /** The next request to `path` gets no answer until `release()`. */
  hold(path: string): void;
  /** How many requests are being held now. */
  held(): number;
  release(): void;
  close(): Promise<void>;
}

export interface ContractTarget {
  name: string;
  kind: Transport['kind'];
  capabilities: ContractCapabilities;
  /** A fresh peer whose transport gives each request `timeoutMs`. */
  open(options: { timeoutMs: number }): Promise<ContractPeer>;
}

/** Long enough for a loaded machine; the timeout case uses its own short one. */
const TIMEOUT_MS = 30_000;
const SHORT_TIMEOUT_MS = 1_000;
const MIB = 1024 * 1024;
const WAIT_MS = 15_000;

const json = (body: Uint8Array) => JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
/** iLO 5 before 1.40 writes `@odata.id` with a trailing slash: the same resource. */
const idOf = (body: Uint8Array) => String(json(body)['@odata.id']).replace(/\/$/, '');
const same = (path: string) => path.replace(/\/$/, '');

export function transportContract(target: ContractTarget): void {
  describe(`the Transport contract: ${target.name}`, () => {
    let peer: ContractPeer | undefined;
    const open = async (timeoutMs = TIMEOUT_MS) => (peer = await target.open({ timeoutMs }));
    afterEach(async () => {
      const p = peer;
      peer = undefined;
      p?.release();
      await p?.close();
    });
    const get = (p: ContractPeer, path: string, extra: Partial<TransportRequest> = {}): Promise<TransportResponse> =>
      p.transport.request({ method: 'GET', path, headers: p.headers, ...extra });
    /** The transport still works, and this one request is all that reached the far side since `before`. */
    const stillUsable = async (p: ContractPeer, before: number) => {
      const path = p.resources[0] as string;
      const res = await get(p, path);
      expect(res.status).toBe(200);
      expect(idOf(res.body)).toBe(same(path));
      expect(p.received()).toBe(before + 1);
    };

    it(`is a ${target.kind} transport${target.capabilities.library ? ' that names its library file' : ''}`, async () => {
      const { transport } = await open();
      expect(transport.kind).toBe(target.kind);
      expect(transport.description).not.toBe('');
      if (target.capabilities.library) expect(isAbsolute(transport.library as string)).toBe(true);
      else expect(transport.library).toBeUndefined();
    });

    it('answers a GET with its status, lower-cased header names and the body', async () => {
      const p = await open();
      const path = p.resources[0] as string;
      const res = await get(p, path);
      expect(res.status).toBe(200);
      expect(res.body).toBeInstanceOf(Uint8Array);
      expect(Object.keys(res.headers).length).toBeGreaterThan(0);
      for (const name of Object.keys(res.headers)) expect(name).toBe(name.toLowerCase());
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(idOf(res.body)).toBe(same(path));
    });

    it('resolves any status: a 404 is an answer, not a rejection', async () => {
      const p = await open();
      const res = await get(p, p.missing);
      expect(res.status).toBe(404);
    });

    it('delivers a POST body byte for byte (multi-byte UTF-8, quotes, more than one CHIF packet)', async () => {
      const p = await open();
      const payload = `contract ü € 𝄞 "quoted" \\ ${'0123456789'.repeat(800)} end`;
      const body = p.post.body(payload);
      const res = await p.transport.request({ method: 'POST', path: p.post.path, headers: { ...p.headers, 'Content-Type': 'application/json' }, body });
      expect(res.status).toBeLessThan(300);
      expect(Buffer.from(await p.post.delivered(res)).equals(Buffer.from(body))).toBe(true);
    });

    it('a path that cannot be sent is a rejection (ProtocolError), never a throw; nothing is sent', async () => {
      const p = await open();
      const before = p.received();
      for (const path of ['/redfish/v1/Systems/1 x', '/redfish/v1/Syst\u00e8mes', '/redfish/v1/\r\nX-Injected: 1', 'redfish/v1/']) {
        let pending: Promise<TransportResponse> | undefined;
        expect(() => (pending = get(p, path)), path).not.toThrow();
        const error = await rejectionOf(pending as Promise<TransportResponse>);
        expect(error, path).toBeInstanceOf(ProtocolError);
        expect(error.code).toBe('E_PROTOCOL');
      }
      await stillUsable(p, before);
    });

    it('a header that cannot be sent is a rejection (InvalidInputError), never a throw; nothing is sent', async () => {
      // The same code whichever way the iLO is reached: the same mistake, the same exit status.
      const p = await open();
      const before = p.received();
      for (const headers of [{ 'Bad Name': 'x' }, { 'X-Smuggle': 'a\r\nX-Injected: 1' }] as Array<Record<string, string>>) {
        let pending: Promise<TransportResponse> | undefined;
        expect(() => (pending = p.transport.request({ method: 'GET', path: p.resources[0] as string, headers: { ...p.headers, ...headers } }))).not.toThrow();
        const error = await rejectionOf(pending as Promise<TransportResponse>);
        expect(error).toBeInstanceOf(InvalidInputError);
        expect(error.code).toBe('E_INPUT');
      }
      await stillUsable(p, before);
    });

    it('a signal aborted before sending rejects with AbortedError; nothing is sent', async () => {
      const p = await open();
      const before = p.received();
      const error = await rejectionOf(get(p, p.resources[0] as string, { signal: AbortSignal.abort() }));
      expect(error).toBeInstanceOf(AbortedError);
      expect(error.code).toBe('E_ABORTED');
      await stillUsable(p, before);
    });

    it('an abort while the request is in flight rejects with AbortedError; the transport stays usable', async () => {
      const p = await open();
      const path = p.resources[1] as string;
      p.hold(path);
      const controller = new AbortController();
      const pending = rejectionOf(get(p, path, { signal: controller.signal }));
      await until(() => p.held() === 1, 'the request is held', WAIT_MS);
      const before = p.received();
      controller.abort();
      const error = await pending;
      expect(error).toBeInstanceOf(AbortedError);
      expect(error.code).toBe('E_ABORTED');
      expect(p.held()).toBe(1); // answered by the abort, not by the far side
      await stillUsable(p, before);
    });

    it('a request that gets no answer in time rejects with TimeoutError; the transport stays usable', async () => {
      const p = await open(SHORT_TIMEOUT_MS);
      const path = p.resources[1] as string;
      p.hold(path);
      const error = await rejectionOf(get(p, path));
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error.code).toBe('E_TIMEOUT');
      expect(p.held()).toBe(1); // it reached the far side and was held: the timeout ended it
      await stillUsable(p, p.received());
    });

    it('close() waits for the request in flight, is idempotent, and after it requests reject with ClosedError', async () => {
      const p = await open();
      const path = p.resources[1] as string;
      p.hold(path);
      const inFlight = get(p, path);
      await until(() => p.held() === 1, 'the request is held', WAIT_MS);
      let closed = false;
      const closing = p.transport.close().then(() => (closed = true));
      const refused = await rejectionOf(get(p, p.resources[0] as string));
      expect(refused).toBeInstanceOf(ClosedError);
      expect(closed).toBe(false);
      p.release();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(idOf(res.body)).toBe(same(path));
      await closing;
      await expect(p.transport.close()).resolves.toBeUndefined();
      const before = p.received();
      const after = await rejectionOf(get(p, p.resources[0] as string));
      expect(after).toBeInstanceOf(ClosedError);
      expect(after.code).toBe('E_CLOSED');
      expect(p.received()).toBe(before);
    });

    it('reads a 1 MiB answer whole', async () => {
      const p = await open();
      const expected = await p.large.prepare();
      expect(expected.byteLength).toBeGreaterThanOrEqual(MIB);
      const res = await get(p, p.large.path);
      expect(res.status).toBe(200);
      expect(res.body.byteLength).toBe(expected.byteLength);
      expect(Buffer.from(res.body).equals(Buffer.from(expected))).toBe(true);
    });

    it('answers concurrent requests each with its own answer', async () => {
      const p = await open();
      const paths = Array.from({ length: 12 }, (_, i) => p.resources[i % p.resources.length] as string);
      const answers = await Promise.all(paths.map((path) => get(p, path)));
      expect(answers.map((a) => a.status)).toEqual(paths.map(() => 200));
      expect(answers.map((a) => idOf(a.body))).toEqual(paths.map(same));
    });

    // Only its presence: a blocking call cannot be answered by a simulator that shares this
    // thread (tried: the emulator's channel set-up waits for it until its own timeout).
    it(target.capabilities.requestSync ? 'has a blocking requestSync, for a process that is leaving' : 'has no blocking requestSync (it cannot block)', async () => {
      const { transport } = await open();
      expect(typeof transport.requestSync).toBe(target.capabilities.requestSync ? 'function' : 'undefined');
    });
  });
}
