import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

/**
 * The quick tier (`npm run test:quick`): unit tests and the fast real-server tests, at most about
 * 5 minutes on 2 cores. It leaves out the files that took longest in a full run (vitest's JSON
 * report, per file, on a 2-core machine): they still run in `npm test` and `npm run check`.
 */
export const SLOW_TEST_FILES = [
  'test/integration/learning-rlcf-ilf.test.ts', // 30-40 min each on a clean clone: models made, then reduced learning campaigns beside their controls
  'test/integration/learning-crlhf-rlaif.test.ts',
  'test/models/tiny-model.test.ts', // 127 s: trains and exports the tiny model (trainer venv)
  'test/integration/tiny-real.test.ts', // 80 s: real weights through ILF and RLAIF campaigns
  'test/chaos/ilf-chaos.test.ts', // 50-77 s each: campaigns under killed workers and servers
  'test/chaos/rlcf-chaos.test.ts',
  'test/chaos/crlhf-chaos.test.ts',
  'test/chaos/rlaif-chaos.test.ts',
  'test/ilf/dry-run-campaign.test.ts', // 21-50 s each: full dry-run campaigns (the demo campaign stays in)
  'test/crlhf/dry-run-campaign.test.ts',
  'test/rlcf/dry-run-campaign.test.ts',
  'test/rlaif/dry-run-campaign.test.ts',
  'test/integration/campaign-end.test.ts', // 20-40 s each: campaigns ended by terminate, cancel, exhausted retries...
  'test/integration/dataset-file-campaigns.test.ts',
  'test/integration/worker-upgrade.test.ts',
  'test/sandbox/reference-programs.test.ts', // 20 s: every reference program of the datasets in the sandbox
  'test/cluster/mtls.test.ts', // 11-21 s: the multi-service Temporal server (built with Go on first use)
  'test/cluster/dev-cluster.test.ts',
  'test/crlhf/annotator-web.test.ts', // a real Chromium
  'test/audit/report-layout.test.ts',
];

export default mergeConfig(base, defineConfig({ test: { exclude: [...(base.test?.exclude ?? []), ...SLOW_TEST_FILES] } }));
