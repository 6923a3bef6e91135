import { describe, expect, it } from 'vitest';
import { logSoftmax, pickToken, topK } from '../../activities/models/onnx/sampling';
import { SeededRandom } from '../../activities/simulation/seeded-random';

/** The plain nucleus draw: token ids sorted by probability (ties by id), walked in that order. */
function pickBySortingIds(logits: readonly number[], topP: number, temperature: number, rng: SeededRandom): number {
  const probs = logSoftmax(logits.map((x) => x / temperature)).map(Math.exp);
  const order = topK(probs, probs.length);
  let kept = 0;
  let mass = 0;
  while (kept < order.length && (kept === 0 || mass < topP)) mass += probs[order[kept++]!]!;
  let u = rng.next() * mass;
  for (let i = 0; i < kept; i++) {
    u -= probs[order[i]!]!;
    if (u < 0) return order[i]!;
  }
  return order[kept - 1]!;
}

describe('pickToken', () => {
  // Recorded learning campaigns were sampled by the plain draw; the fast one must give the same tokens.
  it('draws exactly the token the plain sort-the-ids draw gives, ties and nucleus cut included', () => {
    const shapes = new SeededRandom('logit-shapes');
    let differ = 0;
    const drawn = new Set<number>();
    for (let trial = 0; trial < 3000; trial++) {
      const vocab = 2 + Math.floor(shapes.next() * 300);
      const spread = [0.5, 4, 20][trial % 3]!;
      // every fourth row is coarse, so many tokens share a probability
      const coarse = trial % 4 === 0;
      const logits = Array.from({ length: vocab }, () => (coarse ? Math.round(shapes.next() * 3) : shapes.next() * spread));
      const topP = [1, 0.95, 0.5, 0.1][trial % 4]!;
      const temperature = [0.8, 1, 0.3][trial % 3]!;
      const fast = pickToken(logits, { temperature, topP }, new SeededRandom('draw', trial));
      const plain = pickBySortingIds(logits, topP, temperature, new SeededRandom('draw', trial));
      if (fast !== plain) differ++;
      drawn.add(fast);
    }
    expect(differ).toBe(0);
    expect(drawn.size).toBeGreaterThan(50);
  });

  it('is greedy at temperature 0 and never leaves the nucleus', () => {
    expect(pickToken([0, 3, 1], { temperature: 0, topP: 1 }, new SeededRandom('g'))).toBe(1);
    // topP 0.5 over probabilities ~[0.84, 0.11, 0.04]: only the first token is kept
    for (let i = 0; i < 200; i++) expect(pickToken([3, 1, 0], { temperature: 1, topP: 0.5 }, new SeededRandom('n', i))).toBe(0);
  });
});
