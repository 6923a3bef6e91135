import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { PolicyBackend } from '../../common/campaign-schema';
import { loadMbpp, mbppPrompt, MBPP_SPLITS } from '../datasets/mbpp';
import { OnnxBackend } from '../models/onnx/backend';
import type { PromptProgram } from '../models/onnx/log-likelihood';
import { readLossCurve, type LossPoint } from './loss-curve';

/**
 * The learning signal of one fine-tuning job, there even when pass@1 is 0 (the ILF paper's
 * perplexity analysis): the loss curve the trainer reported, and the policy's mean per-token
 * log-likelihood of a fixed held-out set and of the job's own training set, under the model the
 * job started from and the one it wrote. Recorded in `learning_signals` (migration 008) by the
 * training activity itself after the job, so no workflow changes: ILF's `ilfFineTune`, the RL
 * loops' `policyUpdate`.
 *
 * Log-likelihoods need a model that scores programs: `onnx` causal-LM policies (before and after).
 * For other backends only the loss curve is kept, and the row says why.
 */

/** The fixed held-out set: the gold programs of the first MBPP_Test tasks (never trained on). */
export const HELD_OUT_SET = 'mbpp-test-gold-20';
const HELD_OUT_TASKS = 20;
/** training pairs scored per job (the first ones, in the set's order): bounded time on a CPU */
const MAX_TRAIN_PAIRS = 64;

export function heldOutPairs(): PromptProgram[] {
  const [lo, hi] = MBPP_SPLITS.test;
  return loadMbpp()
    .filter((t) => t.taskId >= lo && t.taskId <= hi)
    .slice(0, HELD_OUT_TASKS)
    .map((t) => ({ prompt: mbppPrompt(t), program: t.code.replace(/\r\n/g, '\n') }));
}

export interface LearningSignalInput {
  jobId: string;
  campaignId: string;
  iteration: number;
  kind: 'sft' | 'policy_update';
  /** the trainer's output directory (its loss-curve.jsonl) */
  outputDir: string;
  before: PolicyBackend;
  after: PolicyBackend;
  /** the job's training set, as (prompt, program) pairs */
  trainingSet: readonly PromptProgram[];
}

export interface LearningSignal {
  lossCurve: LossPoint[];
  heldOut?: { before: number; after: number; pairs: number; tokens: number };
  train?: { before: number; after: number; pairs: number; tokens: number };
  note?: string;
}

const modelOf = (p: PolicyBackend) => (p.backend === 'onnx' ? p.modelDir : p.backend === 'openai' ? (p.adapter?.path ?? p.model) : p.backend === 'simulated' ? p.model : p.source);

async function meanLogLikelihoods(policy: PolicyBackend & { backend: 'onnx' }, sets: readonly (readonly PromptProgram[])[], signal: AbortSignal) {
  const backend = await OnnxBackend.load(policy);
  try {
    const out = [];
    for (const pairs of sets) out.push(pairs.length ? await backend.programLogLikelihood(pairs, { signal }) : undefined);
    return out;
  } finally {
    await backend.close();
  }
}

export async function recordLearningSignal(pool: pg.Pool, input: LearningSignalInput): Promise<LearningSignal> {
  const lossCurve = readLossCurve(input.outputDir);
  const signal: LearningSignal = { lossCurve };
  const { before, after } = input;
  if (before.backend === 'onnx' && after.backend === 'onnx' && before.task === 'causal-lm') {
    const ctx = Context.current();
    const sets = [heldOutPairs(), input.trainingSet.slice(0, MAX_TRAIN_PAIRS)];
    const [hb, tb] = await meanLogLikelihoods(before, sets, ctx.cancellationSignal);
    ctx.heartbeat({ learningSignal: 'scored the policy before training' });
    const [ha, ta] = await meanLogLikelihoods(after, sets, ctx.cancellationSignal);
    signal.heldOut = { before: hb!.meanLogprob, after: ha!.meanLogprob, pairs: sets[0]!.length, tokens: hb!.tokens };
    if (tb && ta) signal.train = { before: tb.meanLogprob, after: ta.meanLogprob, pairs: sets[1]!.length, tokens: tb.tokens };
  } else {
    signal.note = `log-likelihoods need onnx causal-LM policies before and after the job (here ${before.backend} -> ${after.backend}); the loss curve is kept`;
  }
  await pool.query(
    `insert into learning_signals (job_id, campaign_id, iteration, kind, policy_before, policy_after, loss_curve, held_out_set, held_out_pairs, held_out_tokens,
       held_out_before, held_out_after, train_pairs, train_tokens, train_before, train_after, note)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     on conflict (job_id) do update set policy_before = excluded.policy_before, policy_after = excluded.policy_after, loss_curve = excluded.loss_curve,
       held_out_set = excluded.held_out_set, held_out_pairs = excluded.held_out_pairs, held_out_tokens = excluded.held_out_tokens,
       held_out_before = excluded.held_out_before, held_out_after = excluded.held_out_after, train_pairs = excluded.train_pairs,
       train_tokens = excluded.train_tokens, train_before = excluded.train_before, train_after = excluded.train_after, note = excluded.note, recorded_at = now()`,
    [
      input.jobId, input.campaignId, input.iteration, input.kind, modelOf(before), modelOf(after), JSON.stringify(lossCurve),
      signal.heldOut ? HELD_OUT_SET : null, signal.heldOut?.pairs ?? null, signal.heldOut?.tokens ?? null, signal.heldOut?.before ?? null, signal.heldOut?.after ?? null,
      signal.train?.pairs ?? null, signal.train?.tokens ?? null, signal.train?.before ?? null, signal.train?.after ?? null, signal.note ?? null,
    ],
  );
  return signal;
}
