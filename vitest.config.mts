import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest on 2 cores, longest first (CI on a clean clone: the two learning
 * files make their models and run their campaigns for half an hour or more each, tiny-real about
 * 10 minutes, tiny-model 5). They start before the rest, so that no fork is left running one of
 * them alone at the end of the suite.
 */
export const LONGEST_TEST_FILES = [
  'test/integration/learning-rlcf-ilf.test.ts',
  'test/integration/learning-crlhf-rlaif.test.ts',
  'test/integration/tiny-real.test.ts',
  'test/models/tiny-model.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_TEST_FILES.findIndex((name) => f.moduleId.endsWith(name));
      return i < 0 ? LONGEST_TEST_FILES.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: LongestFirst },
    // CI also writes a JSON report, from which .ci/run prints its closing counts line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: '.feedloop/test-results.json' } : undefined,
  },
});
