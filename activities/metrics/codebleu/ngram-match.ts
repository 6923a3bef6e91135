import { BLEU_ORDERS, brevityPenalty, closestReferenceLength, combineOrders, ngramCounts, sumValues } from './ngram';

/** Corpus BLEU-4 with clipped n-gram precision (CodeBLEU's n-gram match component). */
export function ngramMatch(references: readonly (readonly string[])[][], hypotheses: readonly (readonly string[])[]): number {
  const numerators = BLEU_ORDERS.map(() => 0);
  const denominators = BLEU_ORDERS.map(() => 0);
  let hypothesisLengths = 0;
  let referenceLengths = 0;
  hypotheses.forEach((hypothesis, h) => {
    const refs = references[h]!;
    BLEU_ORDERS.forEach((n, i) => {
      const counts = ngramCounts(hypothesis, n);
      const referenceCounts = refs.map((ref) => ngramCounts(ref, n));
      let clipped = 0;
      for (const [gram, count] of counts) {
        const maxInReferences = Math.max(0, ...referenceCounts.map((rc) => rc.get(gram) ?? 0));
        clipped += Math.min(count, maxInReferences);
      }
      numerators[i]! += clipped;
      denominators[i]! += Math.max(1, sumValues(counts));
    });
    hypothesisLengths += hypothesis.length;
    referenceLengths += closestReferenceLength(
      refs.map((ref) => ref.length),
      hypothesis.length,
    );
  });
  return combineOrders(numerators, denominators, brevityPenalty(referenceLengths, hypothesisLengths));
}
