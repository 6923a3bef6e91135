import { describe, expect, it } from 'vitest';
import { estimateReliability, linePosteriors, majorityLines, weightOf, type ItemLabels, type LabelledItem } from '../../loops/crlhf/activities/crowd-reliability';
import { SeededRandom } from '../../activities/simulation/seeded-random';

/**
 * Reliability and consensus on a seeded synthetic crowd: the estimates track the set accuracies,
 * an always-correct annotator and a spammer weigh (about) nothing, and the consensus is more
 * accurate than majority vote on the items' known lines.
 */
const CROWD: Array<[string, number | 'spammer' | 'always-correct']> = [
  ['ana', 0.95], ['ben', 0.9], ['chen', 0.8], ['spam', 'spammer'], ['sam', 'spammer'], ['yes', 'always-correct'],
];

function synthetic(seed: number, itemsN = 120, honeypots = 30) {
  const rng = new SeededRandom('reliability-test', seed);
  const items: Array<LabelledItem & { truth: boolean[] }> = [];
  const subs: ItemLabels[] = [];
  for (let i = 0; i < itemsN; i++) {
    const n = 4 + rng.int(8);
    const truth = Array.from({ length: n }, () => rng.next() > 0.2);
    items.push({ itemId: `i${i}`, lineCount: n, knownCorrect: i < honeypots ? truth : undefined, truth });
    const chosen = [...CROWD].sort(() => rng.next() - 0.5).slice(0, 3);
    for (const [annotator, kind] of chosen) {
      subs.push({
        itemId: `i${i}`,
        annotator,
        labels: truth.map((t) => (kind === 'always-correct' ? 'correct' : kind === 'spammer' ? (rng.next() < 0.5 ? 'correct' : 'wrong') : (rng.next() < kind) === t ? 'correct' : 'wrong')),
      });
    }
  }
  return { items, subs };
}

describe('cRLHF reliability and consensus', () => {
  it('estimates track set reliabilities; the always-correct annotator and the spammers sit near 0.5', () => {
    const { items, subs } = synthetic(1);
    const { annotators, shareCorrect } = estimateReliability(items, subs, { agreementRounds: 10 });
    expect(Math.abs(annotators.get('ana')!.estimated - 0.95)).toBeLessThan(0.05);
    expect(Math.abs(annotators.get('ben')!.estimated - 0.9)).toBeLessThan(0.05);
    expect(Math.abs(annotators.get('chen')!.estimated - 0.8)).toBeLessThan(0.06);
    for (const a of ['spam', 'sam', 'yes']) expect(Math.abs(annotators.get(a)!.estimated - 0.5)).toBeLessThan(0.08);
    // plain honeypot accuracy would rate the always-correct annotator by the share of correct lines
    expect(annotators.get('yes')!.honeypotAccuracy!).toBeGreaterThan(0.7);
    expect(shareCorrect).toBeGreaterThan(0.7);
    expect(shareCorrect).toBeLessThan(0.9);
    expect(weightOf(0.3)).toBe(0.5);
  });

  it('the consensus beats majority vote on the known lines, with each item held out of the estimate', () => {
    let consensus = 0;
    let majority = 0;
    let lines = 0;
    for (const seed of [1, 2]) {
      const { items, subs } = synthetic(seed, 80, 20);
      const mv = majorityLines(subs);
      for (const item of items.filter((i) => i.knownCorrect)) {
        const held = estimateReliability(items, subs, { agreementRounds: 10, hide: new Set([item.itemId]) });
        const p = new Map([...held.annotators].map(([a, r]) => [a, r.estimated]));
        const post = linePosteriors('consensus', subs.filter((s) => s.itemId === item.itemId), p, held.shareCorrect).get(item.itemId)!;
        item.truth.forEach((t, i) => {
          lines++;
          if (post[i]! >= 0.5 === t) consensus++;
          if (mv.get(item.itemId)![i] === t) majority++;
        });
      }
    }
    expect(consensus / lines).toBeGreaterThan(majority / lines + 0.03);
  });

  it('offers the standard aggregators over line labels', () => {
    const { subs } = synthetic(3, 20, 0);
    for (const method of ['majority-vote', 'dawid-skene', 'mace'] as const) {
      const post = linePosteriors(method, subs, new Map(), 0.5);
      expect(post.size).toBe(20);
      for (const p of [...post.values()].flat()) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }
    }
  });
});
