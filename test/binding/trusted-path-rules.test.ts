// checkTrustedPath's finer rules, with the exact verdicts: the reasons it gives, the sticky bit
// (a directory's excuse only), Linux's limit of 40 links, and paths that name no regular file
// (a file used as a directory, a trailing /, a directory, a link to one, `..` at the end). Files are made root's
// or another user's, so these need root like test/binding/trusted-path.test.ts.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTrustedPath } from '../../src/binding/trusted-path.js';
import { requireRoot } from '../helpers/planted-library.js';

const OTHER_UID = 65534; // nobody

describe.runIf(requireRoot('the trusted-path rules'))('checkTrustedPath as root (SKIPPED when not root: these tests chown files)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ilo-agent-trust-rules-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh directory (root's, 0755) under the test's directory. */
  const folder = (name: string): string => {
    const path = join(dir, name);
    mkdirSync(path, { recursive: true });
    chmodSync(path, 0o755);
    return path;
  };
  /** A regular file of `mode`, root's. */
  const file = (path: string, mode = 0o755): string => {
    writeFileSync(path, 'not a library: checkTrustedPath never loads it\n');
    chmodSync(path, mode);
    return path;
  };

  it('the reasons: a relative path, and for root an owner that is not root', () => {
    expect(checkTrustedPath('relative/lib.so', 0)).toEqual({ kind: 'unsafe', reason: 'relative/lib.so is not an absolute path' });
    const d = folder('owner');
    chownSync(d, OTHER_UID, 0);
    const lib = file(join(d, 'lib.so'));
    // root is told "not root" (no "or uid 0")
    expect(checkTrustedPath(lib, 0)).toEqual({ kind: 'unsafe', reason: `directory ${d} is owned by uid ${OTHER_UID}, not root` });
  });

  it('the sticky bit excuses a writable directory, never a writable file', () => {
    const d = folder('sticky-file');
    const lib = file(join(d, 'lib.so'), 0o1777);
    expect(checkTrustedPath(lib, 0)).toEqual({ kind: 'unsafe', reason: `file ${lib} is writable by every user (mode 1777)` });
  });

  it('40 links in one lookup are followed, the 41st is too many (as the kernel)', () => {
    const d = folder('links');
    const lib = file(join(d, 'lib.so'));
    // link-1 -> lib.so, link-k -> link-(k-1): opening link-k follows k links
    symlinkSync('lib.so', join(d, 'link-1'));
    for (let k = 2; k <= 41; k++) symlinkSync(`link-${k - 1}`, join(d, `link-${k}`));
    expect(checkTrustedPath(join(d, 'link-40'), 0)).toEqual({ kind: 'trusted' });
    expect(checkTrustedPath(join(d, 'link-41'), 0)).toEqual({ kind: 'missing', reason: 'too many symbolic links' });
    expect(checkTrustedPath(lib, 0)).toEqual({ kind: 'trusted' });
  });

  it('a file used as a directory, or a directory where the file should be: missing, with why', () => {
    const d = folder('shapes');
    const lib = file(join(d, 'lib.so'));
    expect(checkTrustedPath(join(lib, 'inner.so'), 0)).toEqual({ kind: 'missing', reason: `${lib} is not a directory` });
    expect(checkTrustedPath(d, 0)).toEqual({ kind: 'missing', reason: `${d} is not a regular file` });
    // a trailing / or /. asks for a directory (the kernel answers ENOTDIR), also through a link
    expect(checkTrustedPath(`${lib}/`, 0)).toEqual({ kind: 'missing', reason: `${lib} is not a directory` });
    expect(checkTrustedPath(`${lib}/.`, 0)).toEqual({ kind: 'missing', reason: `${lib} is not a directory` });
    symlinkSync('lib.so/', join(d, 'slash.so'));
    expect(checkTrustedPath(join(d, 'slash.so'), 0)).toEqual({ kind: 'missing', reason: `${lib} is not a directory` });
    // empty names and . in between change nothing
    expect(checkTrustedPath(`${d}//./lib.so`, 0)).toEqual({ kind: 'trusted' });
  });

  it('a path that ends in a link to a directory, in `..`, or is / names no file: missing, never trusted', () => {
    const d = folder('ends');
    symlinkSync('.', join(d, 'here.so'));
    expect(checkTrustedPath(join(d, 'here.so'), 0)).toEqual({ kind: 'missing', reason: `${d} is not a regular file` });
    symlinkSync('/', join(d, 'root.so'));
    expect(checkTrustedPath(join(d, 'root.so'), 0)).toEqual({ kind: 'missing', reason: '/ is not a regular file' });
    expect(checkTrustedPath(`${d}/..`, 0)).toEqual({ kind: 'missing', reason: `${dirname(d)} is not a regular file` });
    expect(checkTrustedPath('/', 0)).toEqual({ kind: 'missing', reason: '/ is not a regular file' });
  });
});
