import path from 'node:path';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { auditNumbers, loadCampaignAudit, type AuditNumbers } from '../../activities/store/audit';
import { loadRlaifAudit, rlaifAuditNumbers, type RlaifAuditNumbers } from '../../activities/store/rlaif-audit';
import { parseIlfCampaignConfig, type IlfCampaignConfig } from '../../common/campaign-config';
import { ILF_PHASES } from '../../common/ilf';
import { PROJECT_ROOT } from '../../common/paths';
import { RLAIF_PHASES } from '../../common/rlaif';
import { parseRlaifCampaignConfig, type RlaifCampaignConfig } from '../../common/rlaif-config';
import type { TaskQueues } from '../../common/task-queues';
import { ilfCampaignWorkflow } from '../../workflows/ilf-campaign';
import { rlaifCampaignWorkflow } from '../../workflows/rlaif-campaign';
import { trainsRewardModel } from '../../workflows/rlaif-iteration';

/**
 * What the chaos harness needs to know about each loop: its phases and which worker does the
 * heavy work in each (a kill there interrupts real activities), how to make its config
 * chaos-ready, how to start it, the numbers its audit must reproduce, and what a crash could
 * have doubled.
 */
export type WorkerKill = 'kill-cpu' | 'kill-gpu';

export interface ChaosLoop<C extends { iterations: number }> {
  algorithm: 'ilf' | 'rlaif';
  phases: readonly string[];
  workerForPhase: Record<string, WorkerKill>;
  /** the file's config with the chaos seed, short timeouts and a real protocol trainer; overrides (shallow) last */
  config(raw: Record<string, unknown>, seed: number, overrides: Record<string, unknown> | undefined, queues: TaskQueues): C;
  start(client: Client, campaignId: string, config: C, queues: TaskQueues): Promise<unknown>;
  auditNumbers(pool: pg.Pool, campaignId: string): Promise<AuditNumbers | RlaifAuditNumbers>;
  integrityProblems(pool: pg.Pool, campaignId: string, config: C): Promise<string[]>;
  /** the protocol trainer's ledger of every training job the campaign must have run */
  ledgers(campaignBlobs: string, config: C): Array<{ job: string; file: string }>;
}

/** A killed worker's activities move elsewhere after these timeouts (trainers heartbeat every 5 s). */
const CHAOS_TIMEOUTS = { store: '10s', cpuHeartbeat: '5s', gpuHeartbeat: '12s' };
/** A real trainer process that follows the protocol: a kill while it trains orphans it, and the retry must take over its lock and resume from its last complete checkpoint. */
const PROTOCOL_TRAINER = [process.execPath, path.join(PROJECT_ROOT, 'trainers', 'simulated', 'trainer.mjs')];

/** Generations of a campaign's sample sets: never more than tasks x samples per task. */
async function sampleProblems(pool: pg.Pool, campaignId: string, perTask: (evalRunId: string) => number): Promise<string[]> {
  const { rows } = await pool.query<{ eval_run_id: string; n: string; tasks: string }>(
    `select eval_run_id, count(*) as n, count(distinct task_id) as tasks from generations where eval_run_id like $1 group by eval_run_id`,
    [`${campaignId}/%`],
  );
  return rows.filter((g) => Number(g.n) !== Number(g.tasks) * perTask(g.eval_run_id)).map((g) => `${g.eval_run_id}: ${g.n} samples for ${g.tasks} tasks x ${perTask(g.eval_run_id)}`);
}

async function jobProblems(pool: pg.Pool, campaignId: string, expected: Array<{ id: string; steps: number | undefined }>): Promise<string[]> {
  const { rows } = await pool.query<{ id: string; status: string; steps: number }>('select id, status, steps from training_jobs where campaign_id = $1 order by id', [campaignId]);
  const problems: string[] = [];
  if (rows.length !== expected.length) problems.push(`${rows.length} training jobs, expected ${expected.length}`);
  for (const e of expected) {
    const job = rows.find((r) => r.id === e.id);
    if (!job) problems.push(`no training job ${e.id}`);
    else if (job.status !== 'completed') problems.push(`training job ${e.id} is ${job.status}`);
    else if (e.steps !== undefined && job.steps !== e.steps) problems.push(`training job ${e.id} reports ${job.steps} steps, expected ${e.steps}`);
  }
  return problems;
}

export const ILF_LOOP: ChaosLoop<IlfCampaignConfig> = {
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
  start: (client, campaignId, config, queues) => client.workflow.start(ilfCampaignWorkflow, { workflowId: campaignId, taskQueue: queues.workflow, args: [{ campaignId, config }] }),
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

export const RLAIF_LOOP: ChaosLoop<RlaifCampaignConfig> = {
  algorithm: 'rlaif',
  phases: RLAIF_PHASES,
  workerForPhase: { generate: 'kill-gpu', feedback: 'kill-cpu', reward_model: 'kill-gpu', score: 'kill-gpu', policy_update: 'kill-gpu', evaluate: 'kill-cpu' },
  config: (raw, seed, overrides, queues) =>
    parseRlaifCampaignConfig({
      ...raw,
      seed,
      timeouts: CHAOS_TIMEOUTS,
      trainer: { command: PROTOCOL_TRAINER, hyperparameters: { totalSteps: 30, checkpointEvery: 5, stepMs: 40 } },
      ...overrides,
      taskQueues: queues,
    }),
  start: (client, campaignId, config, queues) => client.workflow.start(rlaifCampaignWorkflow, { workflowId: campaignId, taskQueue: queues.workflow, args: [{ campaignId, config }] }),
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
      if (trainsRewardModel(k, config.rewardModel.retrainEvery)) expected.push({ id: `${campaignId}/iteration-${k}/reward-model`, steps });
      expected.push({ id: `${campaignId}/iteration-${k}/policy-update`, steps });
    }
    problems.push(...(await jobProblems(pool, campaignId, expected)));
    return problems;
  },
  ledgers(blobs, config) {
    const out: Array<{ job: string; file: string }> = [];
    for (let k = 1; k <= config.iterations; k++) {
      if (trainsRewardModel(k, config.rewardModel.retrainEvery)) out.push({ job: `iteration ${k} reward model`, file: path.join(blobs, `iteration-${k}`, 'reward-model', 'ledger.jsonl') });
      out.push({ job: `iteration ${k} policy update`, file: path.join(blobs, `iteration-${k}`, 'policy-update', 'ledger.jsonl') });
    }
    return out;
  },
};

export function loopFor(algorithm: unknown): ChaosLoop<IlfCampaignConfig> | ChaosLoop<RlaifCampaignConfig> {
  if (algorithm === 'ilf') return ILF_LOOP;
  if (algorithm === 'rlaif') return RLAIF_LOOP;
  throw new Error(`the chaos harness runs ilf and rlaif campaigns, not ${JSON.stringify(algorithm)}`);
}
