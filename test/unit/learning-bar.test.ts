import { describe, expect, it } from 'vitest';
import { formatLearningTable, learningProblems, learningReportPage, learningSummaryJson, mergeConfig, NO_FEEDBACK_CONTROL, type SeedResult } from '../../cli/learning';

/** The learning proof's judgement and its outputs (the runs themselves: test/integration/learning-*.test.ts). */
const seed = (over: Partial<SeedResult>): SeedResult => ({
  seed: 1,
  start: 0.38,
  iterations: [0.61, 0.7],
  control: [0.37, 0.4],
  controlStart: 0.385,
  wallSeconds: 300,
  controlWallSeconds: 280,
  pairWallSeconds: 310,
  campaignIds: { learning: 'l', control: 'c' },
  ...over,
});

describe('the learning bar', () => {
  it('clears a loop whose best iteration is 15 points over iteration 0 on every seed, with the control within 5', () => {
    expect(learningProblems('ilf', [seed({}), seed({ seed: 2, start: 0.3, iterations: [0.44, 0.45], control: [0.34, 0.26] })])).toEqual([]);
  });

  it('names the seed that gains too little, and the control that moves', () => {
    expect(learningProblems('rlcf', [seed({ iterations: [0.5, 0.52] })])).toEqual([expect.stringMatching(/^rlcf seed 1: best held-out pass@1 52\.0% is not 15 points over iteration 0 \(38\.0%\)/)]);
    expect(learningProblems('rlcf', [seed({ control: [0.45, 0.39] })])).toEqual([expect.stringMatching(/^rlcf seed 1: the control moved 7\.0 points/)]);
    expect(learningProblems('rlcf', [seed({ control: [0.31] })])).toEqual([expect.stringMatching(/moved -7\.0 points/)]);
    expect(learningProblems('rlcf', [seed({ control: [] })])).toEqual([expect.stringMatching(/the control ran no iteration/)]);
    expect(learningProblems('rlcf', [seed({ start: null })])).toEqual(['rlcf seed 1: no iteration-0 evaluation']);
    expect(learningProblems('rlcf', [])).toEqual(['rlcf: no seed ran']);
  });

  it('prints a table per loop and the contract line with fractions', () => {
    const table = formatLearningTable('ilf', [seed({})]);
    expect(table.split('\n')).toEqual([
      'ILF: held-out pass@1',
      '  iteration  seed 1  control 1',
      '  0           38.0%      38.5%',
      '  1           61.0%      37.0%',
      '  2           70.0%      40.0%',
      '  wall: seed 1 300 s (control 280 s, the pair 310 s)',
    ]);
    expect(JSON.parse(learningSummaryJson({ ilf: [seed({ iterations: [0.612345] })] }))).toEqual({ ilf: { seeds: [{ seed: 1, start: 0.38, iterations: [0.6123], control: [0.37, 0.4], wallSeconds: 310 }] } });
  });

  it('the report draws each curve beside its control and says whether the bar is cleared', () => {
    const page = learningReportPage({ ilf: [seed({})], rlcf: [seed({ iterations: [0.4] })] });
    expect(page).toContain('ILF: held-out pass@1');
    expect(page).toContain('control, seed 1');
    expect(page).toMatch(/clears the bar[\s\S]*misses the bar: rlcf seed 1/);
    expect(page).not.toMatch(/<script/i);
  });

  it('controls are config changes merged into the campaign', () => {
    expect(mergeConfig({ feedback: { source: 'llm' }, refiner: { kind: 'model', train: true }, iterations: 2 }, NO_FEEDBACK_CONTROL.ilf)).toEqual({
      feedback: { source: 'llm', programs: 'shuffled' },
      refiner: { kind: 'model', train: true, feedback: 'shuffled', filter: 'shuffled' },
      iterations: 2,
    });
    expect(mergeConfig({ policyUpdate: { baseModel: 'm', hyperparameters: { kl_coef: 0.1 } } }, NO_FEEDBACK_CONTROL.rlcf)).toEqual({ policyUpdate: { baseModel: 'm', hyperparameters: { kl_coef: 0.1 }, rewards: 'shuffled' } });
  });
});
