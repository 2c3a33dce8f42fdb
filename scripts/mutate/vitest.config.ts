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
      // Stryker's vitest runner forces worker threads; a module whose tests cannot run in one asks for forks.
      name: 'ilo-agent-mutate-pool',
      configureVitest({ project }) {
        if (module.pool) project.config.pool = module.pool;
      },
    },
  ],
  test: {
    include: module.tests,
    // Stryker's vitest runner runs the tests in worker threads (forks cost a process per mutant: hours).
    setupFiles: ['scripts/mutate/worker-umask.ts'],
    // A wait that fails here is mostly a mutant being caught: 5 s, not npm test's 20 s (test/helpers/wait.ts).
    env: { ILO_TEST_WAIT_MS: '5000' },
    testTimeout: module.testTimeoutMs ?? 20_000,
    hookTimeout: module.testTimeoutMs ?? 20_000,
  },
});
