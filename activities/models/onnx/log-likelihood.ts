import { badRequestFailure } from '../failures';
import type { OnnxCausalLM } from './causal-lm';

/**
 * A causal LM's log-likelihood of programs given their prompts, teacher-forced: the learning
 * signal that is there even when pass@1 is 0 (the ILF paper's perplexity analysis). Only the
 * program's tokens count (and the end-of-text token after them, which the fine-tuning data
 * also ends with); the prompt is context.
 */
export interface PromptProgram {
  prompt: string;
  program: string;
}

export interface ProgramLogLikelihood {
  /** tokens scored: the program's (+ EOS), after any cut to the model's context length */
  tokens: number;
  sumLogprob: number;
  meanLogprob: number;
  /** the sequence was longer than the model's context and its end was cut */
  truncated: boolean;
}

export interface LogLikelihoodSummary {
  pairs: ProgramLogLikelihood[];
  tokens: number;
  /** mean per-token log-likelihood over all the pairs' program tokens (token-weighted) */
  meanLogprob: number;
  /** exp(-meanLogprob) */
  perplexity: number;
}

export interface LogLikelihoodOptions {
  /** score the end-of-text token after each program too (default true) */
  appendEos?: boolean;
  signal?: AbortSignal;
}

export async function programLogLikelihood(
  lm: OnnxCausalLM,
  pairs: readonly PromptProgram[],
  options: LogLikelihoodOptions = {},
): Promise<LogLikelihoodSummary> {
  if (pairs.length === 0) throw badRequestFailure('log-likelihood of no (prompt, program) pairs');
  const { tokenizer, config } = lm.vocabulary;
  const eos = config.eosTokenIds[0];
  const appendEos = options.appendEos ?? true;
  if (eos === undefined) throw badRequestFailure('the model config names no eos_token_id');
  const scored: ProgramLogLikelihood[] = [];
  for (const [i, pair] of pairs.entries()) {
    // An empty prompt still needs a first token to predict from: the start-of-text (= EOS, as in GPT-2).
    const prompt = pair.prompt ? tokenizer.encode(pair.prompt) : [eos];
    const program = [...tokenizer.encode(pair.program), ...(appendEos ? [eos] : [])];
    let ids = [...prompt, ...program];
    const limit = config.maxPositions;
    const truncated = limit !== undefined && ids.length > limit;
    if (truncated) ids = ids.slice(0, limit);
    if (ids.length <= prompt.length) {
      throw badRequestFailure(`pair ${i}: the prompt (${prompt.length} tokens) fills the model's context of ${limit} tokens`);
    }
    const logprobs = await lm.tokenLogprobs(ids, prompt.length, options.signal);
    const sum = logprobs.reduce((a, b) => a + b, 0);
    scored.push({ tokens: logprobs.length, sumLogprob: sum, meanLogprob: sum / logprobs.length, truncated });
  }
  const tokens = scored.reduce((a, p) => a + p.tokens, 0);
  const meanLogprob = scored.reduce((a, p) => a + p.sumLogprob, 0) / tokens;
  return { pairs: scored, tokens, meanLogprob, perplexity: Math.exp(-meanLogprob) };
}
