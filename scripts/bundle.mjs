// Bundles the CLI with esbuild, from the TypeScript sources (tsc has type-checked them first):
//   dist/bin/ilo-agent.cjs   the npm bin (koffi stays a package: it carries native modules)
//   dist/sea/ilo-agent.cjs   the single executable's script (as Node's SEA requires CommonJS)
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

// CommonJS for the npm bin too: on Node 20 the ESM loader alone (its own modules, a job per file)
// cost about 15 ms of every start-up, more than parsing the simulator's code that comes along.
// Left-overs of the earlier ESM layout are removed so that they are never packed.
rmSync(`${ROOT}/dist/bin/chunks`, { recursive: true, force: true });
rmSync(`${ROOT}/dist/bin/ilo-agent.mjs`, { force: true });
await build({
  ...common,
  entryPoints: ['src/bin/ilo-agent.ts'],
  outfile: 'dist/bin/ilo-agent.cjs',
  format: 'cjs',
  // the bin's guardian is the bin itself: its own path, as import.meta.url would give it in ESM
  define: { 'import.meta.url': '__iloAgentScriptUrl' },
  // (the directive first: code after the banner is not at the top, where esbuild's own one works)
  banner: { js: "'use strict';\nconst __iloAgentScriptUrl = require('node:url').pathToFileURL(__filename).href;" },
});
chmodSync(`${ROOT}/dist/bin/ilo-agent.cjs`, 0o755);

await build({
  ...common,
  entryPoints: ['src/bin/single-executable.ts'],
  outfile: 'dist/sea/ilo-agent.cjs',
  format: 'cjs',
  // guardian/spawn.ts reads import.meta.url only for the unbundled layout, never in the executable
  logOverride: { 'empty-import-meta': 'silent' },
});
