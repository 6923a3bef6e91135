import { runMany } from '../../../common/run-many';
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { PolicyBackend } from '../../../common/campaign-schema';
import type { SamplingParams } from '../../../common/evaluation';
import { apiBenchPrompt, rolloutBatch, selectQuestions, type ApiBenchQuestion } from '../../../activities/datasets/apibench';
import type { ApiHub } from '../../../activities/metrics/ast-match/apibench';
import { sampleCountsByTask, saveGenerations } from '../../../activities/store/eval-runs';
import type { ModelBackendCache } from '../../../activities/models/index';
import type { PlacementIntent } from '../../../common/task-queues';
import { recordRanBy } from '../../../activities/store/evaluation-activities';
import type { WorkerRef } from '../../../activities/worker-deps';

/**
 * Samples answers to APIBench questions from a policy: the rollouts of an RLAIF iteration
 * (training questions) or an evaluation (eval questions). Answers go straight to PostgreSQL as
 * generations (task id = question key); the workflow gets counts. A retry skips questions whose
 * samples are stored, and sample i of a question is drawn with the same seed on every attempt.
 */
export type ApiQuestionSet =
  | { part: 'train'; hubs: readonly ApiHub[]; heldOutFraction: number; seed: number; iteration: number; size: number }
  | { part: 'eval'; hubs: readonly ApiHub[]; heldOutFraction: number; maxPerHub?: number };

export interface GenerateApiSamplesInput {
  evalRunId: string;
  questions: ApiQuestionSet;
  policy: PolicyBackend;
  samplesPerQuestion: number;
  sampling: SamplingParams;
  /** set on host-routed generation: the activity records where it ran (eval_runs.placement) */
  placement?: PlacementIntent;
}

export interface GenerateApiSamplesOutput {
  questions: number;
  samples: number;
}

const QUESTIONS_IN_FLIGHT = 4;

export function questionsOf(set: ApiQuestionSet): ApiBenchQuestion[] {
  return set.part === 'train'
    ? rolloutBatch({ hubs: set.hubs, heldOutFraction: set.heldOutFraction }, set.seed, set.iteration, set.size)
    : selectQuestions({ part: 'eval', hubs: set.hubs, heldOutFraction: set.heldOutFraction, maxPerHub: set.maxPerHub });
}

/** A stable per-question seed, so sample i of a question is the same draw on every attempt. */
function questionSeed(seed: number, key: string): number {
  return createHash('sha256').update(`${seed}/${key}`).digest().readUInt32LE(0);
}

/** Chat models may fence the whole answer; the answer itself is what is scored. */
export function answerFromOutput(text: string): string {
  const fenced = /^\s*```[a-z]*\n([\s\S]*?)```\s*$/.exec(text);
  return (fenced ? fenced[1]! : text).trim();
}

export function createApiGenerationActivities(deps: { pool: pg.Pool; models: ModelBackendCache; worker?: WorkerRef }) {
  return {
    async generateApiSamples(input: GenerateApiSamplesInput): Promise<GenerateApiSamplesOutput> {
      const { policy } = input;
      if (policy.backend === 'replay') throw ApplicationFailure.nonRetryable('a replay policy serves MBPP programs, not APIBench answers', 'InvalidConfig');
      const ctx = Context.current();
      const questions = questionsOf(input.questions);
      const stored = await sampleCountsByTask(deps.pool, input.evalRunId);
      const todo = questions.filter((q) => (stored.get(q.key) ?? 0) < input.samplesPerQuestion);
      const backend = deps.models.get(policy);
      let done = questions.length - todo.length;
      await runMany(todo, QUESTIONS_IN_FLIGHT, async (q) => {
        const prompt = apiBenchPrompt(q);
        const result = await backend.generate(
          {
            prompt,
            n: input.samplesPerQuestion,
            temperature: input.sampling.temperature,
            topP: input.sampling.topP,
            maxTokens: input.sampling.maxTokens,
            seed: questionSeed(input.sampling.seed ?? 0, q.key),
            taskId: q.key,
            reference: q.referenceOutput,
            sampleIndexStart: 0,
          },
          { signal: ctx.cancellationSignal },
        );
        await saveGenerations(
          deps.pool,
          input.evalRunId,
          result.samples.map((s) => ({
            taskId: q.key,
            sampleIndex: s.index,
            backend: policy.backend,
            program: answerFromOutput(s.text),
            meta: { ...s.meta, finishReason: s.finishReason },
          })),
        );
        ctx.heartbeat({ questionsDone: ++done, questions: questions.length });
      }, ctx.cancellationSignal);
      await recordRanBy(deps.pool, input.evalRunId, input.placement, deps.worker);
      return { questions: questions.length, samples: questions.length * input.samplesPerQuestion };
    },
  };
}
