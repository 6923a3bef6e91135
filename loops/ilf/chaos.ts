import path from 'node:path';
import { CHAOS_TIMEOUTS, PROTOCOL_TRAINER, jobProblems, sampleProblems, type ChaosLoop } from '../chaos';
import { auditNumbers, loadCampaignAudit } from './audit';
import { parseIlfCampaignConfig, type IlfCampaignConfig } from './config';
import { ILF_PHASES } from './types';

/** ILF under chaos: which worker a kill in each phase interrupts, and what a crash could double. */
export const ilfChaos: ChaosLoop<IlfCampaignConfig> = {
  algorithm: 'ilf',
  phases: ILF_PHASES,
  workerForPhase: { generate: 'kill-gpu', test: 'kill-cpu', feedback: 'kill-cpu', refine: 'kill-cpu', filter: 'kill-cpu', train: 'kill-gpu', evaluate: 'kill-gpu' },
  config: (raw, seed, overrides, queues) =>
    parseIlfCampaignConfig({
      ...raw,
      seed,
      timeouts: CHAOS_TIMEOUTS,
      trainer: { kind: 'command', command: PROTOCOL_TRAINER, baseModel: 'simulated-base', hyperparameters: { totalSteps: 60, checkpointEvery: 10, stepMs: 40 } },
      ...overrides,
      taskQueues: queues,
    }),
  reduced: { dataset: { maxTrainTasks: 30, maxTestTasks: 10 }, sampling: { train: { n: 1 }, eval: { n: 2, ks: [1, 2] } } },
  auditNumbers: async (pool, campaignId) => auditNumbers(await loadCampaignAudit(pool, campaignId)),
  async integrityProblems(pool, campaignId, config) {
    const problems = await sampleProblems(pool, campaignId, (id) => (id.endsWith('/train-samples') ? config.sampling.train.n : config.sampling.eval.n));
    const { rows: results } = await pool.query<{ items: string; results: string }>(
      `select (select count(*) from sandbox_items i join sandbox_batches b on b.id = i.batch_id where b.owner like $1) as items,
              (select count(*) from sandbox_results r join sandbox_batches b on b.id = r.batch_id where b.owner like $1) as results`,
      [`${campaignId}/%`],
    );
    if (results[0]!.items !== results[0]!.results) problems.push(`${results[0]!.items} programs but ${results[0]!.results} results`);
    const { rows: jobs } = await pool.query<{ iteration: number; steps: number; examples: number }>('select iteration, steps, examples from training_jobs where campaign_id = $1', [campaignId]);
    if (config.trainer.kind === 'simulated') {
      for (const j of jobs) if (j.steps !== j.examples * (config.trainer.kind === 'simulated' ? config.trainer.stepsPerExample : 1)) problems.push(`training job of iteration ${j.iteration} counted ${j.steps} steps for ${j.examples} examples`);
    }
    const steps = config.trainer.kind === 'command' ? (config.trainer.hyperparameters.totalSteps as number | undefined) : undefined;
    const expected = Array.from({ length: config.iterations }, (_, i) => ({ id: `${campaignId}/iteration-${i + 1}/sft`, steps }));
    problems.push(...(await jobProblems(pool, campaignId, expected)));
    return problems;
  },
  ledgers: (blobs, config) => Array.from({ length: config.iterations }, (_, i) => ({ job: `iteration ${i + 1}`, file: path.join(blobs, `iteration-${i + 1}`, 'sft', 'ledger.jsonl') })),
};

