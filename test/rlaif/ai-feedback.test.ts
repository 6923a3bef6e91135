import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAiFeedbackActivities } from '../../loops/rlaif/activities/ai-feedback';
import { combineAnswers, FEEDBACK_QUESTION_IDS, FEEDBACK_QUESTIONS, pYesFromLogprobs, readAnswer, RUBRIC_VERSION } from '../../activities/feedback/ai-feedback-rubric';
import { apiBenchQuestion } from '../../activities/datasets/apibench';
import { ModelBackendCache } from '../../activities/models/index';
import { createRolloutScoringActivities } from '../../loops/rlaif/activities/score-rollouts';
import { createTrainingActivities } from '../../activities/training/index';
import { createRlaifTrainingActivities } from '../../loops/rlaif/activities/training';
import type { ModelBackend } from '../../activities/models/types';
import { parseRlaifCampaignConfig } from '../../loops/rlaif/config';
import { activityEnv, rejectionOf } from '../training/helpers';
import { SIMULATED_TRAINER } from './helpers';
import { JudgeServer, judgeDecision } from './judge-server';
import { seedRollouts } from './seed';
import { tempDir } from '../helpers/temp-dir';

/**
 * AI feedback against a judge speaking the OpenAI protocol over HTTP, on both scoring paths
 * (P(Yes) from logprobs; parsed answers when the server gives none), with malformed answers
 * recorded as unscorable and kept out of training, never scored as 0.
 */
let pool: pg.Pool;
const models = new ModelBackendCache();
const judges: JudgeServer[] = [];
const FEEDBACK = { questions: [...FEEDBACK_QUESTION_IDS], scoring: 'auto' as const, topLogprobs: 5, maxTokens: 4 };

beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
});
afterAll(async () => {
  await models.closeAll();
  await Promise.all(judges.map((j) => j.stop()));
  await pool?.end();
});

async function startJudge(options: ConstructorParameters<typeof JudgeServer>[0]): Promise<JudgeServer> {
  const judge = await new JudgeServer(options).start();
  judges.push(judge);
  return judge;
}

interface FeedbackRow {
  generation_id: string;
  task_id: string;
  program: string;
  status: string;
  score: number | null;
  method: string | null;
  answers: Array<{ question: string; pYes: number | null; method: string | null; text: string; problem?: string }>;
}

async function feedbackRows(campaignId: string): Promise<FeedbackRow[]> {
  return (
    await pool.query<FeedbackRow>(
      `select f.generation_id, f.task_id, g.program, f.status, f.score, f.method, f.answers from ai_feedback f join generations g on g.id = f.generation_id
       where f.campaign_id = $1 order by f.task_id, g.sample_index`,
      [campaignId],
    )
  ).rows;
}

/** What the judge decided for one question about one rollout: found by the prompt it was asked. */
function decisionFor(judge: JudgeServer, row: FeedbackRow, question: keyof typeof FEEDBACK_QUESTIONS) {
  const q = apiBenchQuestion(row.task_id)!;
  const prompts = [...judge.answered.keys()].filter((p) => p.includes(row.program) && p.includes(q.instruction) && p.includes(`Question: ${FEEDBACK_QUESTIONS[question]}`));
  expect(prompts.length).toBeGreaterThan(0);
  const decisions = new Set(prompts.map((p) => JSON.stringify(judge.answered.get(p))));
  expect(decisions.size).toBe(1);
  return judge.answered.get(prompts[0]!)!;
}

function collect(judge: JudgeServer, seeded: { campaignId: string; iteration: number; evalRunId: string }, feedback: typeof FEEDBACK | { questions: typeof FEEDBACK.questions; scoring: 'auto' | 'logprobs' | 'parsed'; topLogprobs: number; maxTokens: number } = FEEDBACK) {
  const { run } = activityEnv();
  return run(createAiFeedbackActivities({ pool, models }).collectAiFeedback, { ...seeded, judge: parseRlaifJudge(judge), feedback });
}

function parseRlaifJudge(judge: JudgeServer) {
  return parseRlaifCampaignConfig({
    algorithm: 'rlaif',
    models: { policy: { backend: 'simulated', role: 'api-code' }, feedback: judge.backendConfig() },
    trainer: { command: SIMULATED_TRAINER },
    rewardModel: { baseModel: 'b' },
    policyUpdate: { baseModel: 'b' },
    iterations: 1,
  }).models.feedback;
}

describe('the AI-feedback rubric', () => {
  it('reads P(Yes) from the top logprobs, parses plain answers, and never turns an unreadable answer into a score', () => {
    const lp = (token: string, top: Array<[string, number]>) => ({ token, logprob: top[0]![1], top: top.map(([t, l]) => ({ token: t, logprob: l })) });
    expect(pYesFromLogprobs({ logprobs: [lp('Yes', [['Yes', Math.log(0.6)], [' no', Math.log(0.2)], ['Maybe', Math.log(0.2)]])] })).toBeCloseTo(0.75, 12);
    // The answer token may come after markup: the first position offering yes or no counts.
    expect(pYesFromLogprobs({ logprobs: [lp('**', [['**', -0.1]]), lp('No', [['No', Math.log(0.9)], ['Yes', Math.log(0.1)]])] })).toBeCloseTo(0.1, 12);
    expect(pYesFromLogprobs({ logprobs: [lp('The', [['The', -0.1], ['It', -2]])] })).toBeNull();

    expect(readAnswer('api', { text: '**Yes**, it is.', finishReason: 'stop' }, 'parsed')).toMatchObject({ pYes: 1, method: 'parsed' });
    expect(readAnswer('api', { text: 'no.', finishReason: 'stop' }, 'auto')).toMatchObject({ pYes: 0, method: 'parsed' });
    expect(readAnswer('api', { text: 'Perhaps', finishReason: 'stop' }, 'auto')).toMatchObject({ pYes: null, method: null, problem: 'the answer is neither yes nor no' });
    expect(readAnswer('api', { text: 'Yes', finishReason: 'stop' }, 'logprobs')).toMatchObject({ pYes: null, problem: 'the server returned no logprobs' });
    expect(readAnswer('api', { text: 'Yes', finishReason: 'content_filter' }, 'auto')).toMatchObject({ pYes: null });

    const yes = readAnswer('api', { text: 'Yes', finishReason: 'stop' }, 'parsed');
    const no = readAnswer('arguments', { text: 'No', finishReason: 'stop' }, 'parsed');
    const garbage = readAnswer('executes', { text: '???', finishReason: 'stop' }, 'parsed');
    expect(combineAnswers([yes, no])).toMatchObject({ status: 'scored', score: 0.5, method: 'parsed' });
    expect(combineAnswers([yes, no, garbage])).toMatchObject({ status: 'unscorable', score: null, method: null });
  });
});

describe('collectAiFeedback against an OpenAI-protocol judge', () => {
  it('logprobs path: scores are the mean P(Yes) the judge gave; malformed answers make the rollout unscorable; a retry asks nothing twice', async () => {
    const judge = await startJudge({ logprobs: true, malformedEvery: 4 });
    const seeded = await seedRollouts(pool, { prefix: 'aif-lp' });
    const counts = await collect(judge, seeded);
    expect(counts.rollouts).toBe(24);
    expect(counts.scored + counts.unscorable).toBe(24);
    expect(counts.unscorable).toBeGreaterThan(0);
    expect(counts.byMethod).toEqual({ logprobs: counts.scored, parsed: 0, mixed: 0 });

    // Every request asked for logprobs, over the chat API, with the rubric's system prompt.
    const bodies = judge.server.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as Record<string, unknown>);
    expect(bodies).toHaveLength(24 * 3);
    for (const b of bodies) expect(b).toMatchObject({ model: 'judge-large', logprobs: true, top_logprobs: 5, temperature: 0, n: 1 });

    const rows = await feedbackRows(seeded.campaignId);
    expect(rows).toHaveLength(24);
    for (const row of rows) {
      const decisions = FEEDBACK_QUESTION_IDS.map((q) => decisionFor(judge, row, q));
      expect(row.answers.map((a) => a.question)).toEqual(FEEDBACK_QUESTION_IDS);
      if (decisions.some((d) => d.kind === 'malformed')) {
        expect(row).toMatchObject({ status: 'unscorable', score: null, method: null });
        const bad = row.answers.filter((a) => a.pYes === null);
        expect(bad.length).toBe(decisions.filter((d) => d.kind === 'malformed').length);
        for (const a of bad) expect(a.problem).toBe('the answer is neither yes nor no');
      } else {
        expect(row.status).toBe('scored');
        row.answers.forEach((a, i) => expect(a.pYes).toBeCloseTo(decisions[i]!.pYes, 9));
        expect(row.score).toBeCloseTo(decisions.reduce((s, d) => s + d.pYes, 0) / 3, 9);
      }
    }
    const [rubric] = (await pool.query<{ rubric: { version: string; questions: Array<{ id: string; text: string }> } }>('select rubric from ai_feedback_runs where campaign_id = $1', [seeded.campaignId])).rows;
    expect(rubric!.rubric.version).toBe(RUBRIC_VERSION);
    expect(rubric!.rubric.questions).toEqual(FEEDBACK_QUESTION_IDS.map((id) => ({ id, text: FEEDBACK_QUESTIONS[id] })));

    // Resumed (or retried): only unjudged rollouts are sent, so nothing is asked twice.
    const again = await collect(judge, seeded);
    expect(again).toEqual(counts);
    expect(judge.server.count('POST', /chat\/completions/)).toBe(24 * 3);
  });

  it('parsed path: a server without logprobs is scored from its Yes/No text; malformed answers stay unscorable', async () => {
    const judge = await startJudge({ logprobs: false, malformedEvery: 4 });
    const seeded = await seedRollouts(pool, { prefix: 'aif-parsed' });
    const counts = await collect(judge, seeded);
    expect(counts.unscorable).toBeGreaterThan(0);
    expect(counts.byMethod).toEqual({ logprobs: 0, parsed: counts.scored, mixed: 0 });
    for (const row of await feedbackRows(seeded.campaignId)) {
      const decisions = FEEDBACK_QUESTION_IDS.map((q) => decisionFor(judge, row, q));
      if (decisions.some((d) => d.kind === 'malformed')) {
        expect(row).toMatchObject({ status: 'unscorable', score: null });
      } else {
        expect(row.answers.map((a) => a.pYes)).toEqual(decisions.map((d) => (d.kind === 'yes' ? 1 : 0)));
        expect(row.score).toBeCloseTo(decisions.filter((d) => d.kind === 'yes').length / 3, 12);
        expect(row.method).toBe('parsed');
      }
    }
  });

  it('scoring "logprobs" with a server that returns none records every rollout as unscorable, none as 0', async () => {
    const judge = await startJudge({ logprobs: false });
    const seeded = await seedRollouts(pool, { prefix: 'aif-nolp', questions: 4 });
    const counts = await collect(judge, seeded, { ...FEEDBACK, scoring: 'logprobs' });
    expect(counts).toMatchObject({ rollouts: 8, scored: 0, unscorable: 8 });
    for (const row of await feedbackRows(seeded.campaignId)) {
      expect(row.score).toBeNull();
      for (const a of row.answers) expect(a.problem).toBe('the server returned no logprobs');
    }
  });

  it('server errors fail the attempt for Temporal to retry; they are never recorded as feedback', async () => {
    const judge = await startJudge({ logprobs: true });
    const seeded = await seedRollouts(pool, { prefix: 'aif-503', questions: 6 });
    judge.server.inject('POST', /chat\/completions/, { status: 503, message: 'overloaded' }, 4);
    const err = await rejectionOf(collect(judge, seeded));
    expect(err).toMatchObject({ type: 'ModelServerError', nonRetryable: false });
    const counts = await collect(judge, seeded);
    expect(counts).toMatchObject({ rollouts: 12, scored: 12, unscorable: 0 });
    for (const row of await feedbackRows(seeded.campaignId)) expect(row.answers.every((a) => a.problem === undefined)).toBe(true);
  });
});

describe('training on AI feedback', () => {
  it('trains the reward model only on scored feedback through the protocol trainer, scores rollouts through onnxruntime, and updates the policy only on scored rewards', async () => {
    const judge = await startJudge({ logprobs: true, malformedEvery: 3 });
    const seeded = await seedRollouts(pool, { prefix: 'aif-train' });
    const feedback = await collect(judge, seeded);
    expect(feedback.unscorable).toBeGreaterThan(0);
    const blobDir = tempDir('rlaif-train');
    const training = createTrainingActivities({ workerTaskQueue: 'gpu@test' });
    const acts = createRlaifTrainingActivities({ pool, blobDir, hostTaskQueue: 'gpu@test', training });
    const trainer = { command: SIMULATED_TRAINER, hyperparameters: { totalSteps: 4, checkpointEvery: 2, stepMs: 5 } };
    try {
      const rm = await activityEnv().run(acts.trainRewardModel, {
        campaignId: seeded.campaignId,
        iteration: 1,
        trainer,
        rewardModel: { baseModel: 'simulated-reward-base', retrainEvery: 0, hyperparameters: {}, scoring: { executionProvider: 'cpu', batchSize: 8, maxLength: 512 } },
      });
      expect(rm).toMatchObject({ examples: feedback.scored, excludedUnscorable: feedback.unscorable, steps: 4, workerTaskQueue: 'gpu@test' });
      const dataset = fs.readFileSync(path.join(blobDir, seeded.campaignId, 'iteration-1', 'reward-model.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; program: string; score: number });
      expect(dataset).toHaveLength(feedback.scored);
      for (const row of dataset) {
        expect(row.prompt).toMatch(/^###Instruction: /);
        expect(typeof row.score).toBe('number');
      }
      expect(fs.existsSync(path.join(rm.rewardModel.backend.modelDir, 'model.onnx'))).toBe(true);
      const [job] = (await pool.query<{ kind: string; note: string; metrics: { simulated?: boolean } }>('select kind, note, metrics from training_jobs where id = $1', [rm.jobId])).rows;
      expect(job).toMatchObject({ kind: 'reward_model', note: `${feedback.unscorable} unscorable AI-feedback record(s) left out of the training set`, metrics: { simulated: true } });

      const rewards = await activityEnv().run(createRolloutScoringActivities({ pool, models }).scoreRollouts, { ...seeded, rewardModel: rm.rewardModel });
      expect(rewards).toMatchObject({ scored: 24, unscorable: 0 });
      const stored = (await pool.query<{ reward: number }>('select reward from rollout_rewards where campaign_id = $1', [seeded.campaignId])).rows;
      expect(new Set(stored.map((r) => r.reward.toFixed(6))).size).toBeGreaterThan(1);

      // Two rewards the model could not give (NaN) stay out of the update.
      await pool.query(`update rollout_rewards set status = 'unscorable', reward = null where campaign_id = $1 and generation_id in (select generation_id from rollout_rewards where campaign_id = $1 order by generation_id limit 2)`, [seeded.campaignId]);
      const policy = { backend: 'simulated' as const, role: 'api-code' as const, model: 'simulated-base', seed: 3, trained: { steps: 0, examples: 0 }, quality: { initial: 0.4, ceiling: 0.9, halfwayExamples: 100 } };
      const update = await activityEnv().run(acts.rlaifPolicyUpdate, {
        campaignId: seeded.campaignId,
        iteration: 1,
        policy,
        trainer,
        policyUpdate: { baseModel: 'simulated-policy-base', advantage: 'grpo', hyperparameters: { kl_coef: 0.1 } },
      });
      expect(update).toMatchObject({ examples: 22, excludedUnscorable: 2, trained: true, steps: 4 });
      expect(update.nextPolicy).toMatchObject({ backend: 'simulated', trained: { steps: 4, examples: 22 } });
      const updateSet = fs.readFileSync(path.join(blobDir, seeded.campaignId, 'iteration-1', 'policy-update.jsonl'), 'utf8').trim().split('\n');
      expect(updateSet).toHaveLength(22);
      const spec = JSON.parse(fs.readFileSync(path.join(blobDir, seeded.campaignId, 'iteration-1', 'policy-update', 'job-spec.json'), 'utf8')) as { kind: string; baseModel: string; hyperparameters: Record<string, unknown> };
      expect(spec).toMatchObject({ kind: 'policy_update', baseModel: 'simulated-policy-base', hyperparameters: { kl_coef: 0.1, advantage: 'grpo', reference_model: 'simulated-policy-base' } });
    } finally {
      fs.rmSync(blobDir, { recursive: true, force: true });
    }
  });

  it('reward ai-feedback: each rollout\'s reward is the judge\'s score of it, an unanswered rollout is unscorable, and a retry writes nothing twice', async () => {
    const judge = await startJudge({ logprobs: true, malformedEvery: 3 });
    const seeded = await seedRollouts(pool, { prefix: 'aif-direct' });
    const feedback = await collect(judge, seeded);
    expect(feedback.unscorable).toBeGreaterThan(0);
    const direct = () => activityEnv().run(createAiFeedbackActivities({ pool, models }).rewardsFromAiFeedback, seeded);
    const counts = await direct();
    expect(counts).toMatchObject({ scored: feedback.scored, unscorable: feedback.unscorable });
    const rows = (
      await pool.query<{ status: string; reward: number | null; reason: string | null; source: string; reward_model: string; score: number | null }>(
        `select r.status, r.reward, r.reason, r.source, r.reward_model, f.score from rollout_rewards r
         join ai_feedback f on f.campaign_id = r.campaign_id and f.iteration = r.iteration and f.generation_id = r.generation_id where r.campaign_id = $1`,
        [seeded.campaignId],
      )
    ).rows;
    expect(rows).toHaveLength(24);
    for (const r of rows) {
      expect(r).toMatchObject({ source: 'ai-feedback', reward_model: 'openai:judge-large' });
      if (r.score === null) expect(r).toMatchObject({ status: 'unscorable', reward: null, reason: 'the judge gave no yes/no answer' });
      else expect(r).toMatchObject({ status: 'scored', reward: r.score });
    }
    expect(await direct()).toEqual(counts);
    expect((await pool.query('select 1 from rollout_rewards where campaign_id = $1', [seeded.campaignId])).rowCount).toBe(24);
  });

  it('reward ai-feedback before any feedback was recorded fails at once: no retry can make it', async () => {
    const seeded = await seedRollouts(pool, { prefix: 'aif-direct-none', questions: 2 });
    const err = await rejectionOf(activityEnv().run(createAiFeedbackActivities({ pool, models }).rewardsFromAiFeedback, seeded));
    expect(err).toMatchObject({ type: 'MissingFeedback', nonRetryable: true });
  });

  it('stores a reward the model cannot give (not a finite number) as unscorable, never as 0', async () => {
    const seeded = await seedRollouts(pool, { prefix: 'aif-nan', questions: 3 });
    // A test double for GPU reward inference: every other score is NaN.
    const nanModel: ModelBackend = {
      backend: 'onnx',
      model: 'nan-reward-model',
      generate: () => Promise.reject(new Error('unused')),
      score: (pairs) => Promise.resolve(pairs.map((_, i) => (i % 2 === 0 ? Number.NaN : 0.25))),
      close: () => Promise.resolve(),
    };
    const stub = { get: () => nanModel } as unknown as ModelBackendCache;
    const rewardModel = { jobId: 'j', iteration: 1, backend: onnxRewardModelConfig('/nowhere') };
    const counts = await activityEnv().run(createRolloutScoringActivities({ pool, models: stub }).scoreRollouts, { ...seeded, rewardModel });
    expect(counts).toEqual({ scored: 3, unscorable: 3, meanReward: 0.25 });
    const rows = (await pool.query<{ status: string; reward: number | null }>('select status, reward from rollout_rewards where campaign_id = $1', [seeded.campaignId])).rows;
    expect(rows.filter((r) => r.status === 'unscorable').map((r) => r.reward)).toEqual([null, null, null]);
    expect(rows.filter((r) => r.status === 'scored').map((r) => r.reward)).toEqual([0.25, 0.25, 0.25]);
  });

  it('the judge is deterministic in the question it is asked', () => {
    expect(judgeDecision('Question: a', 4)).toEqual(judgeDecision('Question: a', 4));
  });
});

function onnxRewardModelConfig(modelDir: string) {
  return { backend: 'onnx' as const, task: 'sequence-classification' as const, modelDir, modelFile: 'model.onnx', executionProvider: 'cpu' as const, deviceId: 0, batchSize: 8, maxLength: 512, rewardLabel: 0, scoreTransform: 'logit' as const };
}
