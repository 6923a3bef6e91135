import type pg from 'pg';
import type { StepPlacement } from '../../common/task-queues';
import { rlaifIds } from './types';
import { campaignIds } from '../../common/campaign';
import {
  AUDIT_SCHEMA_VERSION,
  backendLabel,
  CampaignNotFoundError,
  num,
  obj,
  str,
  inSnapshot,
  readCampaignRow,
  trainingJobAudit,
  type BackendLabel,
  type Json,
  type Queryable,
  type TrainingJobAudit,
  campaignHead,
  type CampaignHead,
  rows,
  type ExecutionRef,
  countMismatches,
  executionRef,
  iterationHead,
  type IterationHead,
  jobNumbers,
  readEvalRuns,
  readIterationRows,
  readTrainingJobs,
} from '../../audit/core';

/**
 * The audit of an RLAIF campaign, recounted from the rows (not from what the workflows
 * reported): per iteration, the rollouts, the AI feedback (scored and UNSCORABLE, by scoring
 * path), the reward-model job, the reward scores, the policy-update job and the evaluation's
 * metrics (executability, CodeBLEU, AST accuracy and hallucination). `RlaifCampaignAudit` is the
 * stable JSON of `feedloop audit --json` for RLAIF campaigns: every field always present.
 */
export interface RlaifConfigSummary {
  description: string | null;
  /** apibench, or the code dataset the campaign ran on (held-out pass@k) */
  dataset: string;
  iterations: number | null;
  models: { policy: BackendLabel | null; feedback: BackendLabel | null };
  hubs: string[];
  heldOutFraction: number | null;
  rolloutQuestions: number | null;
  rolloutSamplesPerQuestion: number | null;
  evalSamplesPerQuestion: number | null;
  maxEvalQuestionsPerHub: number | null;
  feedbackQuestions: string[];
  feedbackScoring: string | null;
  /** what the rewards are: a reward model's scores, or the judge's own (`reward: ai-feedback`) */
  reward: string;
  rewardModelRetrainEvery: number | null;
  trainerCommand: string[];
}

/** The config's line on what the rewards are. */
export function rewardConfigText(cfg: Pick<RlaifConfigSummary, 'reward' | 'rewardModelRetrainEvery'>): string {
  if (cfg.reward === 'ai-feedback') return "rewards: the judge's scores (no reward model)";
  return `reward model on iteration 1${cfg.rewardModelRetrainEvery ? `, then every ${cfg.rewardModelRetrainEvery} iterations` : ' only'}`;
}

/** One iteration's reward model: trained (its job), reused, or none (the judge's scores were the rewards). */
export function rewardModelText(it: RlaifIterationAudit, job: (j: TrainingJobAudit | null) => string): string {
  if (it.rewards.source === 'ai-feedback') return `none: the judge's scores are the rewards (${it.rewardModel.scoredWith ?? '-'})`;
  return it.rewardModel.trainedThisIteration ? job(it.rewardModel.job) : `not retrained this iteration; scored with ${it.rewardModel.scoredWith ?? '-'}`;
}

export interface EvaluationMetricsAudit {
  status: string;
  /** where its answers were generated (the updated policy's host, or a fallback host) and by which worker; absent when not host-routed */
  placement?: Record<string, StepPlacement>;
  policy: BackendLabel;
  questions: number | null;
  samples: number | null;
  executabilityRate: number | null;
  compileRate: number | null;
  /** level 3 of executability: never measured here, with the reason */
  runs: { measured: false; note: string };
  codebleu: number | null;
  astAccuracy: number | null;
  hallucinationRate: number | null;
  wrongApiRate: number | null;
  perHub: Record<string, { samples: number; executabilityRate: number; codebleu: number; astAccuracy: number; hallucinationRate: number }>;
  /** on a code dataset: held-out pass@k keyed by k (the APIBench metrics are then null) */
  passAtK: Record<string, number> | null;
}

export interface RlaifIterationAudit extends IterationHead {
  rollouts: { generated: number; questions: number };
  feedback: {
    judge: string | null;
    rubricVersion: string | null;
    judged: number;
    scored: number;
    /** the judge gave no readable yes/no: stored, never scored, never trained on */
    unscorable: number;
    byMethod: { logprobs: number; parsed: number; mixed: number };
    meanScore: number | null;
  };
  rewardModel: { trainedThisIteration: boolean; job: TrainingJobAudit | null; scoredWith: string | null };
  /** where the reward model scored (its host, or a fallback host) and by which worker; absent when not host-routed */
  rewards: { scored: number; unscorable: number; meanReward: number | null; source: string | null; placement?: Record<string, StepPlacement> };
  policyUpdate: TrainingJobAudit | null;
  evaluation: EvaluationMetricsAudit | null;
  history: { iteration: ExecutionRef; evaluation: ExecutionRef | null; rollouts: ExecutionRef | null };
  recordedCounts: Record<string, unknown>;
  mismatches: string[];
}

export interface RlaifCampaignAudit {
  schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  campaign: CampaignHead<RlaifConfigSummary>;
  iterations: RlaifIterationAudit[];
  /** iteration 0, the starting policy's evaluation; null when the campaign did not run one */
  start: { evaluation: EvaluationMetricsAudit; history: ExecutionRef | null } | null;
}

const NOT_MEASURED = 'not measured: the evaluation recorded no Python probe';

function summarizeConfig(raw: unknown): RlaifConfigSummary {
  const c = obj(raw);
  const models = obj(c.models);
  const dataset = obj(c.dataset);
  const sampling = obj(c.sampling);
  const feedback = obj(c.feedback);
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return {
    description: str(c.description),
    dataset: str(dataset.name) ?? 'apibench',
    iterations: num(c.iterations),
    models: { policy: models.policy ? backendLabel(models.policy) : null, feedback: models.feedback ? backendLabel(models.feedback) : null },
    hubs: strings(dataset.hubs),
    heldOutFraction: num(dataset.heldOutFraction),
    rolloutQuestions: num(dataset.rolloutQuestions),
    rolloutSamplesPerQuestion: num(obj(sampling.rollout).n),
    evalSamplesPerQuestion: num(obj(sampling.eval).n),
    maxEvalQuestionsPerHub: num(dataset.maxEvalQuestionsPerHub),
    feedbackQuestions: strings(feedback.questions),
    feedbackScoring: str(feedback.scoring),
    reward: str(c.reward) ?? 'reward-model',
    rewardModelRetrainEvery: num(obj(c.rewardModel).retrainEvery),
    trainerCommand: strings(obj(c.trainer).command),
  };
}

function evaluationAudit(run: { status: string; policy: unknown; metrics: unknown; placement?: Record<string, StepPlacement> | null }): EvaluationMetricsAudit {
  const m = obj(obj(run.metrics).metrics);
  const runs = obj(m.runs);
  const perHub: EvaluationMetricsAudit['perHub'] = {};
  for (const [hub, v] of Object.entries(obj(m.perHub))) {
    const h = obj(v);
    perHub[hub] = { samples: num(h.samples) ?? 0, executabilityRate: num(h.executabilityRate) ?? 0, codebleu: num(h.codebleu) ?? 0, astAccuracy: num(h.astAccuracy) ?? 0, hallucinationRate: num(h.hallucinationRate) ?? 0 };
  }
  return {
    status: run.status,
    policy: backendLabel(run.policy),
    questions: num(obj(run.metrics).questions),
    samples: num(m.samples),
    executabilityRate: num(m.executabilityRate),
    compileRate: num(m.compileRate),
    runs: { measured: false, note: str(runs.note) ?? NOT_MEASURED },
    codebleu: num(m.codebleu),
    astAccuracy: num(m.astAccuracy),
    hallucinationRate: num(m.hallucinationRate),
    wrongApiRate: num(m.wrongApiRate),
    perHub,
    passAtK: (() => {
      const p = obj(obj(run.metrics).passAtK);
      const entries = Object.entries(p).filter((e): e is [string, number] => typeof e[1] === 'number');
      return entries.length ? Object.fromEntries(entries) : null;
    })(),
    ...(run.placement ? { placement: run.placement } : {}),
  };
}

function findMismatches(recorded: Json, it: RlaifIterationAudit): string[] {
  return countMismatches(recorded, [
    ['rollouts', it.rollouts.generated],
    ['feedbackScored', it.feedback.scored],
    ['feedbackUnscorable', it.feedback.unscorable],
    ['rewardModelExamples', it.rewardModel.trainedThisIteration ? (it.rewardModel.job?.examples ?? null) : null],
    ['rewardsScored', it.rewards.scored],
    ['rewardsUnscorable', it.rewards.unscorable],
    ['policyUpdateRollouts', it.policyUpdate?.examples ?? null],
  ]);
}

/** The audit of one RLAIF campaign (or one iteration), in one repeatable-read snapshot. */
export async function loadRlaifAudit(pool: pg.Pool, campaignId: string, opts: { iteration?: number } = {}): Promise<RlaifCampaignAudit> {
  return inSnapshot(pool, (db) => readAudit(db, campaignId, opts));
}

async function readAudit(db: Queryable, campaignId: string, opts: { iteration?: number }): Promise<RlaifCampaignAudit> {
  const campaign = await readCampaignRow(db, campaignId);
  if (campaign.algorithm !== 'rlaif') throw new CampaignNotFoundError(`campaign "${campaignId}" is an ${campaign.algorithm} campaign, not rlaif`);

  const iterationRows = await readIterationRows(db, campaignId, opts.iteration);
  const ks = iterationRows.map((r) => r.iteration);
  const rolloutIds = ks.map((k) => rlaifIds.rollouts(campaignId, k));
  const startEvalId = rlaifIds.evaluation(campaignId, 0);
  const evalIds = [...ks.map((k) => rlaifIds.evaluation(campaignId, k)), startEvalId];

  const generated = await rows<{ eval_run_id: string; n: string; questions: string }>(
    db,
    'select eval_run_id, count(*) as n, count(distinct task_id) as questions from generations where eval_run_id = any($1) group by eval_run_id',
    [rolloutIds],
  );
  const feedback = await rows<{ iteration: number; status: string; method: string | null; n: string; total: number | null }>(
    db,
    `select iteration, status, method, count(*) as n, sum(score::numeric)::float8 as total from ai_feedback where campaign_id = $1 and iteration = any($2)
     group by iteration, status, method order by iteration, status, method`,
    [campaignId, ks],
  );
  const feedbackRuns = await rows<{ iteration: number; judge: unknown; rubric: unknown }>(db, 'select iteration, judge, rubric from ai_feedback_runs where campaign_id = $1 and iteration = any($2)', [campaignId, ks]);
  const rewards = await rows<{ iteration: number; scored: string; unscorable: string; mean: number | null; models: string[]; sources: string[] }>(
    db,
    `select iteration, count(*) filter (where status = 'scored') as scored, count(*) filter (where status = 'unscorable') as unscorable,
            (avg(reward::numeric) filter (where status = 'scored'))::float8 as mean, array_agg(distinct reward_model) as models, array_agg(distinct source) as sources
     from rollout_rewards where campaign_id = $1 and iteration = any($2) group by iteration`,
    [campaignId, ks],
  );
  const jobs = await readTrainingJobs(db, campaignId);
  const runById = await readEvalRuns(db, [...rolloutIds, ...evalIds]);

  const iterations = iterationRows.map((row): RlaifIterationAudit => {
    const k = row.iteration;
    const gen = generated.find((g) => g.eval_run_id === rlaifIds.rollouts(campaignId, k));
    const fb = feedback.filter((f) => f.iteration === k);
    const count = (pred: (f: (typeof fb)[number]) => boolean) => fb.filter(pred).reduce((s, f) => s + Number(f.n), 0);
    const scored = count((f) => f.status === 'scored');
    // Sums as exact numerics in SQL: the mean is the same whatever order the rows were written in.
    const meanScore = scored === 0 ? null : fb.filter((f) => f.status === 'scored').reduce((s, f) => s + (f.total ?? 0), 0) / scored;
    const run = feedbackRuns.find((r) => r.iteration === k);
    const rw = rewards.find((r) => r.iteration === k);
    const rmJob = jobs.find((j) => j.id === rlaifIds.rewardModelJob(campaignId, k));
    const updateJob = jobs.find((j) => j.id === campaignIds.policyUpdateJob(campaignId, k));
    const evalRun = runById.get(rlaifIds.evaluation(campaignId, k));
    const it: RlaifIterationAudit = {
      ...iterationHead(row),
      rollouts: { generated: Number(gen?.n ?? 0), questions: Number(gen?.questions ?? 0) },
      feedback: {
        judge: run ? str(obj(run.judge).label) : null,
        rubricVersion: run ? str(obj(run.rubric).version) : null,
        judged: count(() => true),
        scored,
        unscorable: count((f) => f.status === 'unscorable'),
        byMethod: { logprobs: count((f) => f.status === 'scored' && f.method === 'logprobs'), parsed: count((f) => f.status === 'scored' && f.method === 'parsed'), mixed: count((f) => f.status === 'scored' && f.method === 'mixed') },
        meanScore,
      },
      rewardModel: { trainedThisIteration: rmJob !== undefined, job: rmJob ? trainingJobAudit(rmJob) : null, scoredWith: rw?.models?.[0] ?? null },
      rewards: (() => {
        const placement = runById.get(rlaifIds.rollouts(campaignId, k))?.placement;
        return { scored: Number(rw?.scored ?? 0), unscorable: Number(rw?.unscorable ?? 0), meanReward: rw?.mean ?? null, source: rw?.sources?.[0] ?? null, ...(placement ? { placement } : {}) };
      })(),
      policyUpdate: updateJob ? trainingJobAudit(updateJob) : null,
      evaluation: evalRun ? evaluationAudit(evalRun) : null,
      history: {
        iteration: { workflowId: row.workflow_id, runId: row.run_id || null },
        evaluation: executionRef(evalRun),
        rollouts: executionRef(runById.get(rlaifIds.rollouts(campaignId, k))),
      },
      recordedCounts: obj(row.counts),
      mismatches: [],
    };
    it.mismatches = findMismatches(it.recordedCounts, it);
    return it;
  });

  const config = summarizeConfig(campaign.config);
  const simulatedJobs = iterations.some((i) => i.rewardModel.job?.weights === 'simulated' || i.policyUpdate?.weights === 'simulated');
  const simulatedParts = [
    ...(['policy', 'feedback'] as const).filter((role) => config.models[role]?.simulated).map((role) => `models.${role}`),
    ...(simulatedJobs ? ['trainer'] : []),
  ];
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    campaign: campaignHead(campaign, config, simulatedParts),
    iterations,
    start: runById.has(startEvalId) ? { evaluation: evaluationAudit(runById.get(startEvalId)!), history: executionRef(runById.get(startEvalId)) } : null,
  };
}

/** The numbers two runs with identical results must share (no ids, times, hosts or labels). */
export interface RlaifAuditNumbers {
  iterations: Array<{
    iteration: number;
    rollouts: { generated: number; questions: number };
    feedback: { judged: number; scored: number; unscorable: number; byMethod: { logprobs: number; parsed: number; mixed: number }; meanScore: number | null };
    rewardModel: { examples: number; steps: number | null } | null;
    rewards: { scored: number; unscorable: number; meanReward: number | null };
    policyUpdate: { examples: number; steps: number | null } | null;
    evaluation: RlaifEvaluationNumbers | null;
  }>;
  /** iteration 0, when the campaign ran it */
  start?: RlaifEvaluationNumbers;
}

type RlaifEvaluationNumbers = {
  samples: number | null;
  executabilityRate: number | null;
  compileRate: number | null;
  codebleu: number | null;
  astAccuracy: number | null;
  hallucinationRate: number | null;
  /** on a code dataset only */
  passAtK?: Record<string, number>;
};
const evaluationNumbers = (e: EvaluationMetricsAudit): RlaifEvaluationNumbers => ({
  samples: e.samples,
  executabilityRate: e.executabilityRate,
  compileRate: e.compileRate,
  codebleu: e.codebleu,
  astAccuracy: e.astAccuracy,
  hallucinationRate: e.hallucinationRate,
  ...(e.passAtK ? { passAtK: { ...e.passAtK } } : {}),
});


export function rlaifAuditNumbers(audit: RlaifCampaignAudit): RlaifAuditNumbers {
  const job = jobNumbers;
  return {
    iterations: audit.iterations.map((it) => ({
      iteration: it.iteration,
      rollouts: { ...it.rollouts },
      feedback: { judged: it.feedback.judged, scored: it.feedback.scored, unscorable: it.feedback.unscorable, byMethod: { ...it.feedback.byMethod }, meanScore: it.feedback.meanScore },
      rewardModel: job(it.rewardModel.job),
      rewards: { scored: it.rewards.scored, unscorable: it.rewards.unscorable, meanReward: it.rewards.meanReward },
      policyUpdate: job(it.policyUpdate),
      evaluation: it.evaluation ? evaluationNumbers(it.evaluation) : null,
    })),
    // present only when the campaign evaluated its starting policy
    ...(audit.start ? { start: evaluationNumbers(audit.start.evaluation) } : {}),
  };
}

/** One rollout's AI feedback, for the report's examples. Texts are raw DB text. */
export interface AiFeedbackExample {
  iteration: number;
  taskId: string;
  status: string;
  score: number | null;
  method: string | null;
  answer: string;
  judged: Array<{ question: string; pYes: number | null; method: string | null; text: string; problem: string | null }>;
}

/** The first `perIteration` rollouts of each iteration, unscorable ones first (they need a look). */
export async function listAiFeedbackExamples(pool: Queryable, campaignId: string, opts: { perIteration?: number } = {}): Promise<AiFeedbackExample[]> {
  const found = await rows<{ iteration: number; task_id: string; status: string; score: number | null; method: string | null; program: string; answers: unknown }>(
    pool,
    `select * from (
       select f.iteration, f.task_id, f.status, f.score, f.method, g.program, f.answers,
              row_number() over (partition by f.iteration order by (f.status = 'scored'), f.task_id, g.sample_index) as nth
       from ai_feedback f join generations g on g.id = f.generation_id where f.campaign_id = $1
     ) x where nth <= $2 order by iteration, nth`,
    [campaignId, opts.perIteration ?? 4],
  );
  return found.map((r) => ({
    iteration: r.iteration,
    taskId: r.task_id,
    status: r.status,
    score: r.score,
    method: r.method,
    answer: r.program,
    judged: (Array.isArray(r.answers) ? r.answers : []).map((a) => {
      const x = obj(a);
      return { question: str(x.question) ?? '?', pYes: num(x.pYes), method: str(x.method), text: str(x.text) ?? '', problem: str(x.problem) };
    }),
  }));
}

