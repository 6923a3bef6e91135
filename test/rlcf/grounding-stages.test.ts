import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rlcfRewardConfigSchema } from '../../loops/rlcf/activities/config';
import { createStoredGroundingActivities, type DiscriminatorSpec } from '../../loops/rlcf/activities/stored-grounding';
import { findTask } from '../../activities/datasets/registry';
import { ModelBackendCache, parseModelBackendConfig } from '../../activities/models/index';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { createSandboxActivities } from '../../activities/sandbox/run-tests-batch';
import { createEvalRun, saveGenerations } from '../../activities/store/eval-runs';
import { createEvaluationStoreActivities } from '../../activities/store/evaluation-activities';
import { FakeOpenAIServer, type ScriptedAnswer } from '../models/fake-openai-server';
import { activityEnv } from '../training/helpers';

/**
 * RLCF's grounding stages on STORED rollouts, as the loop runs them (no payload carries a
 * program): real javac and JVM runs in the sandbox, the discriminator over the OpenAI protocol
 * from a local server (P(Yes) from logprobs, a parsed answer, a malformed answer), the reward
 * into the shared reward table. Each stage is checked against the rows it wrote; a re-run of a
 * stage redoes nothing.
 */
const JUDGE = 'discriminator-large';
const answers = new Map<string, ScriptedAnswer>();
const yes = (p: number): ScriptedAnswer => ({ text: 'Yes', tokens: [{ token: 'Yes', logprob: Math.log(p), top: [{ token: 'Yes', logprob: Math.log(p) }, { token: 'No', logprob: Math.log(1 - p) }] }] });
let judge: FakeOpenAIServer;
let sandbox: SandboxPoolRunner;
let pool: pg.Pool;
const models = new ModelBackendCache();
const campaign = `rlcf-stages-${randomUUID().slice(0, 8)}`;
const runId = `${campaign}/iteration-1/rollouts`;
const task = findTask('mbjp', 'MBJP/634')!; // evenPowerSum(int n): int

beforeAll(async () => {
  judge = await new FakeOpenAIServer({
    models: [JUDGE],
    answer: (prompt) => {
      const candidate = prompt.slice(prompt.indexOf('Candidate program:'));
      for (const [marker, a] of answers) if (candidate.includes(marker)) return a;
      return yes(0.9);
    },
  }).start();
  sandbox = createSandboxRunner({ size: 2 });
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});

afterAll(async () => {
  await pool?.query('delete from campaigns where id = $1', [campaign]);
  await pool?.query('delete from sandbox_batches where owner = $1', [runId]);
  await pool?.query('delete from eval_runs where id = $1', [runId]);
  await pool?.end();
  await models.closeAll();
  await judge?.stop();
  await sandbox?.close();
});

const CORRECT = 'int sum = 0;\n for (int i = 1; i <= n; i++) { int j = 2 * i; sum += j * j * j * j; }\n return sum;';
const body = (marker: string, code: string) => `${task.prompt}        // ${marker}\n${code}\n    }\n}\n`;
const PROGRAMS = {
  correct: body('correct', CORRECT),
  compileError: body('compile-error', 'return "272";'),
  lint: body('lint', `if (n < 0); // empty if\n ${CORRECT}`),
  throws: body('throws', 'int[] xs = new int[n];\n return xs[n];'),
  malformed: body('malformed', CORRECT),
  parsedNo: body('parsed-no', CORRECT),
};

describe('RLCF grounding stages on stored rollouts', () => {
  it('compiles, checks, tests, asks the discriminator about compiled programs only, and rewards; unscorable stays out, never 0', { timeout: 180_000 }, async () => {
    answers.set('malformed', { text: 'It depends on the inputs.', tokens: [{ token: 'It', logprob: -0.1, top: [{ token: 'It', logprob: -0.1 }, { token: 'The', logprob: -2 }] }] });
    answers.set('parsed-no', { text: 'No, it differs.' });
    await pool.query(`insert into campaigns (id, algorithm, config, workflow_id) values ($1, 'rlcf', '{}', $1)`, [campaign]);
    await pool.query(`insert into campaign_iterations (campaign_id, iteration, workflow_id, run_id, policy) values ($1, 1, $1, '', '{}')`, [campaign]);
    await createEvalRun(pool, { id: runId, workflowId: runId, runId: '', dataset: 'mbjp', split: 'train', policy: {}, samplesPerTask: 6, ks: [] });
    await saveGenerations(pool, runId, Object.values(PROGRAMS).map((program, i) => ({ taskId: task.taskId, sampleIndex: i, backend: 'test', program })));

    const { run } = activityEnv();
    const stages = createStoredGroundingActivities({ pool, runner: sandbox, models, concurrency: 2 });
    // a. compiles
    const compiled = await run(stages.compileRollouts, { evalRunId: runId, infraRetries: 1 });
    expect(compiled).toMatchObject({ programs: 6, compiled: 5, compileErrors: 1, compileInfraErrors: 0 });
    const [err] = (await pool.query<{ compile: { diagnostics: string; errors: number } }>(`select compile from rlcf_grounding where eval_run_id = $1 and compile_outcome = 'compile_error'`, [runId])).rows;
    expect(err!.compile.errors).toBe(1);
    expect(err!.compile.diagnostics).toMatch(/error: incompatible types/);
    // b. static checks, with the list they ran stored with the run
    const checked = await run(stages.staticCheckRollouts, { evalRunId: runId, signature: true });
    expect(checked).toMatchObject({ staticChecked: 5, staticPassed: 4 });
    const [lint] = (await pool.query<{ static_checks: { lint: Array<{ category: string }> } }>(`select static_checks from rlcf_grounding where eval_run_id = $1 and static_passed = false`, [runId])).rows;
    expect(lint!.static_checks.lint.map((l) => l.category)).toEqual(['empty']);
    const [spec] = (await pool.query<{ spec: { version: string; lint: unknown[] } }>(`select spec from rlcf_grounding_runs where eval_run_id = $1 and stage = 'static_checks'`, [runId])).rows;
    expect(spec!.spec.version).toBe('rlcf-static-checks-v1');
    expect(spec!.spec.lint.length).toBeGreaterThan(0);
    // c. runs and passes: the kernel's sandbox batches
    const batches = await run(createEvaluationStoreActivities({ pool }).prepareTestBatches, { evalRunId: runId, batchSize: 10 });
    for (const batchId of batches) await run(createSandboxActivities({ pool, runner: sandbox, concurrency: 2 }).runTestsBatch, { batchId });
    // d. the discriminator, over HTTP, on the five programs that compiled
    const discriminator: DiscriminatorSpec = { kind: 'llm', model: parseModelBackendConfig({ backend: 'openai', baseUrl: judge.baseURL, model: JUDGE, api: 'chat', timeoutMs: 10_000 }), scoring: 'auto', topLogprobs: 5, maxTokens: 4 };
    const before = judge.count('POST', /chat\/completions/);
    const judged = await run(stages.discriminateRollouts, { evalRunId: runId, discriminator });
    expect(judge.count('POST', /chat\/completions/) - before).toBe(5);
    expect(judged).toMatchObject({ discriminatorScored: 4, discriminatorUnscorable: 1 });
    // e. the reward
    const reward = rlcfRewardConfigSchema.parse({});
    const rewards = await run(stages.rewardRollouts, { campaignId: campaign, iteration: 1, evalRunId: runId, reward, scoredBy: 'test' });
    expect(rewards).toMatchObject({ scored: 5, unscorable: 1, byReason: { discriminator_unscorable: 1 } });
    const byMarker = (await pool.query<{ program: string; status: string; reward: number | null; source: string; reason: string | null }>(
      `select g.program, r.status, r.reward, r.source, r.reason from rollout_rewards r join generations g on g.id = r.generation_id where r.campaign_id = $1`,
      [campaign],
    )).rows;
    const rewardOf = (program: string) => byMarker.find((r) => r.program === program)!;
    expect(rewardOf(PROGRAMS.correct).reward).toBeCloseTo(0.9 + 0.5);
    expect(rewardOf(PROGRAMS.compileError).reward).toBe(-1);
    expect(rewardOf(PROGRAMS.lint).reward).toBeCloseTo(0.9 + 0.5 - 0.5);
    expect(rewardOf(PROGRAMS.throws).reward).toBeCloseTo(0.9 - 0.5);
    expect(rewardOf(PROGRAMS.parsedNo).reward).toBeCloseTo(0 + 0.5);
    expect(rewardOf(PROGRAMS.malformed)).toMatchObject({ status: 'unscorable', reward: null, reason: 'discriminator_unscorable' });
    for (const r of byMarker) expect(r.source).toBe('compiler-feedback');

    // A retried stage finds its work done: nothing is redone or doubled.
    expect(await run(stages.compileRollouts, { evalRunId: runId, infraRetries: 1 })).toMatchObject({ programs: 6, compiled: 5, compileErrors: 1 });
    expect(Number((await pool.query<{ n: string }>('select count(*) as n from rlcf_grounding where eval_run_id = $1', [runId])).rows[0]!.n)).toBe(6);
    const again = judge.count('POST', /chat\/completions/);
    await run(stages.discriminateRollouts, { evalRunId: runId, discriminator });
    expect(judge.count('POST', /chat\/completions/)).toBe(again);
    expect(await run(stages.rewardRollouts, { campaignId: campaign, iteration: 1, evalRunId: runId, reward, scoredBy: 'test' })).toEqual(rewards);

    // The Java metrics of the run: compile 5/6, static 4/6, execution (passed or failed a test) 4/6, pass@1 over one task.
    const metrics = await run(stages.summarizeJavaRun, { evalRunId: runId, ks: [1] });
    expect(metrics).toMatchObject({ samples: 6, tasks: 1, outcomes: { passed: 4, compile_error: 1, runtime_error: 1 } });
    expect(metrics.compileRate).toBeCloseTo(5 / 6);
    expect(metrics.staticCheckPassRate).toBeCloseTo(4 / 6);
    expect(metrics.executionRate).toBeCloseTo(4 / 6);
    expect(metrics.passAtK['1']).toBeCloseTo(4 / 6);
  });
});
