import type pg from 'pg';
import type { CampaignState } from '../common/campaign';
import { ConfigError } from '../common/config-error';
import { rows } from '../audit/core';
import type { RunAudit, StartedHow } from '../audit/runs';
import { runStoreId } from '../common/campaign';

/**
 * `campaign start --resume` and `--new-run` on an ended campaign id: the next run's store key and
 * record (audit/runs.ts), and for a resume, the campaign state rebuilt from the stored iterations.
 */

/** What a resume continues from: the iterations that completed, in order from 1, across the runs since the campaign last started over. */
export interface ResumePoint {
  /** the next iteration to run */
  nextIteration: number;
  /** the run that completed each kept iteration */
  keptFrom: Array<{ iteration: number; run: number }>;
  state?: CampaignState<unknown>;
}

interface StoredIteration {
  iteration: number;
  status: string;
  metrics: Record<string, unknown> | null;
  next_policy: unknown;
}

/**
 * The state a resumed run starts from: the last completed iteration's next policy as the carry's
 * policy, the stopping metric of each completed iteration. A loop whose carry holds more than the
 * policy (a trained refiner, a reward model, a checkpoint the store does not hold) cannot be
 * rebuilt past iteration 0: it is refused in one line, saying to use --new-run.
 */
export async function resumePoint(pool: pg.Pool, campaignId: string, runs: readonly RunAudit[], config: { algorithm: string; iterations: number; models: { policy: unknown; refiner?: unknown }; refiner?: { train?: boolean } }): Promise<ResumePoint> {
  // The runs since the campaign last started from iteration 1 (a --new-run starts over).
  let since = runs.length - 1;
  while (since > 0 && runs[since]!.startedHow === 'resume') since--;
  const chain = runs.slice(since);
  const byIteration = new Map<number, StoredIteration & { run: number }>();
  for (const r of chain) {
    for (const it of await rows<StoredIteration>(pool, 'select iteration, status, metrics, next_policy from campaign_iterations where campaign_id = $1 and iteration >= 1', [r.storeId])) {
      if (it.status === 'completed') byIteration.set(it.iteration, { ...it, run: r.run });
    }
  }
  const kept: Array<StoredIteration & { run: number }> = [];
  for (let k = 1; byIteration.has(k); k++) kept.push(byIteration.get(k)!);
  const nextIteration = kept.length + 1;
  const keptFrom = kept.map((k) => ({ iteration: k.iteration, run: k.run }));
  if (kept.length === 0) return { nextIteration, keptFrom }; // nothing completed: the run starts from the beginning
  if (config.algorithm !== 'ilf') {
    throw new ConfigError(`campaign "${campaignId}" cannot be resumed after iteration ${kept.length}: a ${config.algorithm} campaign carries a checkpoint or reward model the store does not hold; start it over with --new-run`);
  }
  if (config.refiner?.train) {
    throw new ConfigError(`campaign "${campaignId}" cannot be resumed after iteration ${kept.length}: its trained refiner is not kept in the store; start it over with --new-run`);
  }
  const last = kept.at(-1)!;
  if (!last.next_policy) throw new ConfigError(`campaign "${campaignId}" cannot be resumed: iteration ${last.iteration} recorded no next policy; start it over with --new-run`);
  const metricHistory = kept.map((k) => k.metrics?.['1']).filter((v): v is number => typeof v === 'number');
  return {
    nextIteration,
    keptFrom,
    state: { nextIteration, paused: false, stopRequested: false, metricHistory, carry: { policy: last.next_policy, refiner: config.models.refiner } },
  };
}

/** The next run of an ended campaign id: its number and store key. */
export function nextRun(campaignId: string, runs: readonly RunAudit[]): { run: number; storeId: string } {
  const run = (runs.at(-1)?.run ?? 0) + 1;
  return { run, storeId: runStoreId(campaignId, run) };
}

/**
 * Records a later run (N > 1) before its workflow starts, with its campaigns row: a resumed run
 * starts past iteration 1, where the workflow registers none.
 */
export async function recordRun(
  pool: pg.Pool,
  r: { campaignId: string; run: number; storeId: string; how: Exclude<StartedHow, 'new'>; fromIteration: number; algorithm: string; config: object },
): Promise<void> {
  await pool.query(`insert into campaigns (id, algorithm, config, workflow_id) values ($1, $2, $3, $4) on conflict (id) do nothing`, [r.storeId, r.algorithm, JSON.stringify(r.config), r.campaignId]);
  await pool.query(
    `insert into campaign_runs (campaign_id, run, store_id, workflow_id, started_how, from_iteration) values ($1, $2, $3, $1, $4, $5) on conflict (campaign_id, run) do nothing`,
    [r.campaignId, r.run, r.storeId, r.how, r.fromIteration],
  );
}

/** The Temporal run id of a run, once its workflow started. */
export async function recordTemporalRunId(pool: pg.Pool, campaignId: string, run: number, temporalRunId: string): Promise<void> {
  await pool.query('update campaign_runs set temporal_run_id = $3 where campaign_id = $1 and run = $2', [campaignId, run, temporalRunId]);
}

/** A run that never started (the workflow start failed): removed, so the id's runs stay true. */
export async function forgetRun(pool: pg.Pool, campaignId: string, run: number, storeId: string): Promise<void> {
  await pool.query('delete from campaign_runs where campaign_id = $1 and run = $2', [campaignId, run]);
  await pool.query(`delete from campaigns where id = $1 and not exists (select 1 from campaign_iterations where campaign_id = $1)`, [storeId]);
}
