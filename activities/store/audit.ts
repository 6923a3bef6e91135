import type pg from 'pg';
import { ilfIds } from '../../common/ilf';
import { OUTCOMES, type Outcome } from '../sandbox/types';

/**
 * The read side of a campaign's audit trail: one query per table, grouped by iteration, recounted
 * from the rows (not from what the workflows reported), so the audit shows what is stored.
 * `CampaignAudit` is the stable JSON of `feedloop audit --json`: every field is always present
 * (null when not known yet), record keys come in a fixed order.
 */

export const AUDIT_SCHEMA_VERSION = 1;
export const FEEDBACK_SOURCES = ['dataset', 'llm', 'human'] as const;
export type FeedbackSource = (typeof FEEDBACK_SOURCES)[number];
export const FEEDBACK_STATUSES = ['open', 'answered', 'closed', 'unanswerable'] as const;
export type FeedbackStatus = (typeof FEEDBACK_STATUSES)[number];

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

export interface CampaignConfigSummary {
  description: string | null;
  /** iterations the campaign was configured to run */
  iterations: number | null;
  models: { policy: BackendLabel | null; refiner: BackendLabel | null; feedback: BackendLabel | null };
  feedbackSource: string | null;
  refinerKind: string | null;
  refinerTrained: boolean;
  trainer: { kind: string; simulated: boolean } | null;
  trainSamplesPerTask: number | null;
  evalSamplesPerTask: number | null;
  ks: number[];
  splits: Record<string, [number, number]>;
  maxTrainTasks: number | null;
  maxTestTasks: number | null;
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
}

export interface SandboxHost {
  hostname: string;
  cpu: string | null;
}

export interface IterationAudit {
  iteration: number;
  status: string;
  phase: string;
  policy: BackendLabel;
  startedAt: string;
  finishedAt: string | null;
  /** the policy's samples on MBPP_Train and their sandbox outcomes */
  samples: { generated: number; tested: number; outcomes: OutcomeCounts; retriedResults: number };
  feedback: {
    requested: number;
    received: number;
    bySource: Record<FeedbackSource, { requested: number; received: number }>;
    byStatus: Record<FeedbackStatus, number>;
  };
  refinements: { generated: number; tested: number; kept: number; refiners: string[] };
  training: TrainingJobAudit | null;
  /** MBPP_Test evaluation of the iteration's fine-tuned policy; null before it started */
  evaluation: {
    status: string;
    policy: BackendLabel;
    tasks: number | null;
    samples: number | null;
    scored: number | null;
    outcomes: OutcomeCounts;
    passAtK: Record<string, number>;
  } | null;
  passAt1: number | null;
  passAt10: number | null;
  history: { iteration: ExecutionRef; evaluation: ExecutionRef | null; trainSamples: ExecutionRef | null };
  /** hosts that ran this iteration's sandbox batches (limits depend on the machine) */
  sandboxHosts: SandboxHost[];
  /** what the workflow recorded in campaign_iterations.counts, as stored */
  recordedCounts: Record<string, unknown>;
  /** recorded counts that disagree with the rows */
  mismatches: string[];
}

export interface CampaignAudit {
  schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  campaign: {
    id: string;
    algorithm: string;
    status: string;
    workflowId: string;
    createdAt: string;
    finishedAt: string | null;
    /** true when any model or trainer of the campaign is simulated */
    simulated: boolean;
    /** which parts are simulated, e.g. ["models.policy", "trainer"] */
    simulatedParts: string[];
    config: CampaignConfigSummary;
  };
  /** a refiner trained before iteration 1 (`<campaign>/refiner-sft`), if any */
  refinerTraining: TrainingJobAudit | null;
  /** the iteration asked for with --iteration, else all */
  iterations: IterationAudit[];
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

function summarizeConfig(raw: unknown): CampaignConfigSummary {
  const c = obj(raw);
  const models = obj(c.models);
  const sampling = obj(c.sampling);
  const train = obj(sampling.train);
  const evalSampling = obj(sampling.eval);
  const dataset = obj(c.dataset);
  const trainer = obj(c.trainer);
  const optionalModel = (v: unknown) => (v === undefined || v === null ? null : backendLabel(v));
  const splits: Record<string, [number, number]> = {};
  for (const [name, range] of Object.entries(obj(dataset.splits))) {
    if (Array.isArray(range) && range.length === 2) splits[name] = [Number(range[0]), Number(range[1])];
  }
  const trainerKind = str(trainer.kind);
  return {
    description: str(c.description),
    iterations: num(c.iterations),
    models: { policy: optionalModel(models.policy), refiner: optionalModel(models.refiner), feedback: optionalModel(models.feedback) },
    feedbackSource: str(obj(c.feedback).source),
    refinerKind: str(obj(c.refiner).kind),
    refinerTrained: obj(c.refiner).train === true,
    trainer: trainerKind === null ? null : { kind: trainerKind, simulated: trainerKind === 'simulated' },
    trainSamplesPerTask: num(train.n),
    evalSamplesPerTask: num(evalSampling.n),
    ks: Array.isArray(evalSampling.ks) ? evalSampling.ks.map(Number) : [],
    splits,
    maxTrainTasks: num(dataset.maxTrainTasks),
    maxTestTasks: num(dataset.maxTestTasks),
  };
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
  };
}

/** Recorded counts (campaign_iterations.counts) that should equal a recount of the rows. */
function findMismatches(recorded: Json, it: IterationAudit): string[] {
  const checks: Array<[string, number | null]> = [
    ['samples', it.samples.generated],
    ['feedbackRequested', it.feedback.requested],
    ['feedbackReceived', it.feedback.received],
    ['refinementsGenerated', it.refinements.generated],
    ['refinementsKept', it.refinements.kept],
    ['trainingExamples', it.training?.examples ?? null],
  ];
  const out: string[] = [];
  for (const [key, actual] of checks) {
    const claimed = num(recorded[key]);
    if (claimed !== null && actual !== null && claimed !== actual) out.push(`${key}: workflow recorded ${claimed}, rows say ${actual}`);
  }
  return out;
}

export type Queryable = Pick<pg.ClientBase, 'query'>;

export async function rows<T extends pg.QueryResultRow>(db: Queryable, sql: string, params: unknown[]): Promise<T[]> {
  return (await db.query<T>(sql, params)).rows;
}

/**
 * The audit of one campaign (or one of its iterations), read in one repeatable-read snapshot so
 * that the counts of a running campaign agree with each other. Throws CampaignNotFoundError for
 * an unknown campaign or iteration.
 */
export async function loadCampaignAudit(pool: pg.Pool, campaignId: string, opts: { iteration?: number } = {}): Promise<CampaignAudit> {
  return inSnapshot(pool, (db) => readAudit(db, campaignId, opts));
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
  created_at: Date;
  finished_at: Date | null;
}

/** The campaigns row, or CampaignNotFoundError saying why there is none. */
export async function readCampaignRow(db: Queryable, campaignId: string): Promise<CampaignRow> {
  const [campaign] = await rows<CampaignRow>(
    db,
    'select id, algorithm, config, workflow_id, status, created_at, finished_at from campaigns where id = $1',
    [campaignId],
  ).catch((err: unknown) => {
    if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
    throw new CampaignNotFoundError(`unknown campaign "${campaignId}": the store has no campaign tables yet; run \`npx feedloop dev up\` or start a worker to apply the migrations`);
  });
  if (!campaign) throw new CampaignNotFoundError(`unknown campaign "${campaignId}": no such row in campaigns (is DATABASE_URL the store the campaign ran on?)`);
  return campaign;
}

async function readAudit(db: Queryable, campaignId: string, opts: { iteration?: number }): Promise<CampaignAudit> {
  const campaign = await readCampaignRow(db, campaignId);

  const iterationRows = await rows<{
    iteration: number; workflow_id: string; run_id: string; policy: unknown; status: string; phase: string; counts: unknown; started_at: Date; finished_at: Date | null;
  }>(
    db,
    `select iteration, workflow_id, run_id, policy, status, phase, counts, started_at, finished_at
     from campaign_iterations where campaign_id = $1 and ($2::int is null or iteration = $2) order by iteration`,
    [campaignId, opts.iteration ?? null],
  );
  if (opts.iteration !== undefined && iterationRows.length === 0) {
    const [{ n } = { n: '0' }] = await rows<{ n: string }>(db, 'select count(*) as n from campaign_iterations where campaign_id = $1', [campaignId]);
    throw new CampaignNotFoundError(`campaign "${campaignId}" has no iteration ${opts.iteration} (it has ${n} iteration(s) recorded)`);
  }
  const ks = iterationRows.map((r) => r.iteration);
  const trainIds = ks.map((k) => ilfIds.trainSamples(campaignId, k));
  const refineIds = ks.map((k) => ilfIds.refinements(campaignId, k));
  const evalIds = ks.map((k) => ilfIds.evaluation(campaignId, k));

  // One query at a time: a pg client runs queries in sequence anyway, and the snapshot is shared.
  const generated = await rows<{ eval_run_id: string; n: string }>(db, 'select eval_run_id, count(*) as n from generations where eval_run_id = any($1) group by eval_run_id', [trainIds]);
  const outcomes = await rows<{ owner: string; outcome: Outcome; n: string; retried: string }>(
      db,
      `select b.owner, r.outcome, count(*) as n, count(*) filter (where r.attempt > 1) as retried
       from sandbox_results r join sandbox_batches b on b.id = r.batch_id where b.owner = any($1) group by b.owner, r.outcome`,
      [[...trainIds, ...evalIds]],
    );
  const hosts = await rows<{ owner: string; hostname: string; cpu: string | null }>(
      db,
      `select distinct owner, host->>'hostname' as hostname, coalesce(host->>'cpuModel', host->>'cpu') as cpu from sandbox_batches
       where owner = any($1) and host->>'hostname' is not null order by owner, hostname, cpu`,
      [[...trainIds, ...refineIds, ...evalIds]],
    );
  const requests = await rows<{ iteration: number; source: FeedbackSource; status: FeedbackStatus; n: string }>(
      db,
      `select iteration, source, status, count(*) as n from feedback_requests where campaign_id = $1 and iteration = any($2) group by iteration, source, status`,
      [campaignId, ks],
    );
  const received = await rows<{ iteration: number; source: string; n: string }>(
      db,
      'select iteration, source, count(*) as n from feedback where campaign_id = $1 and iteration = any($2) group by iteration, source',
      [campaignId, ks],
    );
  const refinements = await rows<{ iteration: number; refiner: string; n: string; tested: string; kept: string }>(
      db,
      `select iteration, refiner, count(*) as n, count(*) filter (where kept is not null) as tested, count(*) filter (where kept) as kept
       from refinements where campaign_id = $1 and iteration = any($2) group by iteration, refiner order by refiner`,
      [campaignId, ks],
    );
  const jobs = await rows<TrainingJobRow>(db, 'select * from training_jobs where campaign_id = $1 order by iteration nulls first, id', [campaignId]);
  const evalRuns = await rows<{ id: string; workflow_id: string; run_id: string; status: string; policy: unknown; metrics: unknown }>(
      db,
      'select id, workflow_id, run_id, status, policy, metrics from eval_runs where id = any($1)',
      [[...trainIds, ...evalIds]],
    );

  const evalRunById = new Map(evalRuns.map((r) => [r.id, r]));
  const outcomesOf = (owner: string) => {
    const counts = emptyOutcomes();
    let retried = 0;
    for (const r of outcomes) {
      if (r.owner !== owner) continue;
      counts[r.outcome] = Number(r.n);
      retried += Number(r.retried);
    }
    return { counts, retried };
  };
  const refOf = (run: { workflow_id: string; run_id: string } | undefined): ExecutionRef | null =>
    run ? { workflowId: run.workflow_id, runId: run.run_id || null } : null;

  const iterations = iterationRows.map((row): IterationAudit => {
    const k = row.iteration;
    const trainId = ilfIds.trainSamples(campaignId, k);
    const evalId = ilfIds.evaluation(campaignId, k);
    const trainOutcomes = outcomesOf(trainId);

    const bySource = Object.fromEntries(FEEDBACK_SOURCES.map((s) => [s, { requested: 0, received: 0 }])) as IterationAudit['feedback']['bySource'];
    const byStatus = Object.fromEntries(FEEDBACK_STATUSES.map((s) => [s, 0])) as IterationAudit['feedback']['byStatus'];
    for (const r of requests.filter((q) => q.iteration === k)) {
      bySource[r.source].requested += Number(r.n);
      byStatus[r.status] += Number(r.n);
    }
    for (const r of received.filter((f) => f.iteration === k)) {
      if (r.source in bySource) bySource[r.source as FeedbackSource].received += Number(r.n);
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const refs = refinements.filter((r) => r.iteration === k);

    const evalRun = evalRunById.get(evalId);
    const metrics = obj(evalRun?.metrics);
    const passAtK = Object.fromEntries(
      Object.entries(obj(metrics.passAtK))
        .filter(([, v]) => num(v) !== null)
        .sort(([a], [b]) => Number(a) - Number(b)),
    ) as Record<string, number>;
    const job = jobs.find((j) => j.iteration === k && j.id === ilfIds.trainingJob(campaignId, k)) ?? jobs.find((j) => j.iteration === k);
    const hostsOfIteration = hosts.filter((h) => [trainId, ilfIds.refinements(campaignId, k), evalId].includes(h.owner));
    const uniqueHosts = [...new Map(hostsOfIteration.map((h) => [`${h.hostname}\u0000${h.cpu ?? ''}`, { hostname: h.hostname, cpu: h.cpu }])).values()];

    const it: IterationAudit = {
      iteration: k,
      status: row.status,
      phase: row.phase,
      policy: backendLabel(row.policy),
      startedAt: iso(row.started_at)!,
      finishedAt: iso(row.finished_at),
      samples: {
        generated: Number(generated.find((g) => g.eval_run_id === trainId)?.n ?? 0),
        tested: sum(Object.values(trainOutcomes.counts)),
        outcomes: trainOutcomes.counts,
        retriedResults: trainOutcomes.retried,
      },
      feedback: {
        requested: sum(Object.values(bySource).map((s) => s.requested)),
        received: sum(Object.values(bySource).map((s) => s.received)),
        bySource,
        byStatus,
      },
      refinements: {
        generated: sum(refs.map((r) => Number(r.n))),
        tested: sum(refs.map((r) => Number(r.tested))),
        kept: sum(refs.map((r) => Number(r.kept))),
        refiners: refs.map((r) => (isSimulatedName(r.refiner) ? `${r.refiner} (SIMULATED)` : r.refiner)),
      },
      training: job ? trainingJobAudit(job) : null,
      evaluation: evalRun
        ? {
            status: evalRun.status,
            policy: backendLabel(evalRun.policy),
            tasks: num(metrics.tasks),
            samples: num(metrics.samples),
            scored: num(metrics.scored),
            outcomes: outcomesOf(evalId).counts,
            passAtK,
          }
        : null,
      passAt1: passAtK['1'] ?? null,
      passAt10: passAtK['10'] ?? null,
      history: {
        iteration: { workflowId: row.workflow_id, runId: row.run_id || null },
        evaluation: refOf(evalRun),
        trainSamples: refOf(evalRunById.get(trainId)),
      },
      sandboxHosts: uniqueHosts,
      recordedCounts: obj(row.counts),
      mismatches: [],
    };
    it.mismatches = findMismatches(it.recordedCounts, it);
    return it;
  });

  const config = summarizeConfig(campaign.config);
  const simulatedParts = [
    ...(['policy', 'refiner', 'feedback'] as const).filter((role) => config.models[role]?.simulated).map((role) => `models.${role}`),
    ...(config.trainer?.simulated ? ['trainer'] : []),
    ...iterations.filter((i) => i.policy.simulated && !config.models.policy?.simulated).map((i) => `iteration ${i.iteration} policy`),
  ];
  const refinerJob = jobs.find((j) => j.id === ilfIds.refinerJob(campaignId)) ?? jobs.find((j) => j.iteration === null);
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    campaign: {
      id: campaign.id,
      algorithm: campaign.algorithm,
      status: campaign.status,
      workflowId: campaign.workflow_id,
      createdAt: iso(campaign.created_at)!,
      finishedAt: iso(campaign.finished_at),
      simulated: simulatedParts.length > 0,
      simulatedParts,
      config,
    },
    refinerTraining: refinerJob ? trainingJobAudit(refinerJob) : null,
    iterations,
  };
}

/**
 * The numbers of an audit without ids, run ids, timestamps, durations, hosts, retries or labels:
 * what two runs with identical results must share (the chaos test compares a disturbed run's
 * numbers with an undisturbed one's). Built field by field, so a new audit field stays out
 * until someone decides it is a result.
 */
export interface AuditNumbers {
  refinerTraining: { examples: number; steps: number | null } | null;
  iterations: Array<{
    iteration: number;
    samples: { generated: number; tested: number; outcomes: OutcomeCounts };
    feedback: {
      requested: number;
      received: number;
      bySource: Record<FeedbackSource, { requested: number; received: number }>;
      byStatus: Record<FeedbackStatus, number>;
    };
    refinements: { generated: number; tested: number; kept: number };
    training: { examples: number; steps: number | null } | null;
    evaluation: { tasks: number | null; samples: number | null; scored: number | null; outcomes: OutcomeCounts; passAtK: Record<string, number> } | null;
  }>;
}

export function auditNumbers(audit: CampaignAudit): AuditNumbers {
  const job = (j: TrainingJobAudit | null) => (j ? { examples: j.examples, steps: j.steps } : null);
  return {
    refinerTraining: job(audit.refinerTraining),
    iterations: audit.iterations.map((it) => ({
      iteration: it.iteration,
      samples: { generated: it.samples.generated, tested: it.samples.tested, outcomes: { ...it.samples.outcomes } },
      feedback: {
        requested: it.feedback.requested,
        received: it.feedback.received,
        bySource: Object.fromEntries(FEEDBACK_SOURCES.map((s) => [s, { ...it.feedback.bySource[s] }])) as Record<FeedbackSource, { requested: number; received: number }>,
        byStatus: { ...it.feedback.byStatus },
      },
      refinements: { generated: it.refinements.generated, tested: it.refinements.tested, kept: it.refinements.kept },
      training: job(it.training),
      evaluation: it.evaluation
        ? { tasks: it.evaluation.tasks, samples: it.evaluation.samples, scored: it.evaluation.scored, outcomes: { ...it.evaluation.outcomes }, passAtK: { ...it.evaluation.passAtK } }
        : null,
    })),
  };
}

/** One feedback request with what came of it, for the report's examples. Texts are raw DB text. */
export interface FeedbackExample {
  iteration: number;
  requestId: string;
  taskId: string;
  source: string;
  status: string;
  failingProgram: string;
  /** the failing program's sandbox outcome */
  outcome: string | null;
  feedback: string | null;
  author: string | null;
  refiner: string | null;
  refinement: string | null;
  kept: boolean | null;
}

/** The first `perIteration` requests of each iteration (answered ones first), in request order. */
export async function listFeedbackExamples(pool: Queryable, campaignId: string, opts: { perIteration?: number; iteration?: number } = {}): Promise<FeedbackExample[]> {
  const found = await rows<{
    iteration: number; request_id: string; task_id: string; source: string; status: string; failing_program: string;
    outcome: string | null; feedback: string | null; author: string | null; refiner: string | null; refinement: string | null; kept: boolean | null;
  }>(
    pool,
    `select * from (
       select q.iteration, q.request_id, q.task_id, q.source, q.status, g.program as failing_program,
              (select r.outcome from sandbox_items i join sandbox_results r on r.batch_id = i.batch_id and r.idx = i.idx
               where i.generation_id = g.id
                 and i.batch_id in (select b.id from sandbox_batches b where b.owner = q.campaign_id || '/iteration-' || q.iteration || '/train-samples')
               limit 1) as outcome,
              f.text as feedback, f.author, rf.refiner, rf.program as refinement, rf.kept,
              row_number() over (partition by q.iteration order by (f.request_id is null), q.request_id) as nth
       from feedback_requests q join generations g on g.id = q.generation_id
       left join feedback f on f.campaign_id = q.campaign_id and f.iteration = q.iteration and f.request_id = q.request_id
       left join refinements rf on rf.campaign_id = q.campaign_id and rf.iteration = q.iteration and rf.request_id = q.request_id
       where q.campaign_id = $1 and ($2::int is null or q.iteration = $2)
     ) x where nth <= $3 order by iteration, nth`,
    [campaignId, opts.iteration ?? null, opts.perIteration ?? 5],
  );
  return found.map((r) => ({
    iteration: r.iteration,
    requestId: r.request_id,
    taskId: r.task_id,
    source: r.source,
    status: r.status,
    failingProgram: r.failing_program,
    outcome: r.outcome,
    feedback: r.feedback,
    author: r.author,
    refiner: r.refiner,
    refinement: r.refinement,
    kept: r.kept,
  }));
}
