/**
 * N-gram counting and the parts of corpus BLEU shared by the plain and the weighted n-gram match
 * (the reference's copies of NLTK's bleu_score: brevity penalty, smoothing method 1).
 */

/** N-gram -> count, in order of first occurrence (like collections.Counter over the n-grams). */
export function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  // Tokens come from a whitespace split, so a space cannot occur inside one: safe as a separator.
  for (let i = 0; i + n <= tokens.length; i++) {
    const gram = tokens.slice(i, i + n).join(' ');
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

export function sumValues(counts: Map<string, number>): number {
  let sum = 0;
  for (const value of counts.values()) sum += value;
  return sum;
}

/** The reference length closest to the hypothesis length (ties: the shorter). */
export function closestReferenceLength(referenceLengths: readonly number[], hypothesisLength: number): number {
  let best = referenceLengths[0]!;
  for (const length of referenceLengths) {
    const distance = Math.abs(length - hypothesisLength);
    const bestDistance = Math.abs(best - hypothesisLength);
    if (distance < bestDistance || (distance === bestDistance && length < best)) best = length;
  }
  return best;
}

export function brevityPenalty(closestReferenceLengthSum: number, hypothesisLengthSum: number): number {
  if (hypothesisLengthSum > closestReferenceLengthSum) return 1;
  if (hypothesisLengthSum === 0) return 0;
  return Math.exp(1 - closestReferenceLengthSum / hypothesisLengthSum);
}

export const BLEU_ORDERS = [1, 2, 3, 4] as const;
const ORDER_WEIGHT = 0.25;
const SMOOTHING_EPSILON = 0.1;

/**
 * Combines per-order (numerator, denominator) sums: 0 when nothing matches at order 1;
 * otherwise zero numerators become epsilon (smoothing method 1) and the geometric mean of the
 * precisions is scaled by the brevity penalty.
 */
export function combineOrders(numerators: readonly number[], denominators: readonly number[], brevity: number): number {
  if (numerators[0] === 0) return 0;
  let logSum = 0;
  BLEU_ORDERS.forEach((_, i) => {
    const numerator = numerators[i] === 0 ? SMOOTHING_EPSILON : numerators[i]!;
    logSum += ORDER_WEIGHT * Math.log(numerator / denominators[i]!);
  });
  return brevity * Math.exp(logSum);
}
