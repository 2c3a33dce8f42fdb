// Builds the CHIF emulator (native-bindings/emulator/*.c) into dist/native/libilorestchif.so,
// and, when the mingw-w64 cross compiler is present (apt-get install gcc-mingw-w64-x86-64), into
// dist/native/ilorest_chif.dll for Windows x64 (the Wine tests put it beside ilo-agent.exe).
// Run by `npm run build` after tsc. Linux only; skipped elsewhere. Quiet: a line per library on stderr.
// `--force` rebuilds even when a library is newer than every source.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NATIVE = join(ROOT, 'native-bindings');
const SRC = join(NATIVE, 'emulator');
const OUT_DIR = join(ROOT, 'dist', 'native');
const say = (line) => process.stderr.write(`build-emulator: ${line}\n`);

if (process.platform !== 'linux') {
  say(`skipped on ${process.platform} (the CHIF emulator is built on Linux only)`);
  process.exit(0);
}

const files = readdirSync(SRC).sort();
const sources = files.filter((f) => f.endsWith('.c')).map((f) => join(SRC, f));
const inputs = [...sources, ...files.filter((f) => f.endsWith('.h')).map((f) => join(SRC, f)), join(NATIVE, 'ilorest_chif.h'), fileURLToPath(import.meta.url)];
const common = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', `-I${NATIVE}`];

const TARGETS = [
  {
    file: 'libilorestchif.so',
    // $CC may carry arguments ("ccache gcc").
    cc: process.env.CC?.trim() || 'cc',
    args: [
      ...common,
      '-fPIC', '-shared', '-fvisibility=hidden', '-pthread',
      // nodelete: HPE's clients dlclose the library while its global state is still in use (docs/reference/chif-abi.md §1.3).
      '-Wl,-z,nodelete', '-Wl,--no-undefined', '-Wl,-soname,libilorestchif.so',
    ],
    libs: [],
    missing: (cc) => `C compiler \`${cc}\` not found: install one (e.g. apt-get install gcc) or set $CC`,
  },
  {
    file: 'ilorest_chif.dll',
    cc: process.env.MINGW_CC?.trim() || 'x86_64-w64-mingw32-gcc',
    // Only KERNEL32, WS2_32 and msvcrt imported: libgcc (TLS emulation) is linked in. The pin
    // in DllMain (state.c) stands for -z nodelete.
    args: [...common, '-shared', '-static-libgcc', '-Wl,--no-undefined', '-s'],
    libs: ['-lws2_32'],
    optional: true,
    missing: () => 'skipped ilorest_chif.dll: no mingw-w64 cross compiler (apt-get install gcc-mingw-w64-x86-64, or set $MINGW_CC)',
  },
];

mkdirSync(OUT_DIR, { recursive: true });
let failed = false;
for (const target of TARGETS) {
  const out = join(OUT_DIR, target.file);
  const [cc, ...ccArgs] = target.cc.split(/\s+/);
  if (target.optional && spawnSync(cc, ['--version'], { stdio: 'ignore' }).error) {
    say(target.missing(cc));
    continue;
  }
  // Skip when up to date: this runs on every build.
  if (!process.argv.includes('--force') && existsSync(out)) {
    const built = statSync(out).mtimeMs;
    if (inputs.every((f) => statSync(f).mtimeMs <= built)) {
      say(`${relative(ROOT, out)} is up to date`);
      continue;
    }
  }
  // Build beside the target, then rename: overwriting a mapped library in place crashes the
  // processes using it (docs/reference/chif-abi.md §1.4).
  const tmp = join(OUT_DIR, `.${target.file}.${process.pid}.tmp`);
  const result = spawnSync(cc, [...ccArgs, ...target.args, '-o', tmp, ...sources, ...target.libs], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error || result.status !== 0) {
    rmSync(tmp, { force: true });
    say(result.error?.code === 'ENOENT' ? target.missing(cc) : `\`${cc}\` failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
    failed = true;
    continue;
  }
  renameSync(tmp, out);
  say(`built ${relative(ROOT, out)}`);
}
process.exit(failed ? 1 : 0);
