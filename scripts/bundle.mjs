// Bundles the CLI with esbuild, from the TypeScript sources (tsc has type-checked them first):
//   dist/bin/ilo-agent.mjs   the npm bin (ESM; koffi stays a package: it carries native modules)
//   dist/sea/ilo-agent.cjs   the single executable's script (CommonJS, as Node's SEA requires)
// One file to load instead of some fifty modules is most of the start-up time we can save.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const common = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  legalComments: 'none',
  logLevel: 'warning',
};

// Chunk names carry hashes: without this, stale chunks of an older build would stay and be packed.
rmSync(`${ROOT}/dist/bin/chunks`, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { 'ilo-agent': 'src/bin/ilo-agent.ts' },
  outdir: 'dist/bin',
  outExtension: { '.js': '.mjs' },
  format: 'esm',
  // the simulator and the guardian's and the CLI's code load only when wanted
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // commander and pino are CommonJS and require() Node's modules
  banner: { js: "import { createRequire as __iloCreateRequire } from 'node:module'; const require = __iloCreateRequire(import.meta.url);" },
});
chmodSync(`${ROOT}/dist/bin/ilo-agent.mjs`, 0o755);

await build({
  ...common,
  entryPoints: ['src/bin/single-executable.ts'],
  outfile: 'dist/sea/ilo-agent.cjs',
  format: 'cjs',
  // guardian/spawn.ts reads import.meta.url only for the unbundled layout, never in the executable
  logOverride: { 'empty-import-meta': 'silent' },
});
