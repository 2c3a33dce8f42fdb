// The vitest configuration Stryker runs: only the in-process tests of the module under mutation
// (MUTATE_MODULE, see modules.mjs), from the repository root.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { selectedModule } from './modules.mjs';

const module = selectedModule();

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  plugins: [
    {
      // Stryker's vitest runner forces pool 'threads' (cheap per mutant), but a module whose code worker threads
      // refuse (process.umask()) asks for forks, as `npm test` uses.
      name: 'ilo-agent-mutate-pool',
      configureVitest({ project }) {
        if (module.pool) project.config.pool = module.pool;
      },
    },
  ],
  test: {
    include: module.tests,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
