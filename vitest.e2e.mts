import { defineConfig } from 'vitest/config';

/**
 * The end-to-end tests (`*.e2e.test.ts`) that need minutes and gigabytes, e.g. a vLLM server:
 * `npm run test:vllm`. The same real servers as the suite (test/global-setup.ts).
 */
export default defineConfig({
  test: {
    include: ['test/**/*.e2e.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-files.ts'],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
