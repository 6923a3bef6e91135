import type pg from 'pg';
import type { StepPlacement } from '../../common/task-queues';
import { rlcfIds } from './types';
import {
  AUDIT_SCHEMA_VERSION,
  backendLabel,
  CampaignNotFoundError,
  campaignHead,
  countMismatches,
  executionRef,
  inSnapshot,
  iterationHead,
  jobNumbers,
  num,
  obj,
  readCampaignRow,
  readEvalRuns,
  readIterationRows,
  readTrainingJobs,
  rows,
  str,
  trainingJobAudit,
  type BackendLabel,
  type CampaignHead,
  type EvalRunRow,
  type ExecutionRef,
  type IterationHead,
  type Json,
  type Queryable,
  type TrainingJobAudit,
} from '../../audit/core';

/**
 * The audit of an RLCF campaign, recounted from the rows: per iteration, the rollouts, each
 * grounding stage's counts (compiled, static checks and what failed them, test outcomes, the
 * discriminator's scored / UNSCORABLE split), the reward distribution, the policy-update job and
 * the evaluation's four rates (compile, static-check pass, execution, pass@k) on MBJP and
 * MathQA-Java, beside iteration 0's. `RlcfCampaignAudit` is the stable JSON of
 * `feedloop audit --json` for RLCF campaigns: every field always present.
 */
export interface RlcfConfigSummary {
  description: string | null;
  iterations: number | null;
  models: { policy: BackendLabel | null; discriminator: BackendLabel | null };
  split: string | null;
  rolloutTasks: number | null;
  maxEvalTasks: number | null;
  mathqaEvalTasks: number | null;
  rolloutSamplesPerTask: number | null;
  evalSamplesPerTask: number | null;
  ks: number[];
  discriminatorKind: string | null;
  staticChecksVersion: string | null;
  reward: Record<string, unknown>;
  trainerCommand: string[];
}

export interface JavaEvaluationAudit {
  dataset: string;
  status: string;
  policy: BackendLabel;
  tasks: number | null;
  samples: number | null;
  compileRate: number | null;
  staticCheckPassRate: number | null;
  executionRate: number | null;
  passAtK: Record<string, number>;
  outcomes: Record<string, number>;
}

export interface RlcfEvaluationAudit {
  mbjp: JavaEvaluationAudit | null;
  mathqa: JavaEvaluationAudit | null;
}

export interface RewardDistribution {
  scored: number;
  unscorable: number;
  /** why each unscorable program has no reward (kept out of the update, never 0) */
  unscorableByReason: Record<string, number>;
  meanReward: number | null;
  minReward: number | null;
  maxReward: number | null;
  /** scored rewards per bin: [-1] not compiling, then half-open bins up to the maximum 1.5 */
  histogram: Array<{ bin: string; n: number }>;
}

export interface RlcfIterationAudit extends IterationHead {
  rollouts: { generated: number; tasks: number };
  stages: {
    compiled: number;
    compileErrors: number;
    compileTimeouts: number;
    compileInfraErrors: number;
    staticChecked: number;
    staticPassed: number;
    /** what failed the static checks: lint categories and signature verdicts */
    staticFailures: Record<string, number>;
    tests: Record<string, number>;
    discriminator: {
      kind: string | null;
      /** the `trained` discriminator's reward_model job of this iteration (null: none, or not retrained) */
      job: TrainingJobAudit | null;
      asked: number;
      scored: number;
      unscorable: number;
      byMethod: Record<string, number>;
      meanPYes: number | null;
      /** where the trained classifier scored: its host, or the fallback (eval_runs.placement of the rollouts) */
      placement?: Record<string, StepPlacement>;
    };
  };
  rewards: RewardDistribution;
  policyUpdate: TrainingJobAudit | null;
  evaluation: RlcfEvaluationAudit | null;
  history: { iteration: ExecutionRef; evaluation: ExecutionRef | null; rollouts: ExecutionRef | null };
  recordedCounts: Record<string, unknown>;
  mismatches: string[];
}

export interface RlcfCampaignAudit {
  schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  campaign: CampaignHead<RlcfConfigSummary>;
  iterations: RlcfIterationAudit[];
  /** iteration 0, the starting policy's evaluation; null when the campaign did not run one */
  start: { evaluation: RlcfEvaluationAudit; history: ExecutionRef | null } | null;
}

/** Reward bins, by upper bound: the floor (-1: no compile, with the default weights), then half-open bins. */
const HISTOGRAM_BINS: Array<{ bin: string; below: (v: number) => boolean }> = [
  { bin: '<= -1', below: (v) => v <= -1 },
  { bin: '(-1, 0)', below: (v) => v < 0 },
  { bin: '[0, 0.5)', below: (v) => v < 0.5 },
  { bin: '[0.5, 1)', below: (v) => v < 1 },
  { bin: '>= 1', below: () => true },
];

function summarizeConfig(raw: unknown): RlcfConfigSummary {
  const c = obj(raw);
  const models = obj(c.models);
  const dataset = obj(c.dataset);
  const sampling = obj(c.sampling);
  const grounding = obj(c.grounding);
  return {
    description: str(c.description),
    iterations: num(c.iterations),
    models: { policy: models.policy ? backendLabel(models.policy) : null, discriminator: models.discriminator ? backendLabel(models.discriminator) : null },
    split: str(dataset.split),
    rolloutTasks: num(dataset.rolloutTasks),
    maxEvalTasks: num(dataset.maxEvalTasks),
    mathqaEvalTasks: num(dataset.mathqaEvalTasks),
    rolloutSamplesPerTask: num(obj(sampling.rollout).n),
    evalSamplesPerTask: num(obj(sampling.eval).n),
    ks: Array.isArray(sampling.ks) ? sampling.ks.filter((k): k is number => typeof k === 'number') : [],
    discriminatorKind: str(obj(grounding.discriminator).kind),
    staticChecksVersion: str(obj(grounding.staticChecks).version),
    reward: obj(grounding.reward),
    trainerCommand: Array.isArray(obj(c.trainer).command) ? (obj(c.trainer).command as unknown[]).filter((x): x is string => typeof x === 'string') : [],
  };
}

function javaEvaluation(dataset: string, run: EvalRunRow | undefined): JavaEvaluationAudit | null {
  if (!run) return null;
  const m = obj(obj(run.metrics).java);
  const numbers = (v: unknown) => Object.fromEntries(Object.entries(obj(v)).filter(([, x]) => typeof x === 'number')) as Record<string, number>;
  return {
    dataset,
    status: run.status,
    policy: backendLabel(run.policy),
    tasks: num(m.tasks),
    samples: num(m.samples),
    compileRate: num(m.compileRate),
    staticCheckPassRate: num(m.staticCheckPassRate),
    executionRate: num(m.executionRate),
    passAtK: numbers(m.passAtK),
    outcomes: numbers(m.outcomes),
  };
}

function evaluationOf(campaignId: string, k: number, runs: Map<string, EvalRunRow>): RlcfEvaluationAudit | null {
  const mbjp = javaEvaluation('mbjp', runs.get(rlcfIds.evalRun(campaignId, k, 'mbjp')));
  const mathqa = javaEvaluation('mathqa-java', runs.get(rlcfIds.evalRun(campaignId, k, 'mathqa-java')));
  return mbjp || mathqa ? { mbjp, mathqa } : null;
}

function findMismatches(recorded: Json, it: RlcfIterationAudit): string[] {
  return countMismatches(recorded, [
    ['rollouts', it.rollouts.generated],
    ['compiled', it.stages.compiled],
    ['compileErrors', it.stages.compileErrors],
    ['staticPassed', it.stages.staticPassed],
    ['discriminatorScored', it.stages.discriminator.scored],
    ['discriminatorUnscorable', it.stages.discriminator.unscorable],
    ['rewardsScored', it.rewards.scored],
    ['rewardsUnscorable', it.rewards.unscorable],
    ['policyUpdateRollouts', it.policyUpdate?.examples ?? null],
  ]);
}

/** The audit of one RLCF campaign (or one iteration), in one repeatable-read snapshot. */
export async function loadRlcfAudit(pool: pg.Pool, campaignId: string, opts: { iteration?: number } = {}): Promise<RlcfCampaignAudit> {
  return inSnapshot(pool, (db) => readAudit(db, campaignId, opts));
}

type Counted = { run: string; key: string | null; n: string };

async function readAudit(db: Queryable, campaignId: string, opts: { iteration?: number }): Promise<RlcfCampaignAudit> {
  const campaign = await readCampaignRow(db, campaignId);
  if (campaign.algorithm !== 'rlcf') throw new CampaignNotFoundError(`campaign "${campaignId}" is an ${campaign.algorithm} campaign, not rlcf`);
  const iterationRows = await readIterationRows(db, campaignId, opts.iteration);
  const ks = iterationRows.map((r) => r.iteration);
  const rolloutIds = ks.map((k) => rlcfIds.rollouts(campaignId, k));
  const evalIds = [0, ...ks].flatMap((k) => [rlcfIds.evalRun(campaignId, k, 'mbjp'), rlcfIds.evalRun(campaignId, k, 'mathqa-java')]);

  const generated = await rows<{ eval_run_id: string; n: string; tasks: string }>(
    db,
    'select eval_run_id, count(*) as n, count(distinct task_id) as tasks from generations where eval_run_id = any($1) group by eval_run_id',
    [rolloutIds],
  );
  const stages = await rows<{ run: string; compiled: string; compile_errors: string; compile_timeouts: string; compile_infra: string; static_checked: string; static_passed: string; asked: string; scored: string; unscorable: string; mean_p: number | null }>(
    db,
    `select eval_run_id as run,
            count(*) filter (where compile_outcome = 'compiled') as compiled, count(*) filter (where compile_outcome = 'compile_error') as compile_errors,
            count(*) filter (where compile_outcome = 'timeout') as compile_timeouts, count(*) filter (where compile_outcome = 'infra_error') as compile_infra,
            count(*) filter (where static_passed is not null) as static_checked, count(*) filter (where static_passed) as static_passed,
            count(*) filter (where discriminator_status is not null) as asked, count(*) filter (where discriminator_status = 'scored') as scored,
            count(*) filter (where discriminator_status = 'unscorable') as unscorable, (avg(p_yes::numeric))::float8 as mean_p
     from rlcf_grounding where eval_run_id = any($1) group by eval_run_id`,
    [rolloutIds],
  );
  const staticFailures = await rows<Counted>(
    db,
    `select eval_run_id as run, key, count(*) as n from (
       select eval_run_id, 'lint:' || (jsonb_array_elements(static_checks->'lint')->>'category') as key from rlcf_grounding where eval_run_id = any($1) and static_passed = false
       union all
       select eval_run_id, 'signature:' || (static_checks->'signature'->>'status') from rlcf_grounding
       where eval_run_id = any($1) and static_passed = false and static_checks->'signature'->>'status' not in ('ok', 'skipped')
     ) x group by eval_run_id, key order by key`,
    [rolloutIds],
  );
  const methods = await rows<Counted>(
    db,
    `select eval_run_id as run, discriminator->>'method' as key, count(*) as n from rlcf_grounding where eval_run_id = any($1) and discriminator_status = 'scored' group by 1, 2 order by 2`,
    [rolloutIds],
  );
  const tests = await rows<Counted>(
    db,
    `select b.owner as run, s.outcome as key, count(*) as n from sandbox_results s join sandbox_batches b on b.id = s.batch_id where b.owner = any($1) group by 1, 2 order by 2`,
    [rolloutIds],
  );
  const discriminatorRuns = await rows<{ eval_run_id: string; spec: unknown }>(db, `select eval_run_id, spec from rlcf_grounding_runs where eval_run_id = any($1) and stage = 'discriminator'`, [rolloutIds]);
  const rewards = await rows<{ iteration: number; scored: string; unscorable: string; mean: number | null; min: number | null; max: number | null }>(
    db,
    `select iteration, count(*) filter (where status = 'scored') as scored, count(*) filter (where status = 'unscorable') as unscorable,
            (avg(reward::numeric) filter (where status = 'scored'))::float8 as mean, min(reward) as min, max(reward) as max
     from rollout_rewards where campaign_id = $1 and iteration = any($2) group by iteration`,
    [campaignId, ks],
  );
  const rewardRows = await rows<{ iteration: number; status: string; reward: number | null; reason: string | null }>(
    db,
    'select iteration, status, reward, reason from rollout_rewards where campaign_id = $1 and iteration = any($2)',
    [campaignId, ks],
  );
  const jobs = await readTrainingJobs(db, campaignId);
  const runById = await readEvalRuns(db, [...rolloutIds, ...evalIds]);
  const grouped = (list: Counted[], run: string) => Object.fromEntries(list.filter((r) => r.run === run && r.key !== null).map((r) => [r.key!, Number(r.n)]));

  const iterations = iterationRows.map((row): RlcfIterationAudit => {
    const k = row.iteration;
    const run = rlcfIds.rollouts(campaignId, k);
    const gen = generated.find((g) => g.eval_run_id === run);
    const st = stages.find((s) => s.run === run);
    const rw = rewards.find((r) => r.iteration === k);
    const mine = rewardRows.filter((r) => r.iteration === k);
    const unscorableByReason: Record<string, number> = {};
    for (const r of mine) if (r.status === 'unscorable') unscorableByReason[r.reason ?? 'unknown'] = (unscorableByReason[r.reason ?? 'unknown'] ?? 0) + 1;
    const scoredValues = mine.filter((r) => r.status === 'scored').map((r) => r.reward!);
    const histogram = HISTOGRAM_BINS.map((b) => ({ bin: b.bin, n: 0 }));
    for (const v of scoredValues) histogram[HISTOGRAM_BINS.findIndex((b) => b.below(v))]!.n++;
    const updateJob = jobs.find((j) => j.id === rlcfIds.policyUpdateJob(campaignId, k));
    const discriminatorJob = jobs.find((j) => j.id === rlcfIds.discriminatorJob(campaignId, k));
    const evaluationWorkflow = runById.get(rlcfIds.evalRun(campaignId, k, 'mbjp'));
    const dRun = discriminatorRuns.find((d) => d.eval_run_id === run);
    const it: RlcfIterationAudit = {
      ...iterationHead(row),
      rollouts: { generated: Number(gen?.n ?? 0), tasks: Number(gen?.tasks ?? 0) },
      stages: {
        compiled: Number(st?.compiled ?? 0),
        compileErrors: Number(st?.compile_errors ?? 0),
        compileTimeouts: Number(st?.compile_timeouts ?? 0),
        compileInfraErrors: Number(st?.compile_infra ?? 0),
        staticChecked: Number(st?.static_checked ?? 0),
        staticPassed: Number(st?.static_passed ?? 0),
        staticFailures: grouped(staticFailures, run),
        tests: grouped(tests, run),
        discriminator: {
          kind: dRun ? str(obj(dRun.spec).kind) : null,
          job: discriminatorJob ? trainingJobAudit(discriminatorJob) : null,
          asked: Number(st?.asked ?? 0),
          scored: Number(st?.scored ?? 0),
          unscorable: Number(st?.unscorable ?? 0),
          byMethod: grouped(methods, run),
          meanPYes: st?.mean_p ?? null,
          ...(runById.get(run)?.placement ? { placement: runById.get(run)!.placement! } : {}),
        },
      },
      rewards: {
        scored: Number(rw?.scored ?? 0),
        unscorable: Number(rw?.unscorable ?? 0),
        unscorableByReason,
        meanReward: rw?.mean ?? null,
        minReward: rw?.min ?? null,
        maxReward: rw?.max ?? null,
        histogram,
      },
      policyUpdate: updateJob ? trainingJobAudit(updateJob) : null,
      evaluation: evaluationOf(campaignId, k, runById),
      history: {
        iteration: { workflowId: row.workflow_id, runId: row.run_id || null },
        evaluation: executionRef(evaluationWorkflow),
        rollouts: executionRef(runById.get(run)),
      },
      recordedCounts: obj(row.counts),
      mismatches: [],
    };
    it.mismatches = findMismatches(it.recordedCounts, it);
    return it;
  });

  const config = summarizeConfig(campaign.config);
  const simulatedJobs = iterations.some((i) => i.policyUpdate?.weights === 'simulated' || i.stages.discriminator.job?.weights === 'simulated');
  const simulatedParts = [
    ...(config.models.policy?.simulated ? ['models.policy'] : []),
    ...(config.discriminatorKind === 'simulated' || config.models.discriminator?.simulated ? ['grounding.discriminator'] : []),
    ...(simulatedJobs ? ['trainer'] : []),
  ];
  const start = evaluationOf(campaignId, 0, runById);
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    campaign: campaignHead(campaign, config, simulatedParts),
    iterations,
    start: start ? { evaluation: start, history: executionRef(runById.get(rlcfIds.evalRun(campaignId, 0, 'mbjp'))) } : null,
  };
}

type JavaNumbers = Omit<JavaEvaluationAudit, 'status' | 'policy' | 'dataset'>;
const javaNumbers = (e: JavaEvaluationAudit | null): JavaNumbers | null =>
  e ? { tasks: e.tasks, samples: e.samples, compileRate: e.compileRate, staticCheckPassRate: e.staticCheckPassRate, executionRate: e.executionRate, passAtK: e.passAtK, outcomes: e.outcomes } : null;
const evaluationNumbers = (e: RlcfEvaluationAudit | null) => (e ? { mbjp: javaNumbers(e.mbjp), mathqa: javaNumbers(e.mathqa) } : null);

/** The numbers two runs with identical results must share (no ids, times, hosts or labels). */
export function rlcfAuditNumbers(audit: RlcfCampaignAudit) {
  return {
    iterations: audit.iterations.map((it) => ({
      iteration: it.iteration,
      rollouts: { ...it.rollouts },
      stages: { ...it.stages, discriminator: { ...it.stages.discriminator, job: jobNumbers(it.stages.discriminator.job) } },
      rewards: it.rewards,
      policyUpdate: jobNumbers(it.policyUpdate),
      evaluation: evaluationNumbers(it.evaluation),
    })),
    ...(audit.start ? { start: evaluationNumbers(audit.start.evaluation) } : {}),
  };
}

/** One grounded rollout, for the report's examples. Texts are raw DB text. */
export interface GroundingExample {
  iteration: number;
  taskId: string;
  program: string;
  compile: string;
  diagnostics: string;
  staticPassed: boolean | null;
  staticDetail: string;
  test: string | null;
  discriminator: { status: string | null; pYes: number | null; text: string; problem: string | null };
  reward: { status: string | null; value: number | null; detail: string };
}

/** A few rollouts of each iteration: unscorable first, then one per compile outcome and reward. */
export async function listGroundingExamples(pool: Queryable, campaignId: string, opts: { perIteration?: number } = {}): Promise<GroundingExample[]> {
  const found = await rows<{ eval_run_id: string; task_id: string; program: string; compile_outcome: string; compile: unknown; static_passed: boolean | null; static_checks: unknown; discriminator_status: string | null; p_yes: number | null; discriminator: unknown; reward_status: string | null; reward: number | null; reward_detail: unknown; test: string | null }>(
    pool,
    `select * from (
       select r.*, g.program,
              (select s.outcome from sandbox_items i join sandbox_results s on s.batch_id = i.batch_id and s.idx = i.idx where i.generation_id = r.generation_id limit 1) as test,
              row_number() over (partition by r.eval_run_id order by (r.reward_status = 'unscorable') desc, r.compile_outcome, r.static_passed nulls first, r.task_id, g.sample_index) as nth
       from rlcf_grounding r join generations g on g.id = r.generation_id where r.eval_run_id like $1 and r.eval_run_id like '%/rollouts'
     ) x where nth <= $2 order by eval_run_id, nth`,
    [`${campaignId}/iteration-%`, opts.perIteration ?? 4],
  );
  return found.map((r) => {
    const d = obj(r.discriminator);
    const sc = obj(r.static_checks);
    return {
      iteration: Number(/iteration-(\d+)\//.exec(r.eval_run_id)?.[1] ?? 0),
      taskId: r.task_id,
      program: r.program,
      compile: r.compile_outcome,
      diagnostics: str(obj(r.compile).diagnostics) ?? '',
      staticPassed: r.static_passed,
      staticDetail: r.static_passed === null ? '' : JSON.stringify({ lint: sc.lint, signature: sc.signature }),
      test: r.test,
      discriminator: { status: r.discriminator_status, pYes: r.p_yes, text: str(d.text) ?? '', problem: str(d.problem) },
      reward: { status: r.reward_status, value: r.reward, detail: JSON.stringify(r.reward_detail ?? {}) },
    };
  });
}
