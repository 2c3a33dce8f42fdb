// StrykerJS configuration for `npm run mutate` (scripts/mutate/run.mjs picks the module through MUTATE_MODULE).
import { selectedModule } from './modules.mjs';

const module = selectedModule();
const out = 'reports/mutation';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'scripts/mutate/vitest.config.ts', related: false },
  mutate: module.mutate,
  coverageAnalysis: 'perTest',
  // Two cores, shared: more workers only queue.
  concurrency: 2,
  // Generous: a loaded machine must not turn slow tests into "timeout" kills.
  timeoutMS: module.testTimeoutMs ?? 20_000,
  timeoutFactor: 2,
  reporters: ['json', 'html', 'clear-text', 'progress-append-only'],
  jsonReporter: { fileName: `${out}/${module.name}.json` },
  htmlReporter: { fileName: `${out}/${module.name}.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // Everything Stryker writes stays under the git-ignored reports/mutation/.
  tempDirName: `${out}/.tmp`,
  cleanTempDir: true,
  ignorePatterns: ['reports', '.git'],
  // Re-runs only what a changed test or source can change (`npm run mutate -- <module> --force`: everything).
  // Static mutants (module-level constants, e.g. session-path.ts's regular expressions) need every test of
  // the module per mutant: about an hour for session alone on two cores. They are reported as "ignored";
  // `npm run mutate -- <module> --ignoreStatic=false` runs them.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: `${out}/${module.name}.incremental.json`,
  thresholds: { high: 80, low: 60, break: null },
};
