import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { runMany } from '../../../common/run-many';
import type { ModelBackendConfig, OnnxBackendConfig } from '../../../common/model-config';
import { passAtK, type TaskSampleCounts } from '../../../common/pass-at-k';
import { findTask } from '../../../activities/datasets/registry';
import type { ScoringMode } from '../../../activities/feedback/ai-feedback-rubric';
import type { ModelBackendCache } from '../../../activities/models/index';
import { recordRanBy } from '../../../activities/store/evaluation-activities';
import type { WorkerRef } from '../../../activities/worker-deps';
import type { PlacementIntent } from '../../../common/task-queues';
import { rewardOf, saveRewards } from '../../../activities/rewards/reward-table';
import { resolveLimits, type CompileResult, type JavaAnalyzer, type SandboxLimits, type SandboxRunner } from '../../../activities/sandbox/types';
import type { RlcfRewardConfig } from './config';
import { askDiscriminator, DISCRIMINATOR_VERSION, discriminatorRecord } from './discriminator-rubric';
import { withInfraRetries } from './grounding';
import { groundingReward } from './reward';
import { simulatedDiscriminate, type SimulatedDiscriminatorSpec } from './simulated-discriminator';
import { LINT_CHECKS, LINT_LEFT_OUT, promptSignature, runStaticChecks, STATIC_CHECKS_VERSION } from './static-checks';

/**
 * RLCF's grounding function on STORED programs (the loop's path: payloads carry eval-run ids,
 * never programs). Each stage is its own activity, reads what the stage before stored in
 * `rlcf_grounding` and writes its own columns, program by program, so a retried activity
 * resumes where the killed one stopped and never redoes or doubles a verdict:
 *  a. compileRollouts: javac -Xlint:all in the sandbox's compile server;
 *  b. staticCheckRollouts: the versioned static checks on programs that compiled;
 *  c. runs and passes: the kernel's sandbox batches (workflows/sample-and-test.ts);
 *  d. discriminateRollouts: the discriminator, on programs that compiled only;
 *  e. rewardRollouts: the reward from the stored verdicts, into the shared reward table.
 * summarizeJavaRun computes the Java metrics of a run (compile, static-check pass and
 * execution rates, pass@k) from the same rows.
 */
export type DiscriminatorSpec =
  | { kind: 'llm'; model: ModelBackendConfig; scoring: ScoringMode; topLogprobs: number; maxTokens: number }
  | ({ kind: 'simulated' } & SimulatedDiscriminatorSpec)
  /** the classifier the last trainDiscriminator job exported (trained-discriminator.ts), on the host that holds it */
  | { kind: 'trained'; model: OnnxBackendConfig; jobId: string };

type Verdict = { pYes: number | null; method: string | null; text: string; problem?: string; simulated?: true };

export interface StageCounts {
  programs: number;
  compiled: number;
  compileErrors: number;
  compileTimeouts: number;
  compileInfraErrors: number;
  staticChecked: number;
  staticPassed: number;
  discriminatorScored: number;
  discriminatorUnscorable: number;
}

export interface JavaRunMetrics {
  tasks: number;
  samples: number;
  /** share of programs javac accepts (stage a) */
  compileRate: number;
  /** share of programs that compile and pass the static checks (stage b) */
  staticCheckPassRate: number;
  /** share of programs whose test run ends without an exception of the program's own (passed or failed a test) */
  executionRate: number;
  /** unbiased pass@k (Chen et al. 2021) over tasks, infra errors excluded */
  passAtK: Record<string, number>;
  outcomes: Record<string, number>;
}

export interface RewardStageOutput {
  scored: number;
  unscorable: number;
  meanReward: number | null;
  byReason: Record<string, number>;
}

const EVIDENCE_CHARS = 2000;
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}\n[... ${s.length - n} characters cut]` : s);

export interface StoredGroundingDeps {
  pool: pg.Pool;
  /** the sandbox (CPU workers); GPU workers, which only run the discriminator, have none */
  runner?: SandboxRunner;
  models: ModelBackendCache;
  /** programs compiled or judged at once */
  concurrency: number;
  /** the worker these activities run on (recorded with a host-routed step's placement) */
  worker?: WorkerRef;
}

function analyzer(runner: SandboxRunner | undefined): JavaAnalyzer {
  if (!runner || !('compileJava' in runner)) throw ApplicationFailure.nonRetryable('this worker\'s sandbox cannot compile Java alone (no compile server): RLCF needs the fork-server sandbox', 'SandboxUnsupported');
  return runner as SandboxRunner & JavaAnalyzer;
}

async function runDataset(pool: pg.Pool, evalRunId: string): Promise<string> {
  const { rows } = await pool.query<{ dataset: string }>('select dataset from eval_runs where id = $1', [evalRunId]);
  if (!rows[0]) throw ApplicationFailure.nonRetryable(`no eval run ${evalRunId}`, 'InvalidConfig');
  return rows[0].dataset;
}

async function stageCounts(pool: pg.Pool, evalRunId: string): Promise<StageCounts> {
  const { rows } = await pool.query<Record<keyof StageCounts, string>>(
    `select (select count(*) from generations where eval_run_id = $1) as programs,
            count(*) filter (where compile_outcome = 'compiled') as compiled,
            count(*) filter (where compile_outcome = 'compile_error') as "compileErrors",
            count(*) filter (where compile_outcome = 'timeout') as "compileTimeouts",
            count(*) filter (where compile_outcome = 'infra_error') as "compileInfraErrors",
            count(*) filter (where static_passed is not null) as "staticChecked",
            count(*) filter (where static_passed) as "staticPassed",
            count(*) filter (where discriminator_status = 'scored') as "discriminatorScored",
            count(*) filter (where discriminator_status = 'unscorable') as "discriminatorUnscorable"
     from rlcf_grounding where eval_run_id = $1`,
    [evalRunId],
  );
  return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)])) as unknown as StageCounts;
}

/** Work over a stage's pending rows with heartbeats; the cancellation signal is shared by design. */
async function eachPending<T>(items: readonly T[], concurrency: number, work: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const ctx = Context.current();
  setMaxListeners(0, ctx.cancellationSignal);
  let done = 0;
  await runMany(items, concurrency, async (item) => {
    await work(item, ctx.cancellationSignal);
    ctx.heartbeat({ done: ++done, of: items.length });
  }, ctx.cancellationSignal);
}

export function createStoredGroundingActivities(deps: StoredGroundingDeps) {
  const { pool } = deps;
  return {
    /** Stage a: compiles every program of the run not compiled yet. */
    async compileRollouts(input: { evalRunId: string; infraRetries: number; limits?: Partial<SandboxLimits> }): Promise<StageCounts> {
      const sandbox = analyzer(deps.runner);
      const limits = resolveLimits(input.limits);
      const { rows } = await pool.query<{ id: string; task_id: string; program: string }>(
        `select g.id, g.task_id, g.program from generations g
         where g.eval_run_id = $1 and not exists (select 1 from rlcf_grounding r where r.eval_run_id = g.eval_run_id and r.generation_id = g.id)
         order by g.task_id, g.sample_index`,
        [input.evalRunId],
      );
      await eachPending(rows, deps.concurrency, async (g, signal) => {
        const c: CompileResult = await withInfraRetries(input.infraRetries, signal, () => sandbox.compileJava(g.program, limits, { signal }));
        const evidence = {
          outcome: c.outcome,
          detail: c.detail,
          diagnostics: cut(c.diagnostics, EVIDENCE_CHARS),
          errors: c.items.filter((d) => d.kind === 'ERROR').length,
          warnings: c.items.filter((d) => d.kind === 'WARNING' || d.kind === 'MANDATORY_WARNING').length,
          items: c.items,
          methods: c.methods,
          ...(c.compileMs !== undefined ? { compileMs: c.compileMs } : {}),
        };
        await pool.query(
          `insert into rlcf_grounding (eval_run_id, generation_id, task_id, compile_outcome, compile) values ($1, $2, $3, $4, $5) on conflict do nothing`,
          [input.evalRunId, g.id, g.task_id, c.outcome, JSON.stringify(evidence)],
        );
      });
      return stageCounts(pool, input.evalRunId);
    },

    /** Stage b: the static checks (versioned list, stored with the run) on programs that compiled. */
    async staticCheckRollouts(input: { evalRunId: string; signature: boolean }): Promise<StageCounts> {
      const dataset = await runDataset(pool, input.evalRunId);
      const spec = { version: STATIC_CHECKS_VERSION, lint: LINT_CHECKS, leftOut: LINT_LEFT_OUT, signature: input.signature };
      await pool.query(`insert into rlcf_grounding_runs (eval_run_id, stage, spec) values ($1, 'static_checks', $2) on conflict do nothing`, [input.evalRunId, JSON.stringify(spec)]);
      const { rows } = await pool.query<{ generation_id: string; task_id: string; compile: { items?: []; methods?: [] } }>(
        `select generation_id, task_id, compile from rlcf_grounding where eval_run_id = $1 and compile_outcome = 'compiled' and static_passed is null`,
        [input.evalRunId],
      );
      for (const r of rows) {
        const prompt = findTask(dataset, r.task_id)?.prompt;
        const result = runStaticChecks(r.compile.items ?? [], r.compile.methods ?? [], prompt === undefined ? null : promptSignature(prompt), input.signature && prompt !== undefined);
        await pool.query(`update rlcf_grounding set static_passed = $3, static_checks = $4 where eval_run_id = $1 and generation_id = $2`, [input.evalRunId, r.generation_id, result.passed, JSON.stringify(result)]);
      }
      return stageCounts(pool, input.evalRunId);
    },

    /** Stage d: the discriminator compares each program that compiled with its task's reference. */
    async discriminateRollouts(input: { evalRunId: string; discriminator: DiscriminatorSpec; placement?: PlacementIntent }): Promise<StageCounts> {
      const dataset = await runDataset(pool, input.evalRunId);
      const d = input.discriminator;
      const record =
        d.kind === 'llm'
          ? { kind: 'llm', model: d.model, rubric: discriminatorRecord(d.scoring) }
          : d.kind === 'trained'
            ? { kind: 'trained', model: d.model, jobId: d.jobId, readsAs: 'P(Yes) = sigmoid(logit) of the classifier (reference = 1, generated = 0)' }
            : { kind: 'simulated', simulated: true, seed: d.seed, unscorableShare: d.unscorableShare };
      await pool.query(`insert into rlcf_grounding_runs (eval_run_id, stage, spec) values ($1, 'discriminator', $2) on conflict do nothing`, [input.evalRunId, JSON.stringify(record)]);
      const { rows } = await pool.query<{ generation_id: string; task_id: string; program: string }>(
        `select r.generation_id, r.task_id, g.program from rlcf_grounding r join generations g on g.id = r.generation_id
         where r.eval_run_id = $1 and r.compile_outcome = 'compiled' and r.discriminator_status is null order by r.task_id, g.sample_index`,
        [input.evalRunId],
      );
      const save = (generationId: string, verdict: Verdict) =>
        pool.query(
          `update rlcf_grounding set discriminator_status = $3, p_yes = $4, discriminator = $5 where eval_run_id = $1 and generation_id = $2 and discriminator_status is null`,
          [input.evalRunId, generationId, verdict.pYes === null ? 'unscorable' : 'scored', verdict.pYes, JSON.stringify({ ...verdict, version: d.kind === 'llm' ? DISCRIMINATOR_VERSION : d.kind })],
        );
      const noReference = (taskId: string): Verdict => ({ pYes: null, method: null, text: '', problem: `task ${taskId} has no usable reference to compare with` });
      if (d.kind === 'trained') {
        // The classifier scores (prompt, program) pairs in batches; a score outside [0, 1] or not a number is unscorable.
        const model = deps.models.get(d.model);
        const batches = Array.from({ length: Math.ceil(rows.length / d.model.batchSize) }, (_, i) => rows.slice(i * d.model.batchSize, (i + 1) * d.model.batchSize));
        await eachPending(batches, 1, async (batch, signal) => {
          const scores = await model.score(batch.map((r) => ({ prompt: findTask(dataset, r.task_id)?.prompt ?? '', program: r.program, taskId: r.task_id })), { signal });
          if (scores.length !== batch.length) throw new Error(`the discriminator returned ${scores.length} scores for ${batch.length} programs`);
          for (const [i, r] of batch.entries()) {
            const p = scores[i]!;
            const ok = Number.isFinite(p) && p >= 0 && p <= 1;
            await save(r.generation_id, ok ? { pYes: p, method: 'onnx', text: `P(reference) ${p.toFixed(4)}` } : { pYes: null, method: null, text: String(p), problem: 'the classifier\'s score is not a probability' });
          }
        });
        // Host-routed (the trained classifier on the host that wrote it, or a fallback): name the worker that ran it.
        await recordRanBy(pool, input.evalRunId, input.placement, deps.worker);
        return stageCounts(pool, input.evalRunId);
      }
      const backend = d.kind === 'llm' ? deps.models.get(d.model) : undefined;
      await eachPending(rows, d.kind === 'llm' ? d.model.backend === 'openai' ? d.model.maxConcurrency : 4 : 16, async (r, signal) => {
        const task = findTask(dataset, r.task_id);
        const reference = task?.reference;
        let verdict: Verdict;
        if (reference === undefined) verdict = noReference(r.task_id);
        else if (d.kind === 'simulated') verdict = simulatedDiscriminate(d, r.task_id, r.program, reference);
        else {
          const { question: _q, ...answer } = await askDiscriminator(backend!, { description: task?.text ?? '', reference }, r.program, r.task_id, d, signal);
          verdict = answer;
        }
        await save(r.generation_id, verdict);
      });
      await backend?.close();
      return stageCounts(pool, input.evalRunId);
    },

    /** Stage e: each program's reward from its stored verdicts; written to the reward table (source compiler-feedback). */
    async rewardRollouts(input: { campaignId: string; iteration: number; evalRunId: string; reward: RlcfRewardConfig; scoredBy: string }): Promise<RewardStageOutput> {
      const { rows } = await pool.query<{ generation_id: string; task_id: string; compile_outcome: CompileResult['outcome']; static_passed: boolean | null; discriminator_status: string | null; p_yes: number | null; test_outcome: string | null }>(
        `select r.generation_id, r.task_id, r.compile_outcome, r.static_passed, r.discriminator_status, r.p_yes,
                (select s.outcome from sandbox_items i join sandbox_results s on s.batch_id = i.batch_id and s.idx = i.idx
                 join sandbox_batches b on b.id = i.batch_id where b.owner = r.eval_run_id and i.generation_id = r.generation_id limit 1) as test_outcome
         from rlcf_grounding r where r.eval_run_id = $1 order by r.task_id, r.generation_id`,
        [input.evalRunId],
      );
      const rewards = rows.map((r) => {
        const reward = groundingReward(
          {
            compile: { outcome: r.compile_outcome },
            staticChecks: r.static_passed === null ? null : { passed: r.static_passed },
            tests: r.test_outcome === null ? null : { outcome: r.test_outcome as never },
            discriminator: r.discriminator_status === null ? null : { pYes: r.p_yes },
          },
          input.reward,
        );
        return { r, reward };
      });
      for (const { r, reward } of rewards) {
        await pool.query(`update rlcf_grounding set reward_status = $3, reward = $4, reward_detail = $5 where eval_run_id = $1 and generation_id = $2`, [
          input.evalRunId,
          r.generation_id,
          reward.status,
          reward.reward,
          JSON.stringify(reward.status === 'scored' ? { terms: reward.terms } : { reason: reward.reason, detail: reward.detail }),
        ]);
      }
      await saveRewards(
        pool,
        { campaignId: input.campaignId, iteration: input.iteration, source: 'compiler-feedback', scoredBy: input.scoredBy },
        rewards.map(({ r, reward }) => ({ generationId: r.generation_id, taskId: r.task_id, reward: reward.status === 'scored' ? rewardOf(reward.reward) : { status: 'unscorable', reason: reward.reason } })),
      );
      const { rows: counts } = await pool.query<{ scored: string; unscorable: string; mean: number | null }>(
        `select count(*) filter (where status = 'scored') as scored, count(*) filter (where status = 'unscorable') as unscorable,
                (avg(reward::numeric) filter (where status = 'scored'))::float8 as mean
         from rollout_rewards where campaign_id = $1 and iteration = $2`,
        [input.campaignId, input.iteration],
      );
      const byReason: Record<string, number> = {};
      for (const { reward } of rewards) if (reward.status === 'unscorable') byReason[reward.reason] = (byReason[reward.reason] ?? 0) + 1;
      return { scored: Number(counts[0]?.scored ?? 0), unscorable: Number(counts[0]?.unscorable ?? 0), meanReward: counts[0]?.mean ?? null, byReason };
    },

    /** The Java metrics of a run, from its grounding rows and sandbox results; stored on the eval run. */
    async summarizeJavaRun(input: { evalRunId: string; ks: number[] }): Promise<JavaRunMetrics> {
      const { rows: perTask } = await pool.query<{ task_id: string; samples: string; n: string; c: string }>(
        `select i.task_id, count(*) as samples, count(*) filter (where s.outcome <> 'infra_error') as n, count(*) filter (where s.outcome = 'passed') as c
         from sandbox_items i join sandbox_results s on s.batch_id = i.batch_id and s.idx = i.idx join sandbox_batches b on b.id = i.batch_id
         where b.owner = $1 group by i.task_id order by i.task_id`,
        [input.evalRunId],
      );
      const { rows: outcomeRows } = await pool.query<{ outcome: string; n: string }>(
        `select s.outcome, count(*) as n from sandbox_results s join sandbox_batches b on b.id = s.batch_id where b.owner = $1 group by s.outcome order by s.outcome`,
        [input.evalRunId],
      );
      const outcomes = Object.fromEntries(outcomeRows.map((r) => [r.outcome, Number(r.n)]));
      const stages = await stageCounts(pool, input.evalRunId);
      const counts: TaskSampleCounts[] = perTask.filter((r) => Number(r.n) > 0).map((r) => ({ n: Number(r.n), c: Number(r.c) }));
      const passAtKByK: Record<string, number> = {};
      for (const k of input.ks) if (counts.length > 0 && counts.every((t) => t.n >= k)) passAtKByK[String(k)] = passAtK(counts, k);
      const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
      const compilable = stages.programs - stages.compileInfraErrors;
      const ran = Object.entries(outcomes).filter(([o]) => o !== 'infra_error').reduce((s, [, n]) => s + n, 0);
      const metrics: JavaRunMetrics = {
        tasks: perTask.length,
        samples: stages.programs,
        compileRate: ratio(stages.compiled, compilable),
        staticCheckPassRate: ratio(stages.staticPassed, compilable),
        executionRate: ratio((outcomes.passed ?? 0) + (outcomes.failed ?? 0), ran),
        passAtK: passAtKByK,
        outcomes,
      };
      await pool.query(`update eval_runs set status = 'completed', metrics = $2, finished_at = now() where id = $1`, [input.evalRunId, JSON.stringify({ java: metrics, stages })]);
      return metrics;
    },
  };
}
