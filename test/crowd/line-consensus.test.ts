import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { krippendorffAlphaNominal, cohenKappa, fleissKappa } from '../../activities/crowd/aggregation/agreement';
import { honeypotReliability, l1LogisticReliability, LAPLACE, type HoneypotLabel } from '../../activities/crowd/aggregation/annotator-reliability';
import { CRLHF_CONSENSUS_V1, linePosterior, programConsensus, type LineLabel } from '../../activities/crowd/aggregation/line-consensus';
import type { LineVerdict } from '../../activities/crowd/aggregation/line-consensus';
import { parseAnswersCsv } from '../../activities/crowd/answers-csv';
import { CROWD_FIXTURES, DATASETS, datasetPath } from './reference-fixtures';

describe('cRLHF Bayesian line consensus', () => {
  it('moves the odds by p/(1-p) per "correct" and its inverse per "wrong"', () => {
    expect(linePosterior([])).toBe(0.5);
    // odds 1 * 0.8/0.2 = 4 -> 4/5
    expect(linePosterior([{ reliability: 0.8, verdict: 'correct' }])).toBeCloseTo(0.8, 15);
    // odds 4 * 4 / (0.9/0.1) = 16/9 -> 16/25
    expect(linePosterior([{ reliability: 0.8, verdict: 'correct' }, { reliability: 0.8, verdict: 'correct' }, { reliability: 0.9, verdict: 'wrong' }])).toBeCloseTo(16 / 25, 14);
    // a 0.5 annotator does not move it; a below-0.5 annotator's "correct" counts against
    expect(linePosterior([{ reliability: 0.5, verdict: 'wrong' }])).toBeCloseTo(0.5, 15);
    expect(linePosterior([{ reliability: 0.25, verdict: 'correct' }])).toBeCloseTo(0.25, 15);
    // many labels do not overflow
    expect(linePosterior(Array.from({ length: 2000 }, () => ({ reliability: 0.99, verdict: 'correct' as const })))).toBe(1);
    expect(() => linePosterior([{ reliability: 1, verdict: 'correct' }])).toThrow(/strictly between 0 and 1/);
  });

  const reliabilities = new Map([
    ['ann', 0.8],
    ['bob', 0.9],
  ]);

  it(`${CRLHF_CONSENSUS_V1}: the reward is the probability that every line is correct`, () => {
    const labels: LineLabel[] = [
      { line: 1, annotator: 'ann', verdict: 'correct' },
      { line: 2, annotator: 'ann', verdict: 'correct' },
      { line: 2, annotator: 'bob', verdict: 'wrong' },
    ];
    const result = programConsensus(2, labels, reliabilities);
    expect(result.kind).toBe('scored');
    if (result.kind !== 'scored') return;
    expect(result.version).toBe('crlhf-consensus-v1');
    // line 1: 0.8; line 2: odds 4 / 9 -> 4/13
    expect(result.linePosteriors[0]).toBeCloseTo(0.8, 15);
    expect(result.linePosteriors[1]).toBeCloseTo(4 / 13, 15);
    expect(result.reward).toBeCloseTo(0.8 * (4 / 13), 15);
    expect(result.labelsPerLine).toEqual([1, 2]);
  });

  it('a program without enough labels is unscorable, not 0', () => {
    const missingLine = programConsensus(3, [{ line: 1, annotator: 'ann', verdict: 'wrong' }, { line: 3, annotator: 'bob', verdict: 'correct' }], reliabilities);
    expect(missingLine).toEqual({ kind: 'unscorable', version: CRLHF_CONSENSUS_V1, labelsPerLine: [1, 0, 1], reason: 'line 2 has 0 label(s) from annotators of known reliability, needs 1' });
    expect(missingLine).not.toHaveProperty('reward');
    // labels from an annotator of unknown reliability do not count
    expect(programConsensus(1, [{ line: 1, annotator: 'stranger', verdict: 'correct' }], reliabilities).kind).toBe('unscorable');
    expect(programConsensus(0, [], reliabilities)).toMatchObject({ kind: 'unscorable', reason: 'the program has no lines' });
    const twoNeeded = programConsensus(1, [{ line: 1, annotator: 'ann', verdict: 'correct' }], reliabilities, { version: CRLHF_CONSENSUS_V1, prior: 0.5, minLabelsPerLine: 2 });
    expect(twoNeeded.kind).toBe('unscorable');
    expect(() => programConsensus(2, [{ line: 3, annotator: 'ann', verdict: 'correct' }], reliabilities)).toThrow(/line 3 of a 2-line program/);
  });
});

describe('annotator reliability from honeypots', () => {
  const honeypot = JSON.parse(fs.readFileSync(path.join(CROWD_FIXTURES, 'honeypot.json'), 'utf8')) as {
    known: Record<string, LineVerdict>;
    labels: HoneypotLabel[];
    l1_logistic_sklearn: { lambda: number; weights: Record<string, number> }[];
  };
  const known = new Map(Object.entries(honeypot.known));

  it('Laplace smoothing: (agreements + 1) / (labels + 2)', () => {
    const labels: HoneypotLabel[] = [
      { item: 'h1', annotator: 'a', verdict: 'correct' },
      { item: 'h2', annotator: 'a', verdict: 'correct' },
      { item: 'h3', annotator: 'a', verdict: 'wrong' },
      { item: 'h1', annotator: 'b', verdict: 'wrong' },
      { item: 'unknown', annotator: 'c', verdict: 'wrong' },
    ];
    const gold = new Map<string, LineVerdict>([
      ['h1', 'correct'],
      ['h2', 'correct'],
      ['h3', 'correct'],
    ]);
    const result = honeypotReliability(labels, gold, LAPLACE);
    expect(result.get('a')).toEqual({ agreements: 2, labels: 3, reliability: 3 / 5 });
    expect(result.get('b')).toEqual({ agreements: 0, labels: 1, reliability: 1 / 3 });
    // no honeypot answer: the prior mean, which leaves the odds unchanged
    expect(result.get('c')).toEqual({ agreements: 0, labels: 0, reliability: 0.5 });
    expect(honeypotReliability(labels, gold, { agree: 3, disagree: 1 }).get('b')!.reliability).toBe(3 / 5);
  });

  it('orders the simulated annotators by their true accuracy', () => {
    const p = honeypotReliability(honeypot.labels, known);
    const order = ['exact', 'good', 'fair', 'weak', 'coin', 'contrarian'].map((a) => p.get(a)!.reliability);
    expect([...order].sort((x, y) => y - x)).toEqual(order);
    expect(p.get('contrarian')!.reliability).toBeLessThan(0.5);
  });

  it('the l1 logistic fit (proximal gradient) matches scikit-learn and filters noisy annotators', () => {
    for (const reference of honeypot.l1_logistic_sklearn) {
      const fit = l1LogisticReliability(honeypot.labels, known, { lambda: reference.lambda });
      expect(fit.converged).toBe(true);
      for (const [annotator, weight] of Object.entries(reference.weights)) {
        expect(Math.abs(fit.weights.get(annotator)! - weight), `${annotator} at lambda ${reference.lambda}`).toBeLessThan(1e-6);
        if (weight === 0) {
          expect(fit.weights.get(annotator)).toBe(0);
          expect(fit.reliabilities.get(annotator)).toBe(0.5);
        }
      }
    }
  });
});

describe('agreement statistics', () => {
  it('Krippendorff’s alpha (nominal) matches PyPI krippendorff 0.9.0 on every dataset', () => {
    const reference = JSON.parse(fs.readFileSync(path.join(CROWD_FIXTURES, 'krippendorff.json'), 'utf8')) as { alpha: Record<string, number> };
    expect(Object.keys(reference.alpha).sort()).toEqual(DATASETS);
    for (const dataset of DATASETS) {
      const answers = parseAnswersCsv(fs.readFileSync(datasetPath(dataset), 'utf8'));
      expect(Math.abs(krippendorffAlphaNominal(answers) - reference.alpha[dataset]!), dataset).toBeLessThan(1e-12);
    }
  });

  it('Krippendorff’s alpha by hand: perfect agreement is 1, a single value is undefined', () => {
    const rows = (spec: string[][]) => spec.flatMap((labels, t) => labels.map((label, w) => ({ task: `t${t}`, worker: `w${w}`, label })));
    expect(krippendorffAlphaNominal(rows([['a', 'a'], ['b', 'b'], ['c']]))).toBe(1);
    // 2 units, pairs (a,b),(a,a): o_ab = o_ba = 1, o_aa = 2; n = 4, n_a = 3, n_b = 1
    // D_o = 2/4, D_e = (16 - 9 - 1) / 12 = 1/2 -> alpha = 0
    expect(krippendorffAlphaNominal(rows([['a', 'b'], ['a', 'a']]))).toBeCloseTo(0, 15);
    expect(krippendorffAlphaNominal(rows([['a', 'a'], ['a', 'a']]))).toBeNaN();
  });

  it('Cohen’s kappa: the textbook 2x2 example gives 0.4', () => {
    // 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5
    const first = [...Array(25).fill('yes'), ...Array(25).fill('no')] as string[];
    const second = [...Array(20).fill('yes'), ...Array(5).fill('no'), ...Array(10).fill('yes'), ...Array(15).fill('no')] as string[];
    expect(cohenKappa(first, second)).toBeCloseTo(0.4, 15);
    expect(cohenKappa(['a', 'b'], ['a', 'b'])).toBe(1);
    expect(() => cohenKappa(['a'], [])).toThrow(RangeError);
  });

  it('Fleiss’ kappa: Fleiss (1971) style worked example gives 0.210', () => {
    // 10 items, 14 raters, 5 categories (the standard worked example)
    const counts = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    expect(fleissKappa(counts)).toBeCloseTo(0.20993, 5);
    expect(() => fleissKappa([[1, 1], [3, 0]])).toThrow(/item 2 does not have 2 ratings/);
  });
});
