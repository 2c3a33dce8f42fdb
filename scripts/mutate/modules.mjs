// The module sets `npm run mutate` knows: what Stryker mutates, and the in-process test files that exercise it.
// Tests that spawn dist/bin/ilo-agent.cjs are left out on purpose: the built bundle cannot see Stryker's mutants
// in src/, so they would only slow every run down (see docs/mutation.md).
// Optional per set: `pool` (vitest's, when the tests cannot run in worker threads) and `testTimeoutMs` (the per-test
// limit, 20 s by default, which is also Stryker's base timeout for a mutant).
export const MODULES = {
  session: {
    mutate: ['src/session/**/*.ts'],
    tests: ['test/session/*.test.ts', 'test/client/client.test.ts', 'test/guardian/guardian-core.test.ts'],
  },
  guardian: {
    mutate: ['src/guardian/**/*.ts'],
    tests: ['test/guardian/*.test.ts'],
  },
  transport: {
    mutate: ['src/transport/**/*.ts', '!src/transport/chif/**'],
    tests: ['test/transport/https-rules.test.ts', 'test/transport/https-transport.test.ts', 'test/transport/https-errors.test.ts', 'test/transport/http1.test.ts', 'test/transport/vnic-link.test.ts', 'test/transport/vnic-plan.test.ts', 'test/session/session.test.ts'],
  },
  // Against the in-memory library (test/helpers/fake-chif-library.ts), in worker threads: minutes. The tests that
  // load the C emulator (inband.test.ts, the contract's CHIF target) need forks, because the emulator reads
  // ILO_CHIF_EMULATOR_SOCKET with getenv() and a thread's process.env is its own copy: that set is
  // 'transport-chif-emulator' (about 80 minutes on two cores).
  'transport-chif': {
    mutate: ['src/transport/chif/**/*.ts'],
    tests: ['test/transport/chif-transport.test.ts', 'test/transport/chif-blobstore.test.ts', 'test/transport/chif-blobkey.test.ts', 'test/transport/http1.test.ts', 'test/transport/http1-edges.test.ts'],
  },
  'transport-chif-emulator': {
    mutate: ['src/transport/chif/**/*.ts'],
    tests: ['test/transport/chif-transport.test.ts', 'test/transport/chif-blobstore.test.ts', 'test/transport/chif-blobkey.test.ts', 'test/inband/inband.test.ts', 'test/transport/contract.test.ts', 'test/transport/http1.test.ts', 'test/transport/http1-edges.test.ts'],
    pool: 'forks',
  },
  binding: {
    mutate: ['src/binding/**/*.ts'],
    tests: [
      'test/binding/*.test.ts',
      'test/agent/peer.test.ts',
      'test/agent/pipe-peer.test.ts',
      'test/native/app-account-abi.test.ts',
      'test/client/app-accounts.test.ts',
      'test/transport/vnic-link.test.ts',
    ],
    // The ABI tests load the emulator of HPE's library (getenv, as transport-chif): forks.
    pool: 'forks',
  },
  agent: {
    mutate: ['src/agent/**/*.ts'],
    tests: ['test/agent/*.test.ts'],
    // Its tests take milliseconds, and a mutant that leaves a socket unanswered hangs one: 5 s per test
    // (with the default 20 s, each such mutant cost half a minute of a two-hour run).
    testTimeoutMs: 5_000,
  },
  'cli-lifecycle': {
    mutate: ['src/cli/lifecycle.ts', 'src/cli/signals.ts'],
    tests: ['test/cli/lifecycle-rules.test.ts', 'test/cli/in-process.test.ts', 'test/cli/help.test.ts'],
  },
};

/** The module named by MUTATE_MODULE (set by scripts/mutate/run.mjs). */
export function selectedModule() {
  const name = process.env.MUTATE_MODULE;
  const module = name === undefined ? undefined : MODULES[name];
  if (!module) throw new Error(`MUTATE_MODULE must be one of: ${Object.keys(MODULES).join(', ')}`);
  return { name, ...module };
}
