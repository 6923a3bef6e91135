import { CampaignNotFoundError, endText, iso, rows, UNDEFINED_TABLE, type Queryable } from './core';

/**
 * The runs of a campaign id (migration 012). Run 1 of X is stored under X; run N > 1 (started by
 * `campaign start --resume` or `--new-run` once X had ended) keeps the Temporal workflow id X but
 * stores everything under `X~N`, so no row, eval run or child workflow of one run is another's
 * (the keys: runStoreId and runOfStoreId, common/campaign.ts). A campaign from before the table
 * (or started without the CLI) has one run: its campaigns row.
 */

export type StartedHow = 'new' | 'resume' | 'new-run';

/** One iteration a run made (or attempted): its own times and Temporal ids. */
export interface RunIterationAudit {
  iteration: number;
  status: string;
  endReason: string | null;
  startedAt: string;
  finishedAt: string | null;
  workflowId: string;
  runId: string | null;
}

/** One run of a campaign id, as `feedloop audit --json` lists it under `runs`. */
export interface RunAudit {
  run: number;
  /** the key its rows are stored under: the campaign id for run 1, `<id>~<run>` after */
  storeId: string;
  workflowId: string;
  /** the first Temporal run id of the run (null: not recorded, e.g. started without the CLI) */
  temporalRunId: string | null;
  startedHow: StartedHow;
  /** the first iteration it ran (a resume starts after the last completed one) */
  fromIteration: number;
  status: string;
  endReason: string | null;
  startedAt: string;
  finishedAt: string | null;
  algorithm: string;
  /** the config it ran with */
  config: unknown;
  iterations: RunIterationAudit[];
}

interface RunRow {
  run: number;
  store_id: string;
  workflow_id: string;
  temporal_run_id: string | null;
  started_how: StartedHow;
  from_iteration: number;
  status: string | null;
  end_reason: string | null;
  started_at: Date;
  finished_at: Date | null;
  algorithm: string | null;
  config: unknown;
}

/** The runs of `campaignId`, oldest first, each with its iterations; [] when the store knows none. */
export async function readRuns(db: Queryable, campaignId: string): Promise<RunAudit[]> {
  let found: RunRow[] = [];
  try {
    found = await rows<RunRow>(
      db,
      `select r.run, r.store_id, r.workflow_id, r.temporal_run_id, r.started_how, r.from_iteration, c.status, to_jsonb(c)->>'end_reason' as end_reason,
         coalesce(c.created_at, r.started_at) as started_at, c.finished_at, c.algorithm, c.config
       from campaign_runs r left join campaigns c on c.id = r.store_id where r.campaign_id = $1 order by r.run`,
      [campaignId],
    );
  } catch (err) {
    if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err; // a store from before migration 012
  }
  if (!found.some((r) => r.run === 1)) {
    // Run 1 started without the CLI (or before runs were recorded): its campaigns row is all there is.
    const [c] = await rows<RunRow>(
      db,
      `select 1 as run, id as store_id, workflow_id, null as temporal_run_id, 'new' as started_how, 1 as from_iteration, status, to_jsonb(c)->>'end_reason' as end_reason,
         created_at as started_at, finished_at, algorithm, config from campaigns c where id = $1`,
      [campaignId],
    ).catch((err: unknown) => {
      if ((err as { code?: string }).code === UNDEFINED_TABLE) return [];
      throw err;
    });
    if (c) found = [c, ...found];
  }
  const out: RunAudit[] = [];
  for (const r of found) {
    const its = await rows<{ iteration: number; status: string; end_reason: string | null; started_at: Date; finished_at: Date | null; workflow_id: string; run_id: string }>(
      db,
      `select iteration, status, to_jsonb(i)->>'end_reason' as end_reason, started_at, finished_at, workflow_id, run_id from campaign_iterations i where campaign_id = $1 order by iteration`,
      [r.store_id],
    );
    out.push({
      run: r.run,
      storeId: r.store_id,
      workflowId: r.workflow_id,
      temporalRunId: r.temporal_run_id,
      startedHow: r.started_how,
      fromIteration: r.from_iteration,
      // A run whose workflow never registered (it failed to start) reads as not started.
      status: r.status ?? 'not started',
      endReason: r.end_reason,
      startedAt: iso(r.started_at)!,
      finishedAt: iso(r.finished_at),
      algorithm: r.algorithm ?? '?',
      config: r.config ?? null,
      iterations: its.map((i) => ({ iteration: i.iteration, status: i.status, endReason: i.end_reason, startedAt: iso(i.started_at)!, finishedAt: iso(i.finished_at), workflowId: i.workflow_id, runId: i.run_id || null })),
    });
  }
  return out;
}

/** The run `n` of `campaignId` (the latest when `n` is undefined), or CampaignNotFoundError. */
export function pickRun(runs: readonly RunAudit[], campaignId: string, n?: number): RunAudit {
  const run = n === undefined ? runs.at(-1) : runs.find((r) => r.run === n);
  if (!run) throw new CampaignNotFoundError(n === undefined || runs.length === 0 ? `unknown campaign "${campaignId}": no such row in campaigns (is DATABASE_URL the store the campaign ran on?)` : `campaign "${campaignId}" has no run ${n} (it has ${runs.length} run(s))`);
  return run;
}

/** "iterations 2-3" / "iteration 1" / "no iterations" */
const iterationSpan = (its: readonly RunIterationAudit[]): string => {
  if (its.length === 0) return 'no iterations';
  const first = its[0]!.iteration;
  const last = its.at(-1)!.iteration;
  return first === last ? `iteration ${first}` : `iterations ${first}-${last}`;
};

/**
 * The runs block of `feedloop audit` (only when the id has more than one run):
 *   runs         2; this audit shows run 2 (npx feedloop audit X --run 1 for run 1)
 *   run 1        new, from iteration 1: completed; started ..., finished ...; temporal run ...
 *                iteration 1 completed (started ..., finished ...), workflow X/iteration-1 run ...
 */
export function formatRuns(campaignId: string, runs: readonly RunAudit[], shown: number): string[] {
  if (runs.length <= 1) return [];
  const others = runs.filter((r) => r.run !== shown).map((r) => `npx feedloop audit ${campaignId} --run ${r.run}`);
  const lines = [`runs         ${runs.length}; this audit shows run ${shown} (its store key ${runs.find((r) => r.run === shown)?.storeId ?? '?'}); the others: ${others.join(', ')}`];
  for (const r of runs) {
    lines.push(
      `run ${String(r.run).padEnd(9)}${r.startedHow}, from iteration ${r.fromIteration}, ${iterationSpan(r.iterations)}: ${endText(r)}; started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}; temporal run ${r.temporalRunId ?? 'not recorded'}`,
    );
    for (const i of r.iterations) {
      lines.push(`${' '.repeat(13)}iteration ${i.iteration}: ${endText(i)} (started ${i.startedAt}${i.finishedAt ? `, finished ${i.finishedAt}` : ''}); ${i.workflowId} run ${i.runId ?? '?'}`);
    }
  }
  return lines;
}

/** The store key of the run to show: run `n`, or the latest; the id itself when it names a run (`X~2`) or predates runs. */
export async function runStoreIdToShow(pool: Queryable, campaignId: string, n?: number): Promise<string> {
  const runs = await readRuns(pool, campaignId);
  if (runs.length === 0 && n === undefined) return campaignId; // unknown: the loop's lookup says so
  return pickRun(runs, campaignId, n).storeId;
}

