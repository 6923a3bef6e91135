import path from 'node:path';
import type pg from 'pg';
import { PROJECT_ROOT } from '../infra/paths';
import type { TaskQueues } from '../common/task-queues';

/**
 * What the chaos harness needs to know about each loop: its phases and which worker does the
 * heavy work in each (a kill there interrupts real activities), how to make its config
 * chaos-ready, how to start it, the numbers its audit must reproduce, and what a crash could
 * have doubled.
 */
export type WorkerKill = 'kill-cpu' | 'kill-gpu';

export interface ChaosLoop<C extends { iterations: number }> {
  algorithm: string;
  phases: readonly string[];
  workerForPhase: Record<string, WorkerKill>;
  /** the file's config with the chaos seed, short timeouts and a real protocol trainer; overrides (shallow) last */
  config(raw: Record<string, unknown>, seed: number, overrides: Record<string, unknown> | undefined, queues: TaskQueues): C;
  /** the top-level config fields of the reduced (CI) form: fewer tasks, fewer samples */
  reduced: Record<string, unknown>;
  auditNumbers(pool: pg.Pool, campaignId: string): Promise<{ iterations: unknown[] }>;
  integrityProblems(pool: pg.Pool, campaignId: string, config: C): Promise<string[]>;
  /** the protocol trainer's ledger of every training job the campaign must have run */
  ledgers(campaignBlobs: string, config: C): Array<{ job: string; file: string }>;
}

/** A killed worker's activities move elsewhere after these timeouts (trainers heartbeat every 5 s). */
export const CHAOS_TIMEOUTS = { store: '10s', cpuHeartbeat: '5s', gpuHeartbeat: '12s' };
/** A real trainer process that follows the protocol: a kill while it trains orphans it, and the retry must take over its lock and resume from its last complete checkpoint. */
export const PROTOCOL_TRAINER = [process.execPath, path.join(PROJECT_ROOT, 'trainers', 'simulated', 'trainer.mjs')];

/** The RL loops' trainer under chaos: the protocol trainer, with steps long enough to be killed mid-job. */
export const CHAOS_RL_TRAINER = { command: PROTOCOL_TRAINER, hyperparameters: { totalSteps: 30, checkpointEvery: 5, stepMs: 40 } };

/** Generations of a campaign's sample sets: never more than tasks x samples per task. */
export async function sampleProblems(pool: pg.Pool, campaignId: string, perTask: (evalRunId: string) => number): Promise<string[]> {
  const { rows } = await pool.query<{ eval_run_id: string; n: string; tasks: string }>(
    `select eval_run_id, count(*) as n, count(distinct task_id) as tasks from generations where eval_run_id like $1 group by eval_run_id`,
    [`${campaignId}/%`],
  );
  return rows.filter((g) => Number(g.n) !== Number(g.tasks) * perTask(g.eval_run_id)).map((g) => `${g.eval_run_id}: ${g.n} samples for ${g.tasks} tasks x ${perTask(g.eval_run_id)}`);
}

export async function jobProblems(pool: pg.Pool, campaignId: string, expected: Array<{ id: string; steps: number | undefined }>): Promise<string[]> {
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

