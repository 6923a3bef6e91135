import type { ApiDoc } from '../datasets/api-database';
import type { ChatMessage, Sample } from '../models/types';

/**
 * The AI-feedback rubric of the RLAIF loop, in one place: the prompts a larger LLM answers about
 * each sampled answer, and how its answers become one score. The rubric (version, texts and
 * rules) is stored with every iteration's feedback, so a score can always be traced to the exact
 * questions that produced it.
 *
 * Decomposed yes/no questions (after the paper's specialised prompting): is the API right for the
 * task, are its arguments right, will the code run. The judge also sees the API database's entry
 * for the API the answer calls (or is told that none matches), so it judges against the
 * documentation instead of its memory.
 *
 * Scoring. Per question, P(Yes) = p(yes) / (p(yes) + p(no)) over the judge's top alternatives at
 * the first answer position that offers a yes or no token, when the server returns logprobs;
 * otherwise the answer text is parsed (a leading Yes = 1, No = 0). The score of an answer is the
 * mean over questions. A question the judge did not answer with yes or no makes the whole answer
 * UNSCORABLE: it is recorded as such and kept out of training, never scored as 0.
 */
export const RUBRIC_VERSION = 'rlaif-ai-feedback-v1';

export const FEEDBACK_QUESTIONS = {
  api: 'Is the API that the response calls appropriate for the task in the instruction?',
  arguments: 'Are the arguments of that API call correct, both for the API and for the task?',
  executes: 'Is the code in the response likely to run without errors, assuming the libraries it imports are installed?',
} as const;
export type FeedbackQuestionId = keyof typeof FEEDBACK_QUESTIONS;
export const FEEDBACK_QUESTION_IDS = Object.keys(FEEDBACK_QUESTIONS) as FeedbackQuestionId[];

export type ScoringMode = 'auto' | 'logprobs' | 'parsed';

export const SYSTEM_PROMPT =
  'You review Python code that calls machine-learning APIs (Hugging Face, TensorFlow Hub, PyTorch Hub). ' +
  'Answer the question about the response with one word: Yes or No.';

/** Longest response shown to the judge; longer ones are cut (and the cut is marked). */
const MAX_RESPONSE_CHARS = 4000;

export function describeApi(doc: ApiDoc | null): string {
  if (!doc) return 'None: no API in the database matches the call in the response.';
  const args = doc.rawArguments === null ? 'not documented' : JSON.stringify(doc.rawArguments).slice(0, 600);
  return [`name: ${doc.apiName}`, `call: ${doc.apiCall}`, `domain: ${doc.domain}`, `arguments: ${args}`, `description: ${doc.description.slice(0, 600)}`].join('\n');
}

export function judgeMessages(question: FeedbackQuestionId, instruction: string, response: string, doc: ApiDoc | null): ChatMessage[] {
  const shown = response.length > MAX_RESPONSE_CHARS ? `${response.slice(0, MAX_RESPONSE_CHARS)}\n[... cut at ${MAX_RESPONSE_CHARS} characters]` : response;
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    {
      role: 'user',
      content: [
        'Instruction given to the assistant:',
        instruction.trim(),
        '',
        "The assistant's response:",
        shown.trim() || '(empty)',
        '',
        'API database entry for the API the response calls:',
        describeApi(doc),
        '',
        `Question: ${FEEDBACK_QUESTIONS[question]}`,
        'Answer with Yes or No.',
      ].join('\n'),
    },
  ];
}

/**
 * The rubric for code tasks with unit tests (RLAIF on a code dataset: MBPP-style tasks, the
 * synthetic family, a user's file): the judge sees the task as the policy saw it and the
 * program, and answers whether the program does what the task asks. The tests are never shown:
 * the judge's answer is the feedback, the sandbox only evaluates.
 */
export const CODE_RUBRIC_VERSION = 'rlaif-code-feedback-v1';

export const CODE_FEEDBACK_QUESTIONS = {
  correct: 'Does the program do what the task asks, for every input?',
} as const;
export type CodeFeedbackQuestionId = keyof typeof CODE_FEEDBACK_QUESTIONS;
export const CODE_FEEDBACK_QUESTION_IDS = Object.keys(CODE_FEEDBACK_QUESTIONS) as CodeFeedbackQuestionId[];

export const CODE_SYSTEM_PROMPT = 'You review programs written for a programming task. Answer the question about the program with one word: Yes or No.';

export function codeJudgeMessages(question: CodeFeedbackQuestionId, task: string, program: string): ChatMessage[] {
  const shown = program.length > MAX_RESPONSE_CHARS ? `${program.slice(0, MAX_RESPONSE_CHARS)}\n[... cut at ${MAX_RESPONSE_CHARS} characters]` : program;
  return [
    { role: 'system', content: CODE_SYSTEM_PROMPT },
    {
      role: 'user',
      content: ['Task given to the programmer:', task.trim(), '', 'The program:', shown.trim() || '(empty)', '', `Question: ${CODE_FEEDBACK_QUESTIONS[question]}`, 'Answer with Yes or No.'].join('\n'),
    },
  ];
}

/** The code rubric's record, stored with each iteration's feedback as the API rubric's is. */
export function codeRubricRecord(questions: readonly CodeFeedbackQuestionId[], scoring: ScoringMode) {
  return { ...rubricRecord([], scoring), version: CODE_RUBRIC_VERSION, system: CODE_SYSTEM_PROMPT, questions: questions.map((id) => ({ id, text: CODE_FEEDBACK_QUESTIONS[id] })) };
}

/** Everything about the rubric that decides a score: stored with each iteration's feedback. */
export function rubricRecord(questions: readonly FeedbackQuestionId[], scoring: ScoringMode) {
  return {
    version: RUBRIC_VERSION,
    system: SYSTEM_PROMPT,
    questions: questions.map((id) => ({ id, text: FEEDBACK_QUESTIONS[id] })),
    scoring,
    combine: 'mean of P(Yes) over the questions; any unanswerable question makes the sample unscorable',
    logprobRule: 'P(Yes) = p(yes) / (p(yes) + p(no)) over the top alternatives of the first answer position offering yes or no',
    parseRule: 'a leading "yes" = 1, "no" = 0 (case-insensitive, after markup and whitespace); anything else is unscorable',
  };
}

export interface JudgedAnswer<Q extends string = FeedbackQuestionId> {
  question: Q;
  /** P(Yes) in [0, 1], or null when the answer could not be read */
  pYes: number | null;
  method: 'logprobs' | 'parsed' | null;
  /** the judge's text, cut to 200 characters */
  text: string;
  /** why the answer could not be read */
  problem?: string;
}

const YES_NO = /^[\s*_`"'([]*(yes|no)\b/i;

function yesOrNo(token: string): 'yes' | 'no' | null {
  const t = token.trim().replace(/^[*_`"'([]+/, '').replace(/[.,!:;)\]"'*_`]+$/, '').toLowerCase();
  return t === 'yes' ? 'yes' : t === 'no' ? 'no' : null;
}

/** P(Yes) from the first answer positions' top alternatives, or null when none offers yes or no. */
export function pYesFromLogprobs(sample: Pick<Sample, 'logprobs'>, positions = 3): number | null {
  for (const position of (sample.logprobs ?? []).slice(0, positions)) {
    const alternatives = position.top?.length ? position.top : [{ token: position.token, logprob: position.logprob }];
    let yes = 0;
    let no = 0;
    for (const a of alternatives) {
      const which = yesOrNo(a.token);
      if (!which || !Number.isFinite(a.logprob)) continue;
      if (which === 'yes') yes += Math.exp(a.logprob);
      else no += Math.exp(a.logprob);
    }
    if (yes + no > 0) return yes / (yes + no);
  }
  return null;
}

/** Reads one judge answer under a scoring mode (any rubric's question ids: RLCF's discriminator reads its answers with it too). */
export function readAnswer<Q extends string = FeedbackQuestionId>(question: Q, sample: Pick<Sample, 'text' | 'logprobs' | 'finishReason'>, scoring: ScoringMode): JudgedAnswer<Q> {
  const text = sample.text.slice(0, 200);
  if (sample.finishReason === 'content_filter') return { question, pYes: null, method: null, text, problem: 'the server filtered the answer' };
  if (scoring !== 'parsed') {
    const p = pYesFromLogprobs(sample);
    if (p !== null) return { question, pYes: p, method: 'logprobs', text };
    if (scoring === 'logprobs') {
      return { question, pYes: null, method: null, text, problem: sample.logprobs?.length ? 'no yes/no token among the returned logprobs' : 'the server returned no logprobs' };
    }
  }
  const m = YES_NO.exec(sample.text);
  if (m) return { question, pYes: m[1]!.toLowerCase() === 'yes' ? 1 : 0, method: 'parsed', text };
  return { question, pYes: null, method: null, text, problem: 'the answer is neither yes nor no' };
}

export interface SampleFeedback {
  status: 'scored' | 'unscorable';
  /** mean P(Yes); null when unscorable (never 0 for "could not tell") */
  score: number | null;
  method: 'logprobs' | 'parsed' | 'mixed' | null;
  answers: JudgedAnswer[];
}

export function combineAnswers(answers: readonly JudgedAnswer[]): SampleFeedback {
  if (answers.length === 0 || answers.some((a) => a.pYes === null)) return { status: 'unscorable', score: null, method: null, answers: [...answers] };
  const methods = new Set(answers.map((a) => a.method));
  const score = answers.reduce((s, a) => s + a.pYes!, 0) / answers.length;
  return { status: 'scored', score, method: methods.size === 1 ? answers[0]!.method : 'mixed', answers: [...answers] };
}
