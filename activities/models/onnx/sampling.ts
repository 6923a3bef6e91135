import type { SeededRandom } from '../../simulation/seeded-random';

/** log-softmax of one row of logits, in float64 */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - logZ;
  return out;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** the `k` most likely token ids, most likely first */
export function topK(values: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b]! - values[a]! || a - b)
    .slice(0, k);
}

export interface SamplingParams {
  /** 0 = greedy */
  temperature: number;
  topP: number;
}

/**
 * Picks the next token: argmax when temperature is 0, else a draw from softmax(logits / T)
 * restricted to the smallest set of most likely tokens whose mass reaches topP (nucleus).
 */
export function pickToken(logits: ArrayLike<number>, params: SamplingParams, rng: SeededRandom): number {
  if (params.temperature <= 0) return argmax(logits);
  const scaled = Array.from(logits, (x) => x / params.temperature);
  const probs = logSoftmax(scaled).map(Math.exp);
  const order = topK(probs, probs.length);
  let kept = 0;
  let mass = 0;
  while (kept < order.length && (kept === 0 || mass < params.topP)) mass += probs[order[kept++]!]!;
  let u = rng.next() * mass;
  for (let i = 0; i < kept; i++) {
    const id = order[i]!;
    u -= probs[id]!;
    if (u < 0) return id;
  }
  return order[kept - 1]!;
}
