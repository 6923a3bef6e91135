import type pg from 'pg';
import type { Outcome } from '../../common/sandbox';
import {
  AUDIT_SCHEMA_VERSION,
  backendLabel,
  campaignHead,
  type CampaignHead,
  countMismatches,
  emptyOutcomes,
  executionRef,
  inSnapshot,
  isSimulatedName,
  iterationHead,
  type IterationHead,
  jobNumbers,
  num,
  obj,
  readCampaignRow,
  readEvalRuns,
  type EvalRunRow,
  readIterationRows,
  readTrainingJobs,
  rows,
  str,
  trainingJobAudit,
  type BackendLabel,
  type ExecutionRef,
  type OutcomeCounts,
  type Queryable,
  type SandboxHost,
  type TrainingJobAudit,
} from '../../audit/core';
import { ilfIds } from './types';
import type { StepPlacement } from '../../common/task-queues';

/**
 * The audit of an ILF campaign, recounted from the rows (not from what the workflows reported):
 * per iteration, the samples and their sandbox outcomes, feedback, refinements, the fine-tuning
 * job and the MBPP_Test evaluation. `CampaignAudit` is the stable JSON of `feedloop audit --json`:
 * every field is always present (null when not known yet), record keys come in a fixed order.
 */
export const FEEDBACK_SOURCES = ['dataset', 'llm', 'human'] as const;
export type FeedbackSource = (typeof FEEDBACK_SOURCES)[number];
export const FEEDBACK_STATUSES = ['open', 'answered', 'closed', 'unanswerable'] as const;
export type FeedbackStatus = (typeof FEEDBACK_STATUSES)[number];

export interface CampaignConfigSummary {
  description: string | null;
  /** iterations the campaign was configured to run */
  iterations: number | null;
  models: { policy: BackendLabel | null; refiner: BackendLabel | null; feedback: BackendLabel | null };
  feedbackSource: string | null;
  refinerKind: string | null;
  refinerTrained: boolean;
  /** the options that make a no-feedback control, when set (e.g. "programs shuffled, feedback shuffled, filter shuffled") */
  refinerControl: string | null;
  trainer: { kind: string; simulated: boolean } | null;
  trainSamplesPerTask: number | null;
  evalSamplesPerTask: number | null;
  ks: number[];
  splits: Record<string, [number, number]>;
  maxTrainTasks: number | null;
  maxTestTasks: number | null;
}

export interface IterationAudit extends IterationHead {
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
    /** where its generation ran and why (the checkpoint's host, or a fallback host); absent in older runs */
    placement?: Record<string, StepPlacement>;
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

/** Iteration 0: the MBPP_Test evaluation of the starting policy, before any training. */
export interface StartAudit {
  evaluation: NonNullable<IterationAudit['evaluation']>;
  passAt1: number | null;
  passAt10: number | null;
  history: ExecutionRef | null;
}

export interface CampaignAudit {
  schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  campaign: CampaignHead<CampaignConfigSummary>;
  /** a refiner trained before iteration 1 (`<campaign>/refiner-sft`), if any */
  refinerTraining: TrainingJobAudit | null;
  /** the iteration asked for with --iteration, else all */
  iterations: IterationAudit[];
  /** iteration 0, the starting policy's evaluation; null when the campaign did not run one */
  start: StartAudit | null;
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
    refinerControl: refinerControl(obj(c.feedback), obj(c.refiner)),
    trainer: trainerKind === null ? null : { kind: trainerKind, simulated: trainerKind === 'simulated' },
    trainSamplesPerTask: num(train.n),
    evalSamplesPerTask: num(evalSampling.n),
    ks: Array.isArray(evalSampling.ks) ? evalSampling.ks.map(Number) : [],
    splits,
    maxTrainTasks: num(dataset.maxTrainTasks),
    maxTestTasks: num(dataset.maxTestTasks),
  };
}

/** The audit of one campaign (or one of its iterations), in one repeatable-read snapshot. */
export async function loadCampaignAudit(pool: pg.Pool, campaignId: string, opts: { iteration?: number } = {}): Promise<CampaignAudit> {
  return inSnapshot(pool, (db) => readAudit(db, campaignId, opts));
}

async function readAudit(db: Queryable, campaignId: string, opts: { iteration?: number }): Promise<CampaignAudit> {
  const campaign = await readCampaignRow(db, campaignId);

  const iterationRows = await readIterationRows(db, campaignId, opts.iteration);
  const ks = iterationRows.map((r) => r.iteration);
  const trainIds = ks.map((k) => ilfIds.trainSamples(campaignId, k));
  const refineIds = ks.map((k) => ilfIds.refinements(campaignId, k));
  const startEvalId = ilfIds.evaluation(campaignId, 0);
  const evalIds = [...ks.map((k) => ilfIds.evaluation(campaignId, k)), startEvalId];

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
  const jobs = await readTrainingJobs(db, campaignId);
  const evalRunById = await readEvalRuns(db, [...trainIds, ...evalIds]);
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
    const evaluation = evalRun ? evaluationOf(evalRun, outcomesOf(evalId).counts) : null;
    const job = jobs.find((j) => j.iteration === k && j.id === ilfIds.trainingJob(campaignId, k)) ?? jobs.find((j) => j.iteration === k);
    const hostsOfIteration = hosts.filter((h) => [trainId, ilfIds.refinements(campaignId, k), evalId].includes(h.owner));
    const uniqueHosts = [...new Map(hostsOfIteration.map((h) => [`${h.hostname}\u0000${h.cpu ?? ''}`, { hostname: h.hostname, cpu: h.cpu }])).values()];

    const it: IterationAudit = {
      ...iterationHead(row),
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
      evaluation,
      passAt1: evaluation?.passAtK['1'] ?? null,
      passAt10: evaluation?.passAtK['10'] ?? null,
      history: {
        iteration: { workflowId: row.workflow_id, runId: row.run_id || null },
        evaluation: executionRef(evalRun),
        trainSamples: executionRef(evalRunById.get(trainId)),
      },
      sandboxHosts: uniqueHosts,
      recordedCounts: obj(row.counts),
      mismatches: [],
    };
    it.mismatches = countMismatches(it.recordedCounts, [
      ['samples', it.samples.generated],
      ['feedbackRequested', it.feedback.requested],
      ['feedbackReceived', it.feedback.received],
      ['refinementsGenerated', it.refinements.generated],
      ['refinementsKept', it.refinements.kept],
      ['trainingExamples', it.training?.examples ?? null],
    ]);
    return it;
  });

  const config = summarizeConfig(campaign.config);
  const simulatedParts = [
    ...(['policy', 'refiner', 'feedback'] as const).filter((role) => config.models[role]?.simulated).map((role) => `models.${role}`),
    ...(config.trainer?.simulated ? ['trainer'] : []),
    ...iterations.filter((i) => i.policy.simulated && !config.models.policy?.simulated).map((i) => `iteration ${i.iteration} policy`),
  ];
  const startRun = evalRunById.get(startEvalId);
  const startEvaluation = startRun ? evaluationOf(startRun, outcomesOf(startEvalId).counts) : null;
  const refinerJob = jobs.find((j) => j.id === ilfIds.refinerJob(campaignId)) ?? jobs.find((j) => j.iteration === null);
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    campaign: campaignHead(campaign, config, simulatedParts),
    refinerTraining: refinerJob ? trainingJobAudit(refinerJob) : null,
    iterations,
    start: startRun ? { evaluation: startEvaluation!, passAt1: startEvaluation!.passAtK['1'] ?? null, passAt10: startEvaluation!.passAtK['10'] ?? null, history: executionRef(startRun) } : null,
  };
}

/** An evaluation run's part of the audit, from its stored summary and recounted outcomes. */
function evaluationOf(run: EvalRunRow, outcomes: OutcomeCounts): NonNullable<IterationAudit['evaluation']> {
  const metrics = obj(run.metrics);
  const passAtK = Object.fromEntries(
    Object.entries(obj(metrics.passAtK))
      .filter(([, v]) => num(v) !== null)
      .sort(([a], [b]) => Number(a) - Number(b)),
  ) as Record<string, number>;
  return { status: run.status, policy: backendLabel(run.policy), tasks: num(metrics.tasks), samples: num(metrics.samples), scored: num(metrics.scored), outcomes, passAtK, ...(run.placement ? { placement: run.placement } : {}) };
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
    evaluation: EvaluationNumbers | null;
  }>;
  /** iteration 0, when the campaign ran it */
  start?: EvaluationNumbers;
}

type EvaluationNumbers = { tasks: number | null; samples: number | null; scored: number | null; outcomes: OutcomeCounts; passAtK: Record<string, number> };
const evaluationNumbers = (e: NonNullable<IterationAudit['evaluation']>): EvaluationNumbers => ({ tasks: e.tasks, samples: e.samples, scored: e.scored, outcomes: { ...e.outcomes }, passAtK: { ...e.passAtK } });

export function auditNumbers(audit: CampaignAudit): AuditNumbers {
  const job = jobNumbers;
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
      evaluation: it.evaluation ? evaluationNumbers(it.evaluation) : null,
    })),
    // present only when the campaign evaluated its starting policy
    ...(audit.start ? { start: evaluationNumbers(audit.start.evaluation) } : {}),
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

/** The non-default choice of programs, feedback and filter (what a no-feedback control changes), or null. */
function refinerControl(feedback: Record<string, unknown>, refiner: Record<string, unknown>): string | null {
  const parts = [
    feedback.programs && feedback.programs !== 'failing' ? `programs ${String(feedback.programs)}` : null,
    refiner.feedback && refiner.feedback !== 'given' ? `feedback ${String(refiner.feedback)}` : null,
    refiner.filter && refiner.filter !== 'tests' ? `filter ${String(refiner.filter)}` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : null;
}
