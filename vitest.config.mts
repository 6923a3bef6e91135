import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests that need minutes and gigabytes (a vLLM server) run apart: vitest.e2e.mts.
    exclude: ['test/**/*.e2e.test.ts', 'node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-files.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Integration tests share one Temporal server and one PostgreSQL; files run in parallel
    // workers, each using its own ids and task queues.
    pool: 'forks',
    maxWorkers: 2,
    // CI also writes a JSON report, from which .ci/run prints its closing counts line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: '.feedloop/test-results.json' } : undefined,
  },
});
