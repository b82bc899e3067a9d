import { defineConfig } from 'vitest/config';

const report = process.env.FLEET_TEST_REPORT;

export default defineConfig({
  test: {
    root: '.',
    include: ['test/**/*.test.ts'],
    env: { FLEET_LOOPBACK_ONLY: '1' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: report ? ['default', 'json'] : ['default'],
    ...(report ? { outputFile: { json: report } } : {}),
  },
});
