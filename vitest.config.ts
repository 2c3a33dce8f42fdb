import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // A limit for a hung test, never a speed check: under load (CI beside other builds, 2 cores) a test
    // that spawns processes and waits for their events can need far more than its idle time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
