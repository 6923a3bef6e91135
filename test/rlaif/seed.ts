import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createApiGenerationActivities } from '../../loops/rlaif/activities/generate-api-samples';
import { ModelBackendCache } from '../../activities/models/index';
import { rlaifIds } from '../../loops/rlaif/types';
import { activityEnv } from '../training/helpers';

/**
 * A campaign with one iteration whose rollouts were sampled from the simulated API-code policy
 * by the real generation activity, straight into the suite's PostgreSQL.
 */
export async function seedRollouts(pool: pg.Pool, opts: { prefix: string; questions?: number; n?: number }): Promise<{ campaignId: string; iteration: number; evalRunId: string }> {
  const campaignId = `${opts.prefix}-${randomUUID().slice(0, 8)}`;
  const iteration = 1;
  const policy = { backend: 'simulated' as const, role: 'api-code' as const, model: 'simulated-base', seed: 3, trained: { steps: 0, examples: 0 }, quality: { initial: 0.4, ceiling: 0.9, halfwayExamples: 100 } };
  await pool.query(`insert into campaigns (id, algorithm, config, workflow_id) values ($1, 'rlaif', '{}', $1)`, [campaignId]);
  await pool.query(`insert into campaign_iterations (campaign_id, iteration, workflow_id, run_id, policy) values ($1, $2, $3, 'run', $4)`, [
    campaignId,
    iteration,
    rlaifIds.iterationWorkflow(campaignId, iteration),
    JSON.stringify(policy),
  ]);
  const evalRunId = rlaifIds.rollouts(campaignId, iteration);
  await pool.query(`insert into eval_runs (id, workflow_id, run_id, dataset, split, policy, samples_per_task, ks) values ($1, $1, 'run', 'apibench', 'train', $2, $3, '{}')`, [
    evalRunId,
    JSON.stringify(policy),
    opts.n ?? 2,
  ]);
  const models = new ModelBackendCache();
  const { run } = activityEnv();
  await run(createApiGenerationActivities({ pool, models }).generateApiSamples, {
    evalRunId,
    questions: { part: 'train', hubs: ['huggingface', 'tensorflowhub', 'torchhub'], heldOutFraction: 0.2, seed: 11, iteration, size: opts.questions ?? 12 },
    policy,
    samplesPerQuestion: opts.n ?? 2,
    sampling: { temperature: 0.8, topP: 0.95, maxTokens: 256, seed: 1 },
  });
  await models.closeAll();
  return { campaignId, iteration, evalRunId };
}
