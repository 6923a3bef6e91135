import path from 'node:path';
import { CHAOS_TIMEOUTS, CHAOS_RL_TRAINER, jobProblems, sampleProblems, type ChaosLoop } from '../chaos';
import { loadRlaifAudit, rlaifAuditNumbers } from './audit';
import { parseRlaifCampaignConfig, type RlaifCampaignConfig } from './config';
import { RLAIF_PHASES } from './types';
import { trainsRewardModel } from './workflow';

/** RLAIF under chaos: which worker a kill in each phase interrupts, and what a crash could double. */
export const rlaifChaos: ChaosLoop<RlaifCampaignConfig> = {
  algorithm: 'rlaif',
  phases: RLAIF_PHASES,
  workerForPhase: { generate: 'kill-gpu', feedback: 'kill-cpu', reward_model: 'kill-gpu', score: 'kill-gpu', policy_update: 'kill-gpu', evaluate: 'kill-cpu' },
  config: (raw, seed, overrides, queues) =>
    parseRlaifCampaignConfig({
      ...raw,
      seed,
      timeouts: CHAOS_TIMEOUTS,
      trainer: CHAOS_RL_TRAINER,
      ...overrides,
      taskQueues: queues,
    }),
  reduced: { dataset: { rolloutQuestions: 8, maxEvalQuestionsPerHub: 3 } },
  auditNumbers: async (pool, campaignId) => rlaifAuditNumbers(await loadRlaifAudit(pool, campaignId)),
  async integrityProblems(pool, campaignId, config) {
    const problems = await sampleProblems(pool, campaignId, (id) => (id.endsWith('/rollouts') ? config.sampling.rollout.n : config.sampling.eval.n));
    const { rows } = await pool.query<{ what: string; n: string; expected: string }>(
      `select 'AI feedback' as what, (select count(*) from ai_feedback where campaign_id = $1) as n,
              (select count(*) from generations where eval_run_id like $2 and eval_run_id like '%/rollouts') as expected
       union all
       select 'rewards', (select count(*) from rollout_rewards where campaign_id = $1), (select count(*) from generations where eval_run_id like $2 and eval_run_id like '%/rollouts')
       union all
       select 'metric rows', (select count(*) from apibench_scores where eval_run_id like $2), (select count(*) from generations where eval_run_id like $2 and eval_run_id like '%/evaluation')`,
      [campaignId, `${campaignId}/%`],
    );
    for (const r of rows) if (r.n !== r.expected) problems.push(`${r.n} ${r.what} rows for ${r.expected} samples`);
    const steps = config.trainer.hyperparameters.totalSteps as number | undefined;
    const expected: Array<{ id: string; steps: number | undefined }> = [];
    for (let k = 1; k <= config.iterations; k++) {
      if (config.rewardModel && trainsRewardModel(k, config.rewardModel.retrainEvery)) expected.push({ id: `${campaignId}/iteration-${k}/reward-model`, steps });
      expected.push({ id: `${campaignId}/iteration-${k}/policy-update`, steps });
    }
    problems.push(...(await jobProblems(pool, campaignId, expected)));
    return problems;
  },
  ledgers(blobs, config) {
    const out: Array<{ job: string; file: string }> = [];
    for (let k = 1; k <= config.iterations; k++) {
      if (config.rewardModel && trainsRewardModel(k, config.rewardModel.retrainEvery)) out.push({ job: `iteration ${k} reward model`, file: path.join(blobs, `iteration-${k}`, 'reward-model', 'ledger.jsonl') });
      out.push({ job: `iteration ${k} policy update`, file: path.join(blobs, `iteration-${k}`, 'policy-update', 'ledger.jsonl') });
    }
    return out;
  },
};

