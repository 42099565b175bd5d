import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The web UI's tests are pure or render components under happy-dom (a per-file comment).
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}'],
    // Integration tests start real servers and child processes; 2 cores on CI.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
