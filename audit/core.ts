import type pg from 'pg';
import { OUTCOMES, type Outcome } from '../activities/sandbox/types';
import { datasetFileOf } from '../common/dataset-file';
import type { StepPlacement } from '../common/task-queues';
import type { WorkerVersion } from '../common/worker-version';

/**
 * The read side of a campaign's audit trail: one query per table, grouped by iteration, recounted
 * from the rows (not from what the workflows reported), so the audit shows what is stored.
 * `CampaignAudit` is the stable JSON of `feedloop audit --json`: every field is always present
 * (null when not known yet), record keys come in a fixed order.
 */

/** 2: `start`, iteration 0's evaluation of the starting policy, was added. 3: each iteration's `workerVersion`. 4: `endReason` of the campaign and each iteration. 5: `runs` (`feedloop audit --json`), each run of the campaign id with its own iterations (audit/runs.ts); the rest is the shown run's. */
export const AUDIT_SCHEMA_VERSION = 5;

/** Every outcome class, zero when absent. */
export type OutcomeCounts = Record<Outcome, number>;

/** A model backend as the audit names it; simulated ones carry "(SIMULATED)" in the label. */
export interface BackendLabel {
  /** replay | openai | onnx | simulated | unknown */
  backend: string;
  /** e.g. "openai:codegen-6b", "simulated:simulated-base (SIMULATED)" */
  label: string;
  simulated: boolean;
}

/** The Temporal execution that holds a piece of history (`feedloop history export <workflowId> --run-id <runId>`). */
export interface ExecutionRef {
  workflowId: string;
  runId: string | null;
}

export interface TrainingJobAudit {
  id: string;
  kind: string;
  trainer: string;
  status: string;
  /** trained: real weights; simulated: a stand-in, no weights; none: nothing was trained; in-progress */
  weights: 'trained' | 'simulated' | 'none' | 'in-progress';
  /** one plain sentence, e.g. "no weights were trained: ..." */
  statement: string;
  checkpoint: string | null;
  steps: number | null;
  examples: number;
  durationMs: number | null;
  datasetPath: string | null;
  host: string | null;
  workerTaskQueue: string | null;
  note: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** the loss curve and log-likelihoods before/after (learning_signals); null when none was recorded */
  learningSignal: LearningSignalAudit | null;
}

/** A policy's mean per-token log-likelihood of a set of (prompt, program) pairs, and its perplexity. */
export interface LogLikelihoodAudit {
  meanLogprob: number;
  perplexity: number;
}

/** A set scored under the policy before the job and the one it wrote. */
export interface ScoredSetAudit {
  set: string;
  pairs: number;
  tokens: number;
  before: LogLikelihoodAudit;
  after: LogLikelihoodAudit;
}

/** What a fine-tuning job taught, even when pass@1 is 0 (activities/training/learning-signal.ts). */
export interface LearningSignalAudit {
  /** the model the job started from: the iteration's policy */
  policyBefore: string;
  /** the job (of this campaign) whose export policyBefore is; null for the starting model */
  policyBeforeFrom: string | null;
  /** the model it wrote: the next iteration's policy */
  policyAfter: string;
  /** [step, loss] from the trainer protocol's progress events */
  lossCurve: [number, number][];
  lossFirst: number | null;
  lossLast: number | null;
  heldOut: ScoredSetAudit | null;
  trainingSet: ScoredSetAudit | null;
  /** plain warnings, e.g. that the step did not lower the loss on its own training set */
  flags: string[];
  note: string | null;
}

export interface SandboxHost {
  hostname: string;
  cpu: string | null;
}

/** PostgreSQL's undefined_table: a store the migrations never ran on */
export const UNDEFINED_TABLE = '42P01';

/** An unknown campaign or iteration (the CLI exits 1). */
export class CampaignNotFoundError extends Error {
  override name = 'CampaignNotFoundError';
}

export type Json = Record<string, unknown>;
export const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function emptyOutcomes(): OutcomeCounts {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;
}

/** Labels a backend config as stored in the campaign config or an iteration's policy. */
export function backendLabel(raw: unknown): BackendLabel {
  const b = obj(raw);
  const backend = str(b.backend) ?? 'unknown';
  switch (backend) {
    case 'replay':
      return { backend, label: `replay:${str(b.source) ?? '?'}`, simulated: false };
    case 'simulated':
      return { backend, label: `simulated:${str(b.model) ?? 'simulated'} (SIMULATED)`, simulated: true };
    case 'onnx':
      return { backend, label: `onnx:${str(b.modelDir) ?? '?'}`, simulated: false };
    case 'openai':
      return { backend, label: `openai:${str(obj(b.adapter).name) ?? str(b.model) ?? '?'}`, simulated: false };
    default:
      return { backend, label: backend, simulated: false };
  }
}

/** "simulated:..." refiner names and simulated:// checkpoints are stand-ins, never real models. */
export function isSimulatedName(name: string | null): boolean {
  return name !== null && /^simulated(:|$)/.test(name);
}

export interface TrainingJobRow {
  id: string;
  iteration: number | null;
  kind: string;
  trainer: string;
  status: string;
  dataset_path: string | null;
  examples: number;
  checkpoint: string | null;
  steps: number | null;
  metrics: unknown;
  host: string | null;
  worker_task_queue: string | null;
  note: string | null;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  /** the learning_signals row, as JSON (readTrainingJobs) */
  learning_signal?: unknown;
  /** the job whose export the learning signal's policy_before is */
  policy_before_from?: string | null;
}

const scored = (set: string, pairs: unknown, tokens: unknown, before: unknown, after: unknown): ScoredSetAudit | null => {
  const b = num(before);
  const a = num(after);
  if (b === null || a === null) return null;
  return { set, pairs: num(pairs) ?? 0, tokens: num(tokens) ?? 0, before: { meanLogprob: b, perplexity: Math.exp(-b) }, after: { meanLogprob: a, perplexity: Math.exp(-a) } };
};

export function learningSignalAudit(raw: unknown, policyBeforeFrom: string | null): LearningSignalAudit | null {
  const r = obj(raw);
  if (str(r.job_id) === null) return null;
  const lossCurve = (Array.isArray(r.loss_curve) ? r.loss_curve : [])
    .filter((p): p is [number, number] => Array.isArray(p) && num(p[0]) !== null && num(p[1]) !== null);
  const lossFirst = lossCurve[0]?.[1] ?? null;
  const lossLast = lossCurve.at(-1)?.[1] ?? null;
  const heldOut = scored(str(r.held_out_set) ?? 'held-out', r.held_out_pairs, r.held_out_tokens, r.held_out_before, r.held_out_after);
  const trainingSet = scored('training set', r.train_pairs, r.train_tokens, r.train_before, r.train_after);
  const flags: string[] = [];
  // sft maximises its training set's likelihood: that set is the one test it must pass (a policy
  // update maximises reward, not likelihood, so only its loss curve is judged)
  if (str(r.kind) === 'sft' && trainingSet && trainingSet.after.meanLogprob <= trainingSet.before.meanLogprob) {
    flags.push(`the fine-tuning step did not lower the loss on its own training set (perplexity ${trainingSet.before.perplexity.toFixed(3)} -> ${trainingSet.after.perplexity.toFixed(3)})`);
  }
  // The loss curve is per-minibatch, so noisy on short jobs: it judges a job only where no
  // before/after measurement of the training set does (policy updates, trainers that report none),
  // and compares the means of its first and last quarters rather than two single steps.
  const measuredOnTrainingSet = str(r.kind) === 'sft' && trainingSet !== null;
  if (!measuredOnTrainingSet && lossCurve.length > 1) {
    const window = Math.max(1, Math.floor(lossCurve.length / 4));
    const early = lossCurve.slice(0, window);
    const late = lossCurve.slice(-window);
    const mean = (points: Array<[number, number]>) => points.reduce((sum, p) => sum + p[1], 0) / points.length;
    const steps = (points: Array<[number, number]>) => (points.length === 1 ? `step ${points[0]![0]}` : `steps ${points[0]![0]}-${points.at(-1)![0]}`);
    if (mean(late) >= mean(early)) {
      flags.push(`the training loss did not fall (${mean(early).toFixed(4)} at ${steps(early)} -> ${mean(late).toFixed(4)} at ${steps(late)})`);
    }
  }
  return {
    policyBefore: str(r.policy_before) ?? '?',
    policyBeforeFrom,
    policyAfter: str(r.policy_after) ?? '?',
    lossCurve,
    lossFirst,
    lossLast,
    heldOut,
    trainingSet,
    flags,
    note: str(r.note),
  };
}

export function trainingJobAudit(r: TrainingJobRow): TrainingJobAudit {
  const simulated = r.trainer === 'simulated' || isSimulatedName(r.checkpoint) || obj(r.metrics).simulated === true;
  let weights: TrainingJobAudit['weights'];
  let statement: string;
  if (r.trainer === 'none' || r.status === 'skipped') {
    weights = 'none';
    statement = `no weights were trained${r.note ? `: ${r.note}` : ''}`;
  } else if (r.status === 'running') {
    weights = 'in-progress';
    statement = `training in progress (${r.trainer}${simulated ? ', SIMULATED' : ''})`;
  } else if (r.status !== 'completed') {
    weights = 'none';
    statement = `training ${r.status}: no weights were produced${r.note ? ` (${r.note})` : ''}`;
  } else if (simulated) {
    weights = 'simulated';
    statement = `SIMULATED training: no real weights were trained (checkpoint ${r.checkpoint ?? 'none'})`;
  } else {
    weights = 'trained';
    statement = `trained ${r.steps ?? '?'} steps on ${r.examples} examples -> ${r.checkpoint ?? 'no checkpoint recorded'}`;
  }
  return {
    id: r.id,
    kind: r.kind,
    trainer: r.trainer,
    status: r.status,
    weights,
    statement,
    checkpoint: r.checkpoint,
    steps: r.steps,
    examples: r.examples,
    durationMs: r.duration_ms,
    datasetPath: r.dataset_path,
    host: r.host,
    workerTaskQueue: r.worker_task_queue,
    note: r.note,
    startedAt: iso(r.started_at)!,
    finishedAt: iso(r.finished_at),
    learningSignal: learningSignalAudit(r.learning_signal, r.policy_before_from ?? null),
  };
}

export type Queryable = Pick<pg.ClientBase, 'query'>;

export async function rows<T extends pg.QueryResultRow>(db: Queryable, sql: string, params: unknown[]): Promise<T[]> {
  return (await db.query<T>(sql, params)).rows;
}

/** Runs reads in one repeatable-read, read-only transaction, so a running campaign's counts agree. */
export async function inSnapshot<T>(pool: pg.Pool, read: (db: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin transaction isolation level repeatable read read only');
    return await read(client);
  } finally {
    await client.query('rollback').catch(() => undefined);
    client.release();
  }
}

export interface CampaignRow {
  id: string;
  algorithm: string;
  config: unknown;
  workflow_id: string;
  status: string;
  /** why it ended so (migration 011; null before it, or while it runs) */
  end_reason: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/** The campaigns row, or CampaignNotFoundError saying why there is none. */
export async function readCampaignRow(db: Queryable, campaignId: string): Promise<CampaignRow> {
  const [campaign] = await rows<CampaignRow>(
    db,
    // end_reason through to_jsonb: a store an older worker migrated (before 011) reads as well
    `select id, algorithm, config, workflow_id, status, to_jsonb(c)->>'end_reason' as end_reason, created_at, finished_at from campaigns c where id = $1`,
    [campaignId],
  ).catch((err: unknown) => {
    if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
    throw new CampaignNotFoundError(`unknown campaign "${campaignId}": the store has no campaign tables yet; run \`npx feedloop dev up\` or start a worker to apply the migrations`);
  });
  if (!campaign) throw new CampaignNotFoundError(`unknown campaign "${campaignId}": no such row in campaigns (is DATABASE_URL the store the campaign ran on?)`);
  return campaign;
}

export interface IterationRow {
  iteration: number;
  workflow_id: string;
  run_id: string;
  policy: unknown;
  status: string;
  end_reason: string | null;
  phase: string;
  counts: unknown;
  started_at: Date;
  finished_at: Date | null;
  worker_version: WorkerVersion | null;
}

/** The campaign's iteration rows (or the one asked for: CampaignNotFoundError when it has none). */
export async function readIterationRows(db: Queryable, campaignId: string, iteration: number | undefined): Promise<IterationRow[]> {
  const found = await rows<IterationRow>(
    db,
    `select iteration, workflow_id, run_id, policy, status, to_jsonb(i)->>'end_reason' as end_reason, phase, counts, started_at, finished_at, worker_version
     from campaign_iterations i where campaign_id = $1 and ($2::int is null or iteration = $2) order by iteration`,
    [campaignId, iteration ?? null],
  );
  if (iteration !== undefined && found.length === 0) {
    const [{ n } = { n: '0' }] = await rows<{ n: string }>(db, 'select count(*) as n from campaign_iterations where campaign_id = $1', [campaignId]);
    throw new CampaignNotFoundError(`campaign "${campaignId}" has no iteration ${iteration} (it has ${n} iteration(s) recorded)`);
  }
  return found;
}

/** The common head of an iteration's audit: its row's status, phase, policy and times. */
export interface IterationHead {
  iteration: number;
  status: string;
  /** why it ended so: the failure (step and message), the terminate reason; null when it completed or runs */
  endReason: string | null;
  phase: string;
  policy: BackendLabel;
  startedAt: string;
  finishedAt: string | null;
  /** the Worker Deployment version the iteration workflow ran on (pinned); null: unversioned workers, or recorded before versions were */
  workerVersion: WorkerVersion | null;
}

export function iterationHead(row: IterationRow): IterationHead {
  const v = obj(row.worker_version);
  return {
    iteration: row.iteration,
    status: row.status,
    endReason: row.end_reason,
    phase: row.phase,
    policy: backendLabel(row.policy),
    startedAt: iso(row.started_at)!,
    finishedAt: iso(row.finished_at),
    workerVersion: str(v.deploymentName) && str(v.buildId) ? { deploymentName: str(v.deploymentName)!, buildId: str(v.buildId)! } : null,
  };
}

export interface EvalRunRow {
  id: string;
  workflow_id: string;
  run_id: string;
  status: string;
  policy: unknown;
  metrics: unknown;
  /** where its GPU steps ran and why, by step (common/task-queues.ts StepPlacement); null before that was recorded */
  placement: Record<string, StepPlacement> | null;
}

export async function readEvalRuns(db: Queryable, ids: readonly string[]): Promise<Map<string, EvalRunRow>> {
  const found = await rows<EvalRunRow>(db, 'select id, workflow_id, run_id, status, policy, metrics, placement from eval_runs where id = any($1)', [ids]);
  return new Map(found.map((r) => [r.id, r]));
}

export async function readTrainingJobs(db: Queryable, campaignId: string): Promise<TrainingJobRow[]> {
  return rows<TrainingJobRow>(
    db,
    `select j.*, to_jsonb(ls) as learning_signal,
       (select prev.job_id from learning_signals prev where prev.campaign_id = ls.campaign_id and prev.policy_after = ls.policy_before and prev.job_id <> ls.job_id limit 1) as policy_before_from
     from training_jobs j left join learning_signals ls on ls.job_id = j.id
     where j.campaign_id = $1 order by j.iteration nulls first, j.id`,
    [campaignId],
  );
}

/** "generate on feedloop-gpu by 4242@host-b/gpu (fallback: feedloop-gpu@host-a took nothing for 10m)", one per recorded step. */
export function formatPlacement(placement: Record<string, StepPlacement> | null | undefined): string | undefined {
  if (!placement) return undefined;
  return Object.values(placement)
    .map((p) => `${p.step} on ${p.taskQueue}${p.worker ? ` by ${p.worker}` : ''} (${p.reason === 'fallback' ? `fallback: ${p.preferred} took nothing for ${p.after}` : 'the checkpoint\'s host'})`)
    .join('; ');
}

/** The execution a stored row was written from, for `feedloop history export`. */
export const executionRef = (run: { workflow_id: string; run_id: string } | undefined): ExecutionRef | null => (run ? { workflowId: run.workflow_id, runId: run.run_id || null } : null);

/** Recorded counts (campaign_iterations.counts) that disagree with a recount of the rows. */
export function countMismatches(recorded: Json, recount: ReadonlyArray<[string, number | null]>): string[] {
  const out: string[] = [];
  for (const [key, actual] of recount) {
    const claimed = num(recorded[key]);
    if (claimed !== null && actual !== null && claimed !== actual) out.push(`${key}: workflow recorded ${claimed}, rows say ${actual}`);
  }
  return out;
}

/** The campaign part of every loop's audit. */
export interface CampaignHead<C> {
  id: string;
  algorithm: string;
  status: string;
  /** why it ended so: the failure (step and message), the terminate reason; null when it completed or runs */
  endReason: string | null;
  workflowId: string;
  createdAt: string;
  finishedAt: string | null;
  /** true when any model or trainer of the campaign is simulated */
  simulated: boolean;
  /** which parts are simulated, e.g. ["models.policy", "trainer"] */
  simulatedParts: string[];
  /** the dataset file of the user's tasks the campaign trained on, by path and SHA-256 (pinned when it started); null: built-in datasets */
  datasetFile: { path: string; sha256: string | null } | null;
  config: C;
}

export function campaignHead<C>(campaign: CampaignRow, config: C, simulatedParts: string[]): CampaignHead<C> {
  return {
    id: campaign.id,
    algorithm: campaign.algorithm,
    status: campaign.status,
    endReason: campaign.end_reason,
    workflowId: campaign.workflow_id,
    createdAt: iso(campaign.created_at)!,
    finishedAt: iso(campaign.finished_at),
    simulated: simulatedParts.length > 0,
    simulatedParts,
    datasetFile: datasetFileOf(campaign.config),
    config,
  };
}

/** A training job's numbers for run-to-run comparison (no ids, times or hosts). */
export const jobNumbers = (j: TrainingJobAudit | null) => (j ? { examples: j.examples, steps: j.steps } : null);

/** The algorithm of a stored campaign, or a CampaignNotFoundError. */
export async function campaignAlgorithm(pool: Queryable, campaignId: string): Promise<string> {
  return (await readCampaignRow(pool, campaignId)).algorithm;
}

/**
 * A campaign's or an iteration's state in the words `campaign status`, the audit and the report
 * all use: "completed", "stopped", "failed: iteration 1 of campaign c failed: Terminated".
 */
export function endText(r: { status: string; endReason: string | null }): string {
  // A reason's first line: a crashed trainer's message can go on with its require stack.
  return r.endReason ? `${r.status}: ${r.endReason.split('\n')[0]}` : r.status;
}
