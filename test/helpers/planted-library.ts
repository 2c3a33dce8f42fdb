// A "planted" shared library: its constructor runs at load time, before any symbol is looked up,
// and appends a line to `<path>.ran`. A test that expects a refusal checks that no marker exists.
// Also the root-only guard of the tests that chown files.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';

export const AS_ROOT = process.geteuid?.() === 0;

/** Not root: the caller's describe is skipped (visibly); under CI=true a failing test says why. */
export function requireRoot(what: string): boolean {
  if (!AS_ROOT && process.env.CI === 'true') {
    it(`${what} needs root (required when CI=true)`, () => {
      throw new Error(`${what} must run as root under CI: they plant files owned by other users`);
    });
  }
  return AS_ROOT;
}

/** Builds a library with a constructor at `path` (mode 0755); returns the marker it would write. */
export function plantLibrary(path: string): string {
  const marker = `${path}.ran`;
  const build = mkdtempSync(join(tmpdir(), 'ilo-agent-plant-'));
  try {
    const source = join(build, 'planted.c');
    writeFileSync(
      source,
      `#include <stdio.h>\n#include <unistd.h>\n__attribute__((constructor)) static void planted(void) {\n` +
        `  FILE *f = fopen(${JSON.stringify(marker)}, "a"); if (f) { fprintf(f, "loaded by pid %d euid %d\\n", getpid(), geteuid()); fclose(f); }\n}\n`,
    );
    execFileSync('gcc', ['-shared', '-fPIC', '-o', path, source], { stdio: 'pipe' });
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
  if (existsSync(marker)) rmSync(marker);
  return marker;
}
