// HPE's CHIF functions declared to koffi, once the library is loaded (chif-library.ts finds and
// loads it): each function is looked up on its own, so an older library that lacks one gives a
// clear ChifLibraryError when it is used, never a crash at load. Every size is read from the
// library at run time; every packet comes from the library's own builders.
import { ChifLibraryError } from '../errors.js';
import { APP_ACCOUNT_SYMBOLS, bindAppAccount, bindAppAccountManagement, serialised, serialisedManagement, SerialQueue, type AppAccountBinding, type AppAccountManagement } from './app-account.js';
import type { Koffi } from './chif-library.js';
import { callAsync, track, type Fn } from './native-calls.js';

export type ChifHandle = unknown;

/** Sizes of the library's templates and buffers (docs/reference/chif-abi.md §2.4), read once after loading. */
export interface ChifSizes {
  maxBuffer: number;
  maxWrite: number;
  maxRead: number;
  createRequest: number;
  infoRequest: number;
  readRequest: number;
  writeRequest: number;
  deleteRequest: number;
  finalizeRequest: number;
  responseHeaderBlob: number;
  restImmediateRequest: number;
  restBlobRequest: number;
  restResponseFixed: number;
  securityStateRequest: number;
}

export interface ChifLibrary {
  readonly path: string;
  readonly sizes: ChifSizes;
  /**
   * The application-account functions (iLO 7 in-band), serialised process-wide; null for an
   * older library that lacks one of them (`appAccountMissing` names which).
   */
  readonly appAccount: AppAccountBinding | null;
  readonly appAccountMissing: readonly string[];
  /** The management functions (`ilo-agent appaccount`); each one the library lacks rejects naming it. */
  readonly appAccountManagement: AppAccountManagement;
  initialize(): void;
  /** >0 credentials required, 0 not, <0 the query failed; 0 when the library predates it. */
  isSecurityRequired(): Promise<number>;
  disableSecurity(): void;
  initiateCredentials(user: string, password: string): void;
  verifyCredentials(): Promise<number>;
  // Calls that talk to the iLO run on worker threads: the event loop (signals) never waits.
  create(): Promise<{ rc: number; handle: ChifHandle }>;
  /** Blocking form, for a process that is leaving (see exchangeSync). */
  createSync(): { rc: number; handle: ChifHandle };
  ping(handle: ChifHandle): Promise<number>;
  setRecvTimeout(handle: ChifHandle, ms: number): void;
  close(handle: ChifHandle): Promise<number>;
  /** One packet exchange on a worker thread; the event loop (and signal handling) keeps running. */
  exchange(handle: ChifHandle, packet: Buffer): Promise<{ rc: number; response: Buffer }>;
  /** The same, blocking: only for a process that is leaving and can run nothing asynchronous. */
  exchangeSync(handle: ChifHandle, packet: Buffer): { rc: number; response: Buffer };
  // Builders: each returns a copy of the library's template (the library reuses its buffer).
  restImmediate(length: number, responseKey: string, namespace: string): Buffer;
  restBlobDesc(requestKey: string, responseKey: string, namespace: string): Buffer;
  createBlob(key: string, namespace: string): Buffer;
  writeFragment(offset: number, count: number, key: string, namespace: string): Buffer;
  finalizeBlob(key: string, namespace: string): Buffer;
  blobInfo(key: string, namespace: string): Buffer;
  readFragment(offset: number, count: number, key: string, namespace: string): Buffer;
  deleteBlob(key: string, namespace: string): Buffer;
  securityState(): Buffer;
}

/**
 * The library's TPM access is process-wide (HPE's note on its TPM semaphore): one queue for every
 * load of it in this process, whatever object calls.
 */
const APP_ACCOUNT_QUEUE = new SerialQueue();

export function bind(koffi: Koffi, lib: ReturnType<Koffi['load']>, path: string): ChifLibrary {
  const HANDLE = 'void *';
  const fn = (declaration: string, name: string): Fn => {
    try {
      return lib.func(declaration) as unknown as Fn;
    } catch {
      const missing = () => {
        throw new ChifLibraryError(`the CHIF library ${path} has no ${name} (an older library?)`);
      };
      return Object.assign(missing, { async: missing }) as unknown as Fn;
    }
  };
  const has = (name: string) => {
    try {
      lib.func(`void ${name}(void)`);
      return true;
    } catch {
      return false;
    }
  };
  const size = (name: string) => Number(fn(`int ${name}(void)`, name)());

  const updaterandval = has('updaterandval') ? fn('void updaterandval(uint16_t v)', 'updaterandval') : undefined;
  // HPE's clients seed the library's sequence numbers at every load (docs/reference/chif-abi.md §1.3).
  updaterandval?.(1 + Math.floor(Math.random() * 65535));

  const sizes: ChifSizes = {
    maxBuffer: size('get_max_buffer_size'),
    maxWrite: size('max_write_size'),
    maxRead: size('max_read_size'),
    createRequest: size('size_of_createRequest'),
    infoRequest: size('size_of_infoRequest'),
    readRequest: size('size_of_readRequest'),
    writeRequest: size('size_of_writeRequest'),
    deleteRequest: size('size_of_deleteRequest'),
    finalizeRequest: size('size_of_finalizeRequest'),
    responseHeaderBlob: size('size_of_responseHeaderBlob'),
    restImmediateRequest: size('size_of_restImmediateRequest'),
    restBlobRequest: size('size_of_restBlobRequest'),
    restResponseFixed: size('size_of_restResponseFixed'),
    securityStateRequest: has('size_of_securityStateRequest') ? size('size_of_securityStateRequest') : 0,
  };
  const sane = sizes.maxBuffer > sizes.restResponseFixed && sizes.maxWrite > sizes.writeRequest && sizes.maxRead > sizes.readRequest;
  if (!sane || Object.values(sizes).some((v) => !Number.isInteger(v) || v < 0 || v > 1 << 20)) {
    throw new ChifLibraryError(`the CHIF library ${path} reports sizes that do not fit together (${JSON.stringify(sizes)})`);
  }

  const ChifInitialize = fn('void ChifInitialize(void *reserved)', 'ChifInitialize');
  const ChifIsSecurityRequired = has('ChifIsSecurityRequired') ? fn('int ChifIsSecurityRequired(void)', 'ChifIsSecurityRequired') : undefined;
  const ChifDisableSecurity = has('ChifDisableSecurity') ? fn('void ChifDisableSecurity(void)', 'ChifDisableSecurity') : undefined;
  const initiateCredentials = fn('uint8_t *initiate_credentials(const char *user, const char *password)', 'initiate_credentials');
  const ChifVerifyCredentials = fn('int ChifVerifyCredentials(void)', 'ChifVerifyCredentials');
  const ChifCreate = fn('uint32_t ChifCreate(_Out_ void **out)', 'ChifCreate');
  const ChifPing = fn(`uint32_t ChifPing(${HANDLE} handle)`, 'ChifPing');
  const ChifSetRecvTimeout = has('ChifSetRecvTimeout') ? fn(`void ChifSetRecvTimeout(${HANDLE} handle, int ms)`, 'ChifSetRecvTimeout') : undefined;
  const ChifClose = fn(`uint32_t ChifClose(${HANDLE} handle)`, 'ChifClose');
  const ChifPacketExchange = fn(`uint32_t ChifPacketExchange(${HANDLE} handle, const uint8_t *send, _Out_ uint8_t *recv, int recvSize)`, 'ChifPacketExchange');
  const builder = (declaration: string, name: string, length: () => number) => {
    const f = fn(declaration, name);
    return (...args: unknown[]): Buffer => {
      const pointer = f(...args);
      if (!pointer) throw new ChifLibraryError(`the CHIF library's ${name} returned no packet`);
      // Copy now: the library reuses this buffer at its next builder call.
      return Buffer.from(koffi.decode(pointer, 'uint8_t', length()) as Uint8Array);
    };
  };
  const str = 'const char *';
  const restImmediate = builder(`uint8_t *rest_immediate(uint32_t len, ${str}rspKey, ${str}ns)`, 'rest_immediate', () => sizes.restImmediateRequest);
  const restBlobDesc = builder(`uint8_t *rest_immediate_blobdesc(${str}rqtKey, ${str}rspKey, ${str}ns)`, 'rest_immediate_blobdesc', () => sizes.restBlobRequest);
  const createBlob = builder(`uint8_t *create_not_blobentry(${str}key, ${str}ns)`, 'create_not_blobentry', () => sizes.createRequest);
  const writeFragment = builder(`uint8_t *write_fragment(uint32_t offset, uint32_t count, ${str}key, ${str}ns)`, 'write_fragment', () => sizes.writeRequest);
  const finalizeBlob = builder(`uint8_t *finalize_blob(${str}key, ${str}ns)`, 'finalize_blob', () => sizes.finalizeRequest);
  const blobInfo = builder(`uint8_t *get_info(${str}key, ${str}ns)`, 'get_info', () => sizes.infoRequest);
  const readFragment = builder(`uint8_t *read_fragment(uint32_t offset, uint32_t count, ${str}key, ${str}ns)`, 'read_fragment', () => sizes.readRequest);
  const deleteBlob = builder(`uint8_t *delete_blob(${str}key, ${str}ns)`, 'delete_blob', () => sizes.deleteRequest);
  const securityState = builder('uint8_t *get_security_state(void)', 'get_security_state', () => sizes.securityStateRequest);

  const appAccountMissing = APP_ACCOUNT_SYMBOLS.filter((name) => !has(name));
  const appAccount = appAccountMissing.length === 0 ? serialised(bindAppAccount(lib, callAsync as never), APP_ACCOUNT_QUEUE) : null;
  const appAccountManagement = serialisedManagement(
    bindAppAccountManagement(
      lib,
      callAsync as never,
      (pointer, type, count) => koffi.decode(pointer, koffi.array(type, count)) as unknown[],
      has,
      (name) => new ChifLibraryError(`HPE's library ${path} has no ${name} (an older library: install iLOrest 7's library for application-account management)`),
    ),
    APP_ACCOUNT_QUEUE,
  );

  return {
    path,
    sizes,
    appAccount,
    appAccountMissing,
    appAccountManagement,
    initialize: () => void ChifInitialize(null),
    isSecurityRequired: async () => (ChifIsSecurityRequired ? Number(await callAsync(ChifIsSecurityRequired)) : 0),
    disableSecurity: () => void ChifDisableSecurity?.(),
    initiateCredentials: (user, password) => void initiateCredentials(user, password),
    verifyCredentials: async () => Number(await callAsync(ChifVerifyCredentials)),
    create: async () => {
      const out: unknown[] = [null];
      const rc = Number(await callAsync(ChifCreate, out));
      return { rc, handle: out[0] };
    },
    createSync: () => {
      const out: unknown[] = [null];
      const rc = Number(ChifCreate(out));
      return { rc, handle: out[0] };
    },
    ping: async (handle) => Number(await callAsync(ChifPing, handle)),
    setRecvTimeout: (handle, ms) => void ChifSetRecvTimeout?.(handle, ms),
    close: (handle) =>
      track(new Promise((resolve) => {
        // ChifClose can take about a second in HPE's library: never on the event loop.
        ChifClose.async(handle, (error: unknown, rc: unknown) => resolve(error ? -1 : Number(rc)));
      })),
    exchange: (handle, packet) =>
      track(new Promise((resolve, reject) => {
        const response = Buffer.alloc(sizes.maxBuffer);
        ChifPacketExchange.async(handle, packet, response, sizes.maxBuffer, (error: unknown, rc: unknown) => {
          // `packet` and `response` stay referenced until here: the native call uses them.
          if (error) reject(new ChifLibraryError(`ChifPacketExchange failed: ${String(error)}`));
          else resolve({ rc: Number(rc), response });
        });
      })),
    exchangeSync: (handle, packet) => {
      const response = Buffer.alloc(sizes.maxBuffer);
      const rc = Number(ChifPacketExchange(handle, packet, response, sizes.maxBuffer));
      return { rc, response };
    },
    restImmediate: (length, responseKey, namespace) => restImmediate(length, responseKey, namespace),
    restBlobDesc: (requestKey, responseKey, namespace) => restBlobDesc(requestKey, responseKey, namespace),
    createBlob: (key, namespace) => createBlob(key, namespace),
    writeFragment: (offset, count, key, namespace) => writeFragment(offset, count, key, namespace),
    finalizeBlob: (key, namespace) => finalizeBlob(key, namespace),
    blobInfo: (key, namespace) => blobInfo(key, namespace),
    readFragment: (offset, count, key, namespace) => readFragment(offset, count, key, namespace),
    deleteBlob: (key, namespace) => deleteBlob(key, namespace),
    securityState: () => securityState(),
  };
}
