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
 * The walk runs over the probabilities sorted by a native numeric sort, and only the drawn
 * rank is mapped back to its token: sorting token ids with a comparator took a quarter of
 * generation's time. The draw is the same as walking ids sorted by probability, ties by id.
 */
export function pickToken(logits: ArrayLike<number>, params: SamplingParams, rng: SeededRandom): number {
  if (params.temperature <= 0) return argmax(logits);
  const probs = logSoftmax(Float64Array.from(logits, (x) => x / params.temperature));
  for (let i = 0; i < probs.length; i++) probs[i] = Math.exp(probs[i]!);
  const sorted = probs.slice().sort().reverse();
  let kept = 0;
  let mass = 0;
  while (kept < sorted.length && (kept === 0 || mass < params.topP)) mass += sorted[kept++]!;
  let u = rng.next() * mass;
  for (let rank = 0; rank < kept; rank++) {
    u -= sorted[rank]!;
    if (u < 0) return tokenAtRank(probs, sorted, rank);
  }
  return tokenAtRank(probs, sorted, kept - 1);
}

/** The token at `rank` of `sorted` (probabilities, descending); equal probabilities rank by token id. */
function tokenAtRank(probs: Float64Array, sorted: Float64Array, rank: number): number {
  const value = sorted[rank]!;
  let before = 0;
  for (let r = rank - 1; r >= 0 && sorted[r] === value; r--) before++;
  for (let id = 0; id < probs.length; id++) {
    if (probs[id] === value && before-- === 0) return id;
  }
  throw new Error(`pickToken: no token has probability ${value}`);
}
