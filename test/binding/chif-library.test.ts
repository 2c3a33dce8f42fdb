// How loadChifLibrary finds the library, without root: a named path (empty, relative, missing, not
// a library, writable by others) and the search through LD_LIBRARY_PATH (an unsafe candidate
// skipped with a warning, a broken one passed over, a safe one loaded). The root-only cases (files
// owned by other users) are in trusted-path.test.ts.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { candidatePaths, loadChifLibrary } from '../../src/binding/index.js';
import { loadKoffi } from '../../src/binding/chif-library.js';
import { ChifLibraryError } from '../../src/errors.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { rejectionOf } from '../helpers/wait.js';

const EMULATOR = resolve(PROJECT_ROOT, 'dist/native/libilorestchif.so');
const ROOT = process.geteuid?.() === 0;

let dir: string;
const savedSearchPath = process.env.LD_LIBRARY_PATH;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilo-agent-chiflib-')); // 0700, ours
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  if (savedSearchPath === undefined) delete process.env.LD_LIBRARY_PATH;
  else process.env.LD_LIBRARY_PATH = savedSearchPath;
});

/** A fresh directory (0755) under the test's directory. */
const folder = (name: string): string => {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true, mode: 0o755 });
  chmodSync(path, 0o755);
  return path;
};

it('gives no candidate on a system without in-band access', () => {
  expect(candidatePaths('darwin', '/usr/local/bin/node', { LD_LIBRARY_PATH: '/opt/a' })).toEqual([]);
});

it('loads koffi with 8 MiB native stacks (HPE\'s library\'s stack use is unknown)', async () => {
  const koffi = await loadKoffi();
  expect(koffi.config()).toMatchObject({ async_stack_size: 8 << 20, sync_stack_size: 8 << 20 });
  expect(await loadKoffi()).toBe(koffi);
});

describe('a named library', () => {
  it('an empty name is refused as such', async () => {
    const error = await rejectionOf(loadChifLibrary(''));
    expect(error).toBeInstanceOf(ChifLibraryError);
    expect(error.message).toBe('the CHIF library path (--chif-lib / ILO_CHIF_LIB) is empty');
  });

  it('a relative name is made absolute against the working directory', async () => {
    const lib = await loadChifLibrary(relative(process.cwd(), EMULATOR));
    expect(lib.path).toBe(EMULATOR);
    expect(lib.sizes.maxBuffer).toBe(4096);
  });

  it('a missing file: not found, naming the path and why', async () => {
    const path = join(dir, 'nope.so');
    const error = await rejectionOf(loadChifLibrary(path));
    expect(error).toBeInstanceOf(ChifLibraryError);
    expect(error.message).toBe(
      `HPE's CHIF library was not found (looked for ${path} (ENOENT)); install HPE iLOrest's library, or name it with --chif-lib / ILO_CHIF_LIB, or give --url to use HTTPS`,
    );
    expect(error.cause).toBeUndefined();
  });

  it('a file that is not a library: not found, with the loader\'s error as the cause', async () => {
    const path = join(folder('text'), 'lib.so');
    writeFileSync(path, 'not a library\n', { mode: 0o644 });
    const error = await rejectionOf(loadChifLibrary(path));
    expect(error).toBeInstanceOf(ChifLibraryError);
    expect(error.message).toMatch(new RegExp(`^HPE's CHIF library was not found \\(looked for ${path}\\); install`));
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('a file other users can write to is refused, saying what the file and its directories must be', async () => {
    const path = join(folder('open'), 'lib.so');
    copyFileSync(EMULATOR, path);
    chmodSync(path, 0o666);
    const error = await rejectionOf(loadChifLibrary(path));
    expect(error).toBeInstanceOf(ChifLibraryError);
    const rule = ROOT ? "root's and not writable by group or others" : "yours or root's and not writable by others";
    expect(error.message).toMatch(new RegExp(`^refusing to load the CHIF library ${path}: .+, so another user could make this process run their code; `));
    expect(error.message.endsWith(`the file and every directory above it must be ${rule}`)).toBe(true);
  });
});

describe('the search (no name)', () => {
  it('skips an unsafe candidate with a warning, passes over one that does not load, and says both', async () => {
    const open = folder('search-open');
    copyFileSync(EMULATOR, join(open, 'libilorestchif.so'));
    chmodSync(join(open, 'libilorestchif.so'), 0o666);
    writeFileSync(join(open, 'ilorest_chif.so'), 'not a library\n', { mode: 0o644 });
    process.env.LD_LIBRARY_PATH = open;
    const warnings: string[] = [];
    const error = await rejectionOf(loadChifLibrary(undefined, { warn: (message) => warnings.push(message) }));
    expect(error).toBeInstanceOf(ChifLibraryError);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^skipping the CHIF library ${open}/libilorestchif.so: .+`))]);
    const reason = (warnings[0] as string).slice(`skipping the CHIF library ${open}/libilorestchif.so: `.length);
    // Every candidate is named; the missing ones without a reason (they are the usual case).
    const looked = candidatePaths().filter((path) => path !== join(open, 'libilorestchif.so'));
    expect(error.message).toBe(
      `HPE's CHIF library was not found (looked for ${looked.join(', ')}; refused as unsafe: ${open}/libilorestchif.so (${reason})); ` +
        "install HPE iLOrest's library, or name it with --chif-lib / ILO_CHIF_LIB, or give --url to use HTTPS",
    );
    expect(error.cause).toBeInstanceOf(Error); // the loader's, for the file that is not a library
  });

  it('without a warn callback: the unsafe candidates are only named in the error', async () => {
    const first = folder('search-open3');
    const second = folder('search-open4');
    for (const d of [first, second]) {
      copyFileSync(EMULATOR, join(d, 'libilorestchif.so'));
      chmodSync(join(d, 'libilorestchif.so'), 0o666);
    }
    process.env.LD_LIBRARY_PATH = `${first}:${second}`;
    const error = await rejectionOf(loadChifLibrary());
    expect(error).toBeInstanceOf(ChifLibraryError);
    expect(error.message).toMatch(new RegExp(`; refused as unsafe: ${first}/libilorestchif.so \\(.+\\), ${second}/libilorestchif.so \\(.+\\)\\); install`));
  });

  it('loads the first safe candidate, after the unsafe one is skipped', async () => {
    const open = folder('search-open2');
    copyFileSync(EMULATOR, join(open, 'libilorestchif.so'));
    chmodSync(join(open, 'libilorestchif.so'), 0o666);
    const safe = folder('search-safe');
    copyFileSync(EMULATOR, join(safe, 'ilorest_chif.so'));
    chmodSync(join(safe, 'ilorest_chif.so'), 0o755);
    process.env.LD_LIBRARY_PATH = `${open}:${safe}`;
    const warnings: string[] = [];
    const lib = await loadChifLibrary(undefined, { warn: (message) => warnings.push(message) });
    expect(lib.path).toBe(join(safe, 'ilorest_chif.so'));
    expect(warnings).toHaveLength(1);
  });
});
