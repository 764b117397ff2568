import { defineConfig } from 'vitest/config';

// Two workers on a two-core machine: end-to-end tests start real servers
// (Prometheus, Alertmanager, Mosquitto) and must not starve each other.
// Files named *.serial.test.ts judge timing under load (the chaos verdicts on a
// time-scaled cluster) and run afterwards on their own: `SERIAL=1 vitest run`.
const serial = process.env.SERIAL === '1';

export default defineConfig({
  test: {
    include: serial ? ['**/*.serial.test.ts'] : ['**/*.test.ts'],
    exclude: ['node_modules/**', 'reports/**', 'dist/**', ...(serial ? [] : ['**/*.serial.test.ts'])],
    pool: 'forks',
    poolOptions: { forks: serial ? { singleFork: true } : { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
