import path from 'node:path';
import { CHAOS_TIMEOUTS, CHAOS_RL_TRAINER, jobProblems, sampleProblems, type ChaosLoop } from '../chaos';
import { loadRlcfAudit, rlcfAuditNumbers } from './audit';
import { parseRlcfCampaignConfig, type RlcfCampaignConfig } from './config';
import { RLCF_PHASES } from './types';
import { trainsDiscriminator } from './workflow';

/** The iterations that train the `trained` discriminator (none for the other kinds). */
function trainedDiscriminatorIterations(config: RlcfCampaignConfig): number[] {
  const d = config.grounding.discriminator;
  return d.kind === 'trained' ? Array.from({ length: config.iterations }, (_, i) => i + 1).filter((k) => trainsDiscriminator(k, d.retrainEvery)) : [];
}

/** RLCF under chaos: which worker a kill in each phase interrupts, and what a crash could double. */
export const rlcfChaos: ChaosLoop<RlcfCampaignConfig> = {
  algorithm: 'rlcf',
  phases: RLCF_PHASES,
  // The sandbox (compile, tests) and the discriminator (remote or simulated) run on CPU workers; a simulated policy and the trainer on GPU ones.
  workerForPhase: { generate: 'kill-gpu', compile: 'kill-cpu', static_checks: 'kill-cpu', tests: 'kill-cpu', discriminator: 'kill-cpu', reward: 'kill-cpu', policy_update: 'kill-gpu', evaluate: 'kill-cpu' },
  config: (raw, seed, overrides, queues) =>
    parseRlcfCampaignConfig({
      ...raw,
      seed,
      timeouts: CHAOS_TIMEOUTS,
      trainer: CHAOS_RL_TRAINER,
      ...overrides,
      taskQueues: queues,
    }),
  reduced: { dataset: { rolloutTasks: 8, maxEvalTasks: 6, mathqaEvalTasks: 4 } },
  auditNumbers: async (pool, campaignId) => rlcfAuditNumbers(await loadRlcfAudit(pool, campaignId)),
  async integrityProblems(pool, campaignId, config) {
    const problems = await sampleProblems(pool, campaignId, (id) => (id.endsWith('/rollouts') ? config.sampling.rollout.n : config.sampling.eval.n));
    const { rows } = await pool.query<{ what: string; n: string; expected: string }>(
      `select 'grounding' as what, (select count(*) from rlcf_grounding where eval_run_id like $1) as n, (select count(*) from generations where eval_run_id like $1) as expected
       union all
       select 'rewards', (select count(*) from rollout_rewards where campaign_id = $2), (select count(*) from generations where eval_run_id like $1 and eval_run_id like '%/rollouts')
       union all
       select 'test results', (select count(*) from sandbox_results r join sandbox_batches b on b.id = r.batch_id where b.owner like $1), (select count(*) from generations where eval_run_id like $1)`,
      [`${campaignId}/%`, campaignId],
    );
    for (const r of rows) if (r.n !== r.expected) problems.push(`${r.n} ${r.what} rows for ${r.expected} programs`);
    const steps = config.trainer.hyperparameters.totalSteps as number | undefined;
    const expected = Array.from({ length: config.iterations }, (_, i) => ({ id: `${campaignId}/iteration-${i + 1}/policy-update`, steps }));
    for (const k of trainedDiscriminatorIterations(config)) expected.push({ id: `${campaignId}/iteration-${k}/discriminator`, steps });
    problems.push(...(await jobProblems(pool, campaignId, expected)));
    return problems;
  },
  ledgers: (blobs, config) => [
    ...Array.from({ length: config.iterations }, (_, i) => ({ job: `iteration ${i + 1} policy update`, file: path.join(blobs, `iteration-${i + 1}`, 'policy-update', 'ledger.jsonl') })),
    ...trainedDiscriminatorIterations(config).map((k) => ({ job: `iteration ${k} discriminator`, file: path.join(blobs, `iteration-${k}`, 'discriminator', 'ledger.jsonl') })),
  ],
};
