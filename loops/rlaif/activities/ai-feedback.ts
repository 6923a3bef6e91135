import { runMany } from '../../../common/run-many';
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { RlaifCampaignConfig } from '../config';
import { apiBenchQuestion, codeOfAnswer } from '../../../activities/datasets/apibench';
import { extractApiCall } from '../../../activities/metrics/ast-match/extract-api-call';
import { findCalledApi } from '../../../activities/metrics/executability';
import type { ModelBackendConfig } from '../../../common/model-config';
import type { ModelBackendCache } from '../../../activities/models/index';
import {
  codeJudgeMessages,
  codeRubricRecord,
  CODE_RUBRIC_VERSION,
  combineAnswers,
  judgeMessages,
  readAnswer,
  RUBRIC_VERSION,
  rubricRecord,
  type CodeFeedbackQuestionId,
  type FeedbackQuestionId,
  type SampleFeedback,
} from '../../../activities/feedback/ai-feedback-rubric';
import { promptOfTask } from '../../../activities/datasets/registry';
import type { ChatMessage } from '../../../activities/models/types';
import { rewardCounts, rewardOf, saveRewards } from '../../../activities/rewards/reward-table';
import type { RewardCounts } from '../../../common/rewards';

/**
 * AI feedback on an iteration's rollouts (RLAIF step 2): the judge LLM answers the rubric's
 * yes/no questions about every rollout; the answers become one score per rollout, or an
 * UNSCORABLE record when the judge did not answer yes or no. Rows are written as rollouts are
 * judged, so a retried activity resumes with the rollouts not yet judged. Server errors (429,
 * 5xx, timeouts) fail the attempt and are retried by Temporal: they are never recorded as
 * feedback.
 */
export interface CollectAiFeedbackInput {
  campaignId: string;
  iteration: number;
  /** the eval run holding the rollouts */
  evalRunId: string;
  judge: ModelBackendConfig;
  feedback: RlaifCampaignConfig['feedback'];
}

export interface AiFeedbackCounts {
  rollouts: number;
  scored: number;
  unscorable: number;
  byMethod: { logprobs: number; parsed: number; mixed: number };
}

/** Rollouts judged at once; the backend's own semaphore bounds requests in flight. */
const ROLLOUTS_IN_FLIGHT = 8;

export function judgeLabel(judge: ModelBackendConfig): string {
  if (judge.backend === 'openai') return `openai:${judge.adapter?.name ?? judge.model}`;
  if (judge.backend === 'simulated') return `simulated:${judge.model} (SIMULATED)`;
  return `onnx:${judge.modelDir}`;
}

export async function aiFeedbackCounts(pool: Pick<pg.Pool, 'query'>, campaignId: string, iteration: number, evalRunId: string): Promise<AiFeedbackCounts> {
  const { rows } = await pool.query<{ status: string | null; method: string | null; n: string }>(
    `select f.status, f.method, count(*) as n from generations g
     left join ai_feedback f on f.generation_id = g.id and f.campaign_id = $1 and f.iteration = $2
     where g.eval_run_id = $3 group by f.status, f.method`,
    [campaignId, iteration, evalRunId],
  );
  const counts: AiFeedbackCounts = { rollouts: 0, scored: 0, unscorable: 0, byMethod: { logprobs: 0, parsed: 0, mixed: 0 } };
  for (const r of rows) {
    const n = Number(r.n);
    counts.rollouts += n;
    if (r.status === 'scored') counts.scored += n;
    if (r.status === 'unscorable') counts.unscorable += n;
    if (r.status === 'scored' && (r.method === 'logprobs' || r.method === 'parsed' || r.method === 'mixed')) counts.byMethod[r.method] += n;
  }
  return counts;
}

/** The input of rewardsFromAiFeedback: the iteration whose rollouts the judge scored. */
export interface RewardsFromAiFeedbackInput {
  campaignId: string;
  iteration: number;
  evalRunId: string;
}

export function createAiFeedbackActivities(deps: { pool: pg.Pool; models: ModelBackendCache }) {
  return {
    /**
     * The reward source "ai-feedback" (`reward: ai-feedback`): each rollout's reward is the judge's
     * score of it, with no reward model between. A rollout the judge did not answer about is
     * unscorable, never 0. Idempotent: a retry writes nothing twice.
     */
    async rewardsFromAiFeedback(input: RewardsFromAiFeedbackInput): Promise<RewardCounts> {
      const { campaignId: c, iteration: k } = input;
      const { rows: runs } = await deps.pool.query<{ judge: { label?: string } }>('select judge from ai_feedback_runs where campaign_id = $1 and iteration = $2', [c, k]);
      const judged = await deps.pool.query<{ generation_id: string; task_id: string; status: string; score: number | null }>(
        `select f.generation_id, f.task_id, f.status, f.score from ai_feedback f join generations g on g.id = f.generation_id
         where f.campaign_id = $1 and f.iteration = $2 and g.eval_run_id = $3 order by f.generation_id`,
        [c, k, input.evalRunId],
      );
      if (judged.rows.length === 0) throw ApplicationFailure.nonRetryable(`no AI feedback recorded for iteration ${k}'s rollouts (${input.evalRunId})`, 'MissingFeedback');
      await saveRewards(
        deps.pool,
        { campaignId: c, iteration: k, source: 'ai-feedback', scoredBy: runs[0]?.judge.label ?? 'the judge' },
        judged.rows.map((f) => ({
          generationId: f.generation_id,
          taskId: f.task_id,
          reward: f.status === 'scored' && f.score !== null ? rewardOf(f.score) : { status: 'unscorable', reason: 'the judge gave no yes/no answer' },
        })),
      );
      return rewardCounts(deps.pool, c, k);
    },

    async collectAiFeedback(input: CollectAiFeedbackInput): Promise<AiFeedbackCounts> {
      const { campaignId: c, iteration: k, feedback } = input;
      const questions = feedback.questions;
      // APIBench answers get the paper's rubric; programs for a code dataset's tasks, the code rubric
      const [{ dataset } = { dataset: 'apibench' }] = (await deps.pool.query<{ dataset: string }>('select dataset from eval_runs where id = $1', [input.evalRunId])).rows;
      const onCode = dataset !== 'apibench';
      const rubric = onCode ? codeRubricRecord(questions as CodeFeedbackQuestionId[], feedback.scoring) : rubricRecord(questions as FeedbackQuestionId[], feedback.scoring);
      await deps.pool.query(
        `insert into ai_feedback_runs (campaign_id, iteration, judge, rubric) values ($1, $2, $3, $4) on conflict do nothing`,
        [c, k, JSON.stringify({ label: judgeLabel(input.judge), backend: input.judge.backend }), JSON.stringify(rubric)],
      );
      const { rows: todo } = await deps.pool.query<{ id: string; task_id: string; program: string }>(
        `select g.id, g.task_id, g.program from generations g
         where g.eval_run_id = $1 and not exists (select 1 from ai_feedback f where f.campaign_id = $2 and f.iteration = $3 and f.generation_id = g.id)
         order by g.task_id, g.sample_index`,
        [input.evalRunId, c, k],
      );
      const ctx = Context.current();
      // Every request in flight (and the client under it) listens for cancellation on the one
      // activity signal: many listeners here are by design, not a leak.
      setMaxListeners(0, ctx.cancellationSignal);
      const judge = deps.models.get(input.judge);
      let done = 0;
      /** the judge's messages for each question about one rollout */
      const messagesFor = (rollout: { id: string; task_id: string; program: string }): { taskKey: string; messages: (question: string) => ChatMessage[] } => {
        if (onCode) {
          const task = promptOfTask(dataset, rollout.task_id);
          return { taskKey: rollout.task_id, messages: (question) => codeJudgeMessages(question as CodeFeedbackQuestionId, task, rollout.program) };
        }
        const q = apiBenchQuestion(rollout.task_id);
        if (!q) throw ApplicationFailure.nonRetryable(`rollout ${rollout.id} names unknown APIBench question ${rollout.task_id}`, 'InvalidConfig');
        const doc = findCalledApi(codeOfAnswer(rollout.program) ?? '', q.hub) ?? findCalledApi(extractApiCall(rollout.program, q.hub) ?? '', q.hub);
        return { taskKey: q.key, messages: (question) => judgeMessages(question as FeedbackQuestionId, q.instruction, rollout.program, doc) };
      };
      const judgeOne = async (rollout: { id: string; task_id: string; program: string }): Promise<SampleFeedback> => {
        const { taskKey, messages } = messagesFor(rollout);
        const answers = await Promise.all(
          questions.map(async (question) => {
            const result = await judge.generate(
              {
                messages: messages(question),
                n: 1,
                temperature: 0,
                maxTokens: feedback.maxTokens,
                logprobs: feedback.scoring !== 'parsed',
                topLogprobs: feedback.scoring !== 'parsed' ? feedback.topLogprobs : undefined,
                taskId: taskKey,
              },
              { signal: ctx.cancellationSignal },
            );
            const sample = result.samples[0];
            return readAnswer(question as FeedbackQuestionId, sample ?? { text: '', finishReason: 'other' }, feedback.scoring);
          }),
        );
        return combineAnswers(answers);
      };
      await runMany(todo, ROLLOUTS_IN_FLIGHT, async (rollout) => {
        const judged = await judgeOne(rollout);
        await deps.pool.query(
          `insert into ai_feedback (campaign_id, iteration, generation_id, task_id, status, score, method, answers, rubric_version)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict do nothing`,
          [c, k, rollout.id, rollout.task_id, judged.status, judged.score, judged.method, JSON.stringify(judged.answers), onCode ? CODE_RUBRIC_VERSION : RUBRIC_VERSION],
        );
        ctx.heartbeat({ judged: ++done, of: todo.length });
      }, ctx.cancellationSignal);
      return aiFeedbackCounts(deps.pool, c, k, input.evalRunId);
    },
  };
}
