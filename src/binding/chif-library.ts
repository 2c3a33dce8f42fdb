// The one place that touches koffi and HPE's CHIF library (libilorestchif / ilorest_chif).
// Every function is looked up on its own: older libraries lack some symbols, and a missing one
// becomes a clear ChifLibraryError when used, never a crash at load. Every size is read from the
// library at run time; every packet comes from the library's own builders.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ChifLibraryError } from '../errors.js';
import { APP_ACCOUNT_SYMBOLS, bindAppAccount, bindAppAccountManagement, serialised, serialisedManagement, SerialQueue, type AppAccountBinding, type AppAccountManagement } from './app-account.js';
import { checkTrustedPath, type PathVerdict } from './trusted-path.js';

export type Koffi = typeof import('koffi');
type Fn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

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
 * Where the library is looked for when none is named: HPE's search order (docs/reference/chif-abi.md §1.2) without
 * its working-directory step, and without the loader's own search on Linux (LD_LIBRARY_PATH's
 * entries are listed here instead), so that every candidate is a file that can be checked before
 * it is loaded (see checkTrustedPath).
 */
export function candidatePaths(platform: NodeJS.Platform = process.platform, execPath = process.execPath, env: NodeJS.ProcessEnv = process.env): string[] {
  // Windows: the bare name goes through the system's DLL search, with the current directory
  // taken out of it (loadChifLibrary).
  if (platform === 'win32') return [join(dirname(execPath), 'ilorest_chif.dll'), 'ilorest_chif.dll'];
  if (platform !== 'linux') return [];
  const names = ['ilorest_chif_dev.so', 'ilorest_chif.so'];
  // The loader reads LD_LIBRARY_PATH split on ':'; an empty or relative entry would mean the
  // working directory, which is never searched.
  const searchPath = (env.LD_LIBRARY_PATH ?? '').split(':').filter((dir) => isAbsolute(dir));
  return [
    '/opt/ilorest/lib64/libilorestchif.so',
    ...names.map((n) => join(dirname(execPath), n)),
    '/usr/lib64/ilorest_chif.so',
    '/usr/lib/x86_64-linux-gnu/ilorest_chif.so',
    ...searchPath.flatMap((dir) => ['libilorestchif.so', 'ilorest_chif.so'].map((n) => join(dir, n))),
  ];
}

/**
 * The library's TPM access is process-wide (HPE's note on its TPM semaphore): one queue for every
 * load of it in this process, whatever object calls.
 */
const APP_ACCOUNT_QUEUE = new SerialQueue();

let koffiPromise: Promise<Koffi> | undefined;
let loadedKoffi: Koffi | undefined;
/** Native calls running on worker threads right now (an exchange the iLO sits on, a ChifClose). */
let nativeCallsInFlight = 0;

/** Whether a native call is still running: then a normal exit would wait for it (see exitNow). */
export function nativeCallsPending(): boolean {
  return nativeCallsInFlight > 0;
}

/**
 * Ends the process at once with `code`. A normal exit joins libuv's worker threads, and one of
 * them may sit in an exchange the iLO never answers: only _exit (TerminateProcess on Windows)
 * leaves without waiting. Callers have flushed what matters (stdout and stderr to pipes and
 * files are synchronous on Linux).
 */
export function exitNow(code: number): void {
  const koffi = loadedKoffi;
  if (!koffi) return;
  try {
    if (process.platform === 'win32') {
      const kernel32 = koffi.load('kernel32.dll');
      const current = kernel32.func('void *GetCurrentProcess(void)');
      kernel32.func('int TerminateProcess(void *process, uint32_t code)')(current(), code);
    } else {
      koffi.load(null).func('void _exit(int code)')(code);
    }
  } catch {
    // fall back to the normal exit
  }
}

/** A native call on a worker thread, counted while it runs. */
function callAsync(fn: Fn, ...args: unknown[]): Promise<unknown> {
  return track(
    new Promise((resolve, reject) => {
      fn.async(...args, (error: unknown, result: unknown) => (error ? reject(new ChifLibraryError(`a CHIF call failed: ${String(error)}`)) : resolve(result)));
    }),
  );
}

function track<T>(call: Promise<T>): Promise<T> {
  nativeCallsInFlight++;
  const done = () => nativeCallsInFlight--;
  call.then(done, done);
  return call;
}

let koffiNativePath: string | undefined;

/**
 * Loads koffi's native module from `path` instead of the koffi package: the single executable
 * ships it beside itself (a native module must be a file to be loaded, and nothing is written).
 * The package's JavaScript only finds that file and adds deprecated aliases we do not use.
 */
export function useKoffiNativeModule(path: string): void {
  koffiNativePath = path;
}

/**
 * The koffi package's own native module for this platform, loaded as the single executable loads
 * its copy: koffi's JavaScript costs about 5 ms of start-up, which every run that holds a secret
 * would pay (protectSecrets() loads koffi). Undefined where the name differs (musl, 32-bit ARM):
 * the package then finds it.
 */
function packagedNativeModule(): string | undefined {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('koffi'));
    const path = join(root, 'build', 'koffi', `${process.platform}_${process.arch}`, 'koffi.node');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

function importPackage(): Promise<Koffi> {
  return import('koffi').then((module) => ((module as { default?: Koffi }).default ?? module) as Koffi);
}

function importKoffi(): Promise<Koffi> {
  if (koffiNativePath === undefined) {
    const packaged = packagedNativeModule();
    if (packaged === undefined) return importPackage();
    const holder = { exports: {} as Koffi };
    try {
      process.dlopen(holder, packaged);
      return Promise.resolve(holder.exports);
    } catch {
      return importPackage(); // a build for another C library (musl): the package knows which
    }
  }
  const path = koffiNativePath;
  return new Promise((resolve) => {
    const holder = { exports: {} as Koffi };
    try {
      process.dlopen(holder, path);
    } catch (error) {
      throw new ChifLibraryError(`koffi's native module could not be loaded from ${path} (it ships beside the executable): ${(error as Error).message}`);
    }
    resolve(holder.exports);
  });
}

/** Loads koffi once, with large native stacks: HPE's library's stack use is unknown (docs/reference/chif-abi.md §2.8). */
export function loadKoffi(): Promise<Koffi> {
  koffiPromise ??= importKoffi().then((koffi) => {
    try {
      koffi.config({ ...koffi.config(), async_stack_size: 8 << 20, sync_stack_size: 8 << 20 });
    } catch {
      // a library was already loaded in this process: the configuration is fixed by then
    }
    loadedKoffi = koffi;
    return koffi;
  });
  return koffiPromise;
}

export interface LoadOptions {
  /** Told of each candidate skipped because another user could change it. */
  warn?: (message: string) => void;
}

/**
 * Finds and loads the library: `explicitPath` (--chif-lib / ILO_CHIF_LIB) alone when given,
 * otherwise the candidates above, in order. Never falls back to anything else. On Unix a file is
 * loaded only when checkTrustedPath trusts it: a named one that fails is refused, a candidate of
 * the search that fails is skipped with a warning.
 */
export async function loadChifLibrary(explicitPath?: string, options: LoadOptions = {}): Promise<ChifLibrary> {
  const koffi = await loadKoffi();
  const euid = process.geteuid?.();
  const check = (path: string): PathVerdict => {
    if (euid !== undefined) return checkTrustedPath(path, euid);
    // Windows: no owner and mode to read (ACLs); a bare name is the system's search.
    return isAbsolute(path) && !existsSync(path) ? { kind: 'missing', reason: 'ENOENT' } : { kind: 'trusted' };
  };
  const candidates = explicitPath !== undefined ? [absolute(explicitPath)] : candidatePaths();
  if (candidates.length === 0) throw new ChifLibraryError(`in-band access (CHIF) is not available on ${process.platform}; give --url to use HTTPS`);
  if (process.platform === 'win32') keepWorkingDirectoryOutOfDllSearch(koffi);
  const tried: string[] = [];
  const refused: string[] = [];
  let lastError: unknown;
  for (const path of candidates) {
    const verdict = check(path);
    if (verdict.kind === 'missing') {
      tried.push(explicitPath !== undefined ? `${path} (${verdict.reason})` : path);
      continue;
    }
    if (verdict.kind === 'unsafe') {
      if (explicitPath !== undefined) {
        const rule = euid === 0 ? "root's and not writable by group or others" : "yours or root's and not writable by others";
        throw new ChifLibraryError(
          `refusing to load the CHIF library ${path}: ${verdict.reason}, so another user could make this process run their code; the file and every directory above it must be ${rule}`,
        );
      }
      options.warn?.(`skipping the CHIF library ${path}: ${verdict.reason}`);
      refused.push(`${path} (${verdict.reason})`);
      continue;
    }
    try {
      return bind(koffi, koffi.load(path), path);
    } catch (error) {
      tried.push(path);
      lastError = error;
      if (error instanceof ChifLibraryError) throw error;
    }
  }
  const skipped = refused.length > 0 ? `; refused as unsafe: ${refused.join(', ')}` : '';
  throw new ChifLibraryError(
    `HPE's CHIF library was not found (looked for ${tried.join(', ')}${skipped}); install HPE iLOrest's library, or name it with --chif-lib / ILO_CHIF_LIB, or give --url to use HTTPS`,
    { cause: lastError },
  );
}

/** A named path, made absolute: a relative one means the working directory, which may be gone. */
function absolute(path: string): string {
  if (path === '') throw new ChifLibraryError('the CHIF library path (--chif-lib / ILO_CHIF_LIB) is empty');
  if (isAbsolute(path)) return path;
  try {
    return resolve(path);
  } catch (error) {
    throw new ChifLibraryError(`the CHIF library path ${path} is relative and the working directory is gone (${(error as NodeJS.ErrnoException).code ?? 'error'}); give an absolute path`);
  }
}

/**
 * SetDllDirectoryW("") takes the current directory out of LoadLibrary's search order for the
 * process (Microsoft's "Dynamic-link library search order"); the system's folders stay.
 */
function keepWorkingDirectoryOutOfDllSearch(koffi: Koffi): void {
  try {
    koffi.load('kernel32.dll').func('int __stdcall SetDllDirectoryW(const char16_t *path)')('');
  } catch {
    // an older system: the search is as Windows sets it
  }
}

function bind(koffi: Koffi, lib: ReturnType<Koffi['load']>, path: string): ChifLibrary {
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
