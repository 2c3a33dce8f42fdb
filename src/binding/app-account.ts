// HPE's application-account functions (iLO 7 in-band), as HPE's own clients declare them
// (python-ilorest-library src/redfish/hpilo/vnichpilo.py: DetectILO, ReadyToUse,
// AppIdExistsinTPM, GetSessionID). They live in the same library as CHIF. The binding is an
// interface: the koffi one below for the real library, a test double for tests.

/** The answer of `int DetectILO(const char *appid, int *iloType, int *securityState)`. */
export interface DetectIloResult {
  rc: number;
  iloType: number;
  securityState: number;
}

/**
 * What ilo-agent calls. Strings out of the library are copied into JS strings at once (the
 * library owns them and nobody frees them: vnichpilo.py never does).
 */
export interface AppAccountBinding {
  detectIlo(appid: string): Promise<DetectIloResult>;
  /** `int ReadyToUse(void)`: 0 = the vNIC is ready. */
  readyToUse(): Promise<number>;
  /** `int AppIdExistsinTPM(const char *appid, bool *exists)`. */
  appIdExistsInTpm(appid: string): Promise<{ rc: number; exists: boolean }>;
  /** `int GetSessionID(appid, appname, salt, char **sessionId, char **sessionLocation)`. */
  getSessionId(appid: string, appname: string, salt: string): Promise<{ rc: number; token: string | null; location: string | null }>;
  /**
   * `const wchar_t *GetIPAddress(void)`: the vNIC address the library knows (vnichpilo.py declares
   * it with restype c_wchar_p; iLOrest 7.2 does not use it). Absent when the library lacks the
   * symbol; null when it returns NULL.
   */
  getIpAddress?(): Promise<string | null>;
}

/** The symbols the app-token login needs; a library without one of them is an older, CHIF-only one. */
export const APP_ACCOUNT_SYMBOLS = ['DetectILO', 'ReadyToUse', 'AppIdExistsinTPM', 'GetSessionID'] as const;

/** One entry of `CompareAppIds`: an application account as the TPM and the iLO know it. */
export interface ComparedAppId {
  id: string;
  name: string;
  inTpm: boolean;
  inIlo: boolean;
}

/**
 * The management functions (`ilo-agent appaccount`), optional: a library that lacks one answers
 * with a rejected promise naming the symbol (`missing`), never a crash at load.
 */
export interface AppAccountManagement {
  /** The symbols this library lacks (empty: all there). */
  readonly missing: readonly string[];
  /**
   * `int GenerateAppToken(appid, appname, salt, user, password, ownerAuth)`: always called with 6
   * arguments, ownerAuth "" (ilorest 7.x passes b""; a 5-parameter library ignores the 6th).
   */
  generateAppToken(appid: string, appname: string, salt: string, user: string, password: string): Promise<number>;
  /** `int DeleteAppToken(appid, appname, salt)`: the TPM token, no credentials. */
  deleteAppToken(appid: string, appname: string, salt: string): Promise<number>;
  /** `int DeleteAppTokenUsingCreds(appid, user, password)`. */
  deleteAppTokenUsingCreds(appid: string, user: string, password: string): Promise<number>;
  /** `int CompareAppIds(appid, appname, salt, char ***ids, char ***names, int *count, uint8_t **inTpm, uint8_t **inIlo)`. */
  compareAppIds(appid: string, appname: string, salt: string): Promise<{ rc: number; accounts: ComparedAppId[] }>;
}

export const APP_ACCOUNT_MANAGEMENT_SYMBOLS = ['GenerateAppToken', 'DeleteAppToken', 'DeleteAppTokenUsingCreds', 'CompareAppIds'] as const;

/** Copies `count` elements of `type` from a pointer the library returned (never freed: HPE's clients do not). */
export type DecodeArray = (pointer: unknown, type: 'const char *' | 'uint8_t', count: number) => unknown[];

/** A loaded library, as far as this file needs it (koffi's library object). */
export interface NativeLibrary {
  func(declaration: string): unknown;
}

type AsyncFn = (fn: never, ...args: unknown[]) => Promise<unknown>;

/**
 * The koffi binding. `callAsync` runs a function on koffi's worker thread (and counts it as a
 * native call in flight): the library does TPM and network I/O with unknown timeouts, and the
 * event loop (signals) must never wait for it. Declarations as checked with koffi 2.16.
 */
export function bindAppAccount(lib: NativeLibrary, callAsync: AsyncFn): AppAccountBinding {
  const DetectILO = lib.func('int DetectILO(const char *appid, _Out_ int *iloType, _Out_ int *securityState)') as never;
  const ReadyToUse = lib.func('int ReadyToUse(void)') as never;
  const AppIdExistsinTPM = lib.func('int AppIdExistsinTPM(const char *appid, _Out_ bool *exists)') as never;
  const GetSessionID = lib.func('int GetSessionID(const char *appid, const char *appname, const char *salt, _Out_ const char **id, _Out_ const char **loc)') as never;
  const GetIPAddress = optional(lib, 'const wchar_t *GetIPAddress(void)');
  return {
    ...(GetIPAddress !== undefined && {
      async getIpAddress() {
        const address = await callAsync(GetIPAddress as never);
        return typeof address === 'string' ? address : null;
      },
    }),
    async detectIlo(appid) {
      const type = [0];
      const state = [0];
      const rc = Number(await callAsync(DetectILO, appid, type, state));
      return { rc, iloType: Number(type[0]), securityState: Number(state[0]) };
    },
    async readyToUse() {
      return Number(await callAsync(ReadyToUse));
    },
    async appIdExistsInTpm(appid) {
      const exists = [false];
      const rc = Number(await callAsync(AppIdExistsinTPM, appid, exists));
      return { rc, exists: exists[0] === true };
    },
    async getSessionId(appid, appname, salt) {
      const id: unknown[] = [null];
      const loc: unknown[] = [null];
      const rc = Number(await callAsync(GetSessionID, appid, appname, salt, id, loc));
      return { rc, token: typeof id[0] === 'string' ? id[0] : null, location: typeof loc[0] === 'string' ? loc[0] : null };
    },
  };
}

/** A function the library may lack (koffi throws when the symbol is not exported). */
function optional(lib: NativeLibrary, declaration: string): unknown {
  try {
    return lib.func(declaration);
  } catch {
    return undefined;
  }
}

/**
 * The management functions, each looked up on its own. `has` says whether the library exports a
 * symbol; `missingError` makes the error for one it lacks. Arrays out of CompareAppIds are copied
 * with `decode` (docs/reference/ilo7-inband.md §2.4: `_Out_ void **` then a typed array; a bare char* must never be decoded).
 */
export function bindAppAccountManagement(
  lib: NativeLibrary,
  callAsync: AsyncFn,
  decode: DecodeArray,
  has: (name: string) => boolean,
  missingError: (name: string) => Error,
): AppAccountManagement {
  const missing = APP_ACCOUNT_MANAGEMENT_SYMBOLS.filter((name) => !has(name));
  const declare = (name: (typeof APP_ACCOUNT_MANAGEMENT_SYMBOLS)[number], declaration: string): never | undefined =>
    missing.includes(name) ? undefined : (lib.func(declaration) as never);
  const GenerateAppToken = declare('GenerateAppToken', 'int GenerateAppToken(const char *appid, const char *appname, const char *salt, const char *user, const char *password, const char *ownerAuth)');
  const DeleteAppToken = declare('DeleteAppToken', 'int DeleteAppToken(const char *appid, const char *appname, const char *salt)');
  const DeleteAppTokenUsingCreds = declare('DeleteAppTokenUsingCreds', 'int DeleteAppTokenUsingCreds(const char *appid, const char *user, const char *password)');
  const CompareAppIds = declare(
    'CompareAppIds',
    'int CompareAppIds(const char *appid, const char *appname, const char *salt, _Out_ void **ids, _Out_ void **names, _Out_ int *count, _Out_ void **inTpm, _Out_ void **inIlo)',
  );
  const call = async (fn: never | undefined, name: string, ...args: unknown[]): Promise<number> => {
    if (fn === undefined) throw missingError(name);
    return Number(await callAsync(fn, ...args));
  };
  return {
    missing,
    generateAppToken: (appid, appname, salt, user, password) => call(GenerateAppToken, 'GenerateAppToken', appid, appname, salt, user, password, ''),
    deleteAppToken: (appid, appname, salt) => call(DeleteAppToken, 'DeleteAppToken', appid, appname, salt),
    deleteAppTokenUsingCreds: (appid, user, password) => call(DeleteAppTokenUsingCreds, 'DeleteAppTokenUsingCreds', appid, user, password),
    async compareAppIds(appid, appname, salt) {
      const ids: unknown[] = [null];
      const names: unknown[] = [null];
      const count: unknown[] = [0];
      const inTpm: unknown[] = [null];
      const inIlo: unknown[] = [null];
      const rc = await call(CompareAppIds, 'CompareAppIds', appid, appname, salt, ids, names, count, inTpm, inIlo);
      const n = Number(count[0]);
      if (rc !== 0 || !Number.isInteger(n) || n <= 0 || !ids[0] || !names[0] || !inTpm[0] || !inIlo[0]) return { rc, accounts: [] };
      const [i, m, t, l] = [decode(ids[0], 'const char *', n), decode(names[0], 'const char *', n), decode(inTpm[0], 'uint8_t', n), decode(inIlo[0], 'uint8_t', n)];
      const text = (v: unknown) => (typeof v === 'string' ? v : '');
      return { rc, accounts: i.map((id, k) => ({ id: text(id), name: text(m[k]), inTpm: Number(t[k]) !== 0, inIlo: Number(l[k]) !== 0 })) };
    },
  };
}

/** The management functions through the same queue as the login ones (one TPM user at a time). */
export function serialisedManagement(management: AppAccountManagement, queue: SerialQueue): AppAccountManagement {
  return {
    missing: management.missing,
    generateAppToken: (...args) => queue.run(() => management.generateAppToken(...args)),
    deleteAppToken: (...args) => queue.run(() => management.deleteAppToken(...args)),
    deleteAppTokenUsingCreds: (...args) => queue.run(() => management.deleteAppTokenUsingCreds(...args)),
    compareAppIds: (...args) => queue.run(() => management.compareAppIds(...args)),
  };
}

/**
 * One call at a time through `queue`: HPE notes that concurrent TPM access through the library
 * breaks its TPM semaphore (GetSessionID then answers 0 with empty outputs). The real binding
 * shares one queue per process (the library is process-wide); a test gives its own.
 */
export function serialised(binding: AppAccountBinding, queue: SerialQueue = new SerialQueue()): AppAccountBinding {
  return {
    detectIlo: (appid) => queue.run(() => binding.detectIlo(appid)),
    readyToUse: () => queue.run(() => binding.readyToUse()),
    appIdExistsInTpm: (appid) => queue.run(() => binding.appIdExistsInTpm(appid)),
    getSessionId: (appid, appname, salt) => queue.run(() => binding.getSessionId(appid, appname, salt)),
    ...(binding.getIpAddress && { getIpAddress: () => queue.run(() => (binding.getIpAddress as () => Promise<string | null>)()) }),
  };
}

export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work, work);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
