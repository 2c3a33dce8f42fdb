// The one place that loads koffi and HPE's CHIF library (libilorestchif / ilorest_chif): where the
// library is looked for, which files are trusted, and koffi's own loading. The library's functions
// are declared to koffi in chif-binding.ts.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ChifLibraryError } from '../errors.js';
import { bind, type ChifLibrary } from './chif-binding.js';
import { checkTrustedPath, type PathVerdict } from './trusted-path.js';

export type Koffi = typeof import('koffi');

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

let koffiPromise: Promise<Koffi> | undefined;
let loadedKoffi: Koffi | undefined;

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
