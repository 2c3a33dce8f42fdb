// Builds the CHIF emulator (native-bindings/emulator/*.c) into dist/native/libilorestchif.so.
// Run by `npm run build` after tsc. Linux only; skipped elsewhere. Quiet: one line on stderr.
// `--force` rebuilds even when the library is newer than every source.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NATIVE = join(ROOT, 'native-bindings');
const SRC = join(NATIVE, 'emulator');
const OUT_DIR = join(ROOT, 'dist', 'native');
const OUT = join(OUT_DIR, 'libilorestchif.so');
const say = (line) => process.stderr.write(`build-emulator: ${line}\n`);

if (process.platform !== 'linux') {
  say(`skipped on ${process.platform} (the CHIF emulator is built on Linux only)`);
  process.exit(0);
}

const files = readdirSync(SRC).sort();
const sources = files.filter((f) => f.endsWith('.c')).map((f) => join(SRC, f));
const inputs = [...sources, ...files.filter((f) => f.endsWith('.h')).map((f) => join(SRC, f)), join(NATIVE, 'ilorest_chif.h'), fileURLToPath(import.meta.url)];

// Skip when up to date: this runs on every build.
if (!process.argv.includes('--force') && existsSync(OUT)) {
  const built = statSync(OUT).mtimeMs;
  if (inputs.every((f) => statSync(f).mtimeMs <= built)) {
    say(`${relative(ROOT, OUT)} is up to date`);
    process.exit(0);
  }
}

// $CC may carry arguments ("ccache gcc").
const [cc = 'cc', ...ccArgs] = (process.env.CC?.trim() || 'cc').split(/\s+/);
mkdirSync(OUT_DIR, { recursive: true });
// Build beside the target, then rename: overwriting a mapped .so in place crashes the processes
// using it (docs/reference/chif-abi.md §1.4).
const tmp = join(OUT_DIR, `.libilorestchif.so.${process.pid}.tmp`);
const args = [
  ...ccArgs,
  '-std=c11', '-O2', '-Wall', '-Wextra', '-Werror',
  '-fPIC', '-shared', '-fvisibility=hidden', '-pthread',
  `-I${NATIVE}`,
  // nodelete: HPE's clients dlclose the library while its global state is still in use (docs/reference/chif-abi.md §1.3).
  '-Wl,-z,nodelete', '-Wl,--no-undefined', '-Wl,-soname,libilorestchif.so',
  '-o', tmp, ...sources,
];
const result = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (result.error || result.status !== 0) {
  rmSync(tmp, { force: true });
  if (result.error?.code === 'ENOENT') {
    say(`C compiler \`${cc}\` not found: install one (e.g. apt-get install gcc) or set $CC`);
  } else {
    say(`\`${cc}\` failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
  }
  process.exit(1);
}
renameSync(tmp, OUT);
say(`built ${relative(ROOT, OUT)}`);
