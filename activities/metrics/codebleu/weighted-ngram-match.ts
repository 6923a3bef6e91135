import { BLEU_ORDERS, brevityPenalty, combineOrders, ngramCounts, sumValues } from './ngram';

const KEYWORD_WEIGHT = 1;
const OTHER_WEIGHT = 0.2;

/**
 * CodeBLEU's weighted n-gram match, as the reference computes it:
 * - it is a recall: counts are clipped against the hypothesis and divided by the reference's;
 * - at order 1 each reference token weighs 1 if it is a keyword, else 0.2;
 * - references are summed, not maxed over;
 * - the brevity penalty sees every reference as 2 tokens long (the reference measures the
 *   length of its [tokens, weights] pair), so it only penalises hypotheses of 0 or 1 token.
 */
export function weightedNgramMatch(
  references: readonly (readonly string[])[][],
  hypotheses: readonly (readonly string[])[],
  keywords: ReadonlySet<string>,
): number {
  const numerators = BLEU_ORDERS.map(() => 0);
  const denominators = BLEU_ORDERS.map(() => 0);
  let hypothesisLengths = 0;
  let referenceLengths = 0;
  hypotheses.forEach((hypothesis, h) => {
    BLEU_ORDERS.forEach((n, i) => {
      const hypothesisCounts = ngramCounts(hypothesis, n);
      for (const reference of references[h]!) {
        const referenceCounts = ngramCounts(reference, n);
        const clipped = new Map<string, number>();
        for (const [gram, count] of referenceCounts) clipped.set(gram, Math.min(count, hypothesisCounts.get(gram) ?? 0));
        if (n === 1) {
          const weight = (token: string): number => (keywords.has(token) ? KEYWORD_WEIGHT : OTHER_WEIGHT);
          numerators[i]! += weightedSum(clipped, weight);
          denominators[i]! += Math.max(1, weightedSum(referenceCounts, weight));
        } else {
          numerators[i]! += sumValues(clipped);
          denominators[i]! += Math.max(1, sumValues(referenceCounts));
        }
      }
    });
    hypothesisLengths += hypothesis.length;
    referenceLengths += 2;
  });
  return combineOrders(numerators, denominators, brevityPenalty(referenceLengths, hypothesisLengths));
}

function weightedSum(counts: Map<string, number>, weight: (token: string) => number): number {
  let sum = 0;
  for (const [token, count] of counts) sum += count * weight(token);
  return sum;
}
