import { readAnswer, rubricRecord, type JudgedAnswer, type ScoringMode } from '../../../activities/feedback/ai-feedback-rubric';
import type { ChatMessage, ModelBackend, Sample } from '../../../activities/models/types';

/**
 * RLCF's discriminator for the `llm` kind (grounding stage d): a larger LLM, shown the task,
 * the reference solution and the generated program, answers whether the program is correct,
 * i.e. equivalent to the reference on the task's inputs. This stands in for the paper's
 * trained reward-estimation function (a model that tells generated programs from references):
 * the question is the one that function learns to answer, asked of a model that needs no
 * training. The rubric is versioned and stored with every verdict.
 *
 * Scoring is RLAIF's, by import (ai-feedback-rubric.ts): P(Yes) = p(yes) / (p(yes) + p(no)) over
 * the top logprobs of the first answer position offering yes or no; else the parsed answer
 * (a leading Yes = 1, No = 0); else UNSCORABLE, which is recorded and never scored as 0.
 */
export const DISCRIMINATOR_VERSION = 'rlcf-discriminator-v1';

export const DISCRIMINATOR_QUESTION =
  'Is the candidate program correct for the task, that is, does its method return the same result as the reference solution for every valid input?';

export const DISCRIMINATOR_SYSTEM =
  'You review Java programs written for a programming task. You are given the task, a reference solution that is known to be correct, and a candidate program. ' +
  'Answer the question with one word: Yes or No.';

/** Longest reference or candidate shown; longer ones are cut and the cut is marked. */
const MAX_PROGRAM_CHARS = 4000;

function shown(program: string): string {
  const text = program.trim();
  if (!text) return '(empty)';
  return text.length > MAX_PROGRAM_CHARS ? `${text.slice(0, MAX_PROGRAM_CHARS)}\n[... cut at ${MAX_PROGRAM_CHARS} characters]` : text;
}

export interface DiscriminatorTask {
  /** the task in words (MBJP's description) */
  description: string;
  /** the reference solution, a full program */
  reference: string;
}

export function discriminatorMessages(task: DiscriminatorTask, program: string): ChatMessage[] {
  return [
    { role: 'system', content: DISCRIMINATOR_SYSTEM },
    {
      role: 'user',
      content: [
        'Task:',
        task.description.trim() || '(no description)',
        '',
        'Reference solution (correct):',
        '```java',
        shown(task.reference),
        '```',
        '',
        'Candidate program:',
        '```java',
        shown(program),
        '```',
        '',
        `Question: ${DISCRIMINATOR_QUESTION}`,
        'Answer with Yes or No.',
      ].join('\n'),
    },
  ];
}

export type DiscriminatorAnswer = JudgedAnswer<'equivalent'>;

/** Reads the discriminator's answer: P(Yes) in [0, 1], or null (unscorable) with the reason. */
export function readDiscriminatorAnswer(sample: Pick<Sample, 'text' | 'logprobs' | 'finishReason'>, scoring: ScoringMode): DiscriminatorAnswer {
  return readAnswer('equivalent', sample, scoring);
}

/** Everything about the rubric that decides a verdict: stored with each one. */
export function discriminatorRecord(scoring: ScoringMode) {
  // The reading rules are RLAIF's own (same helpers): taken from its record, not restated.
  const { logprobRule, parseRule } = rubricRecord([], scoring);
  return {
    version: DISCRIMINATOR_VERSION,
    system: DISCRIMINATOR_SYSTEM,
    question: DISCRIMINATOR_QUESTION,
    scoring,
    logprobRule,
    parseRule,
  };
}

/** How the discriminator is asked: the scoring mode and the answer's length. */
export interface DiscriminatorAsking {
  scoring: ScoringMode;
  topLogprobs: number;
  maxTokens: number;
}

/** Asks the discriminator LLM about one program (greedy, one answer) and reads its verdict. */
export async function askDiscriminator(backend: Pick<ModelBackend, 'generate'>, task: DiscriminatorTask, program: string, taskId: string, d: DiscriminatorAsking, signal?: AbortSignal): Promise<DiscriminatorAnswer> {
  const logprobs = d.scoring !== 'parsed';
  const result = await backend.generate(
    { messages: discriminatorMessages(task, program), n: 1, temperature: 0, maxTokens: d.maxTokens, logprobs, topLogprobs: logprobs ? d.topLogprobs : undefined, taskId },
    { signal },
  );
  return readDiscriminatorAnswer(result.samples[0] ?? { text: '', finishReason: 'other' }, d.scoring);
}
