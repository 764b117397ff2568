import { defineConfig } from 'vitest/config';

// Two workers on a two-core machine: end-to-end tests start real servers
// (Prometheus, Alertmanager, Mosquitto) and must not starve each other.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'reports/**', 'dist/**'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
