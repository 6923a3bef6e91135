import { describe, expect, it } from 'vitest';
import { passAtK, passAtKForTask } from '../../common/pass-at-k';

describe('unbiased pass@k (Codex paper)', () => {
  it('matches hand-computed values', () => {
    // n=5, c=2, k=1: 1 - C(3,1)/C(5,1) = 1 - 3/5 = 0.4
    expect(passAtKForTask(5, 2, 1)).toBeCloseTo(0.4, 12);
    // n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7
    expect(passAtKForTask(5, 2, 2)).toBeCloseTo(0.7, 12);
    // n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252 = 0.916666...
    expect(passAtKForTask(10, 3, 5)).toBeCloseTo(1 - 21 / 252, 12);
    // n=30, c=1, k=10: 1 - C(29,10)/C(30,10) = 10/30
    expect(passAtKForTask(30, 1, 10)).toBeCloseTo(1 / 3, 12);
  });

  it('is 0 with no passing sample and 1 when every k-subset holds a pass', () => {
    expect(passAtKForTask(10, 0, 5)).toBe(0);
    expect(passAtKForTask(10, 6, 5)).toBe(1);
    expect(passAtKForTask(1, 1, 1)).toBe(1);
  });

  it('pass@1 equals the pass fraction', () => {
    for (let c = 0; c <= 7; c++) expect(passAtKForTask(7, c, 1)).toBeCloseTo(c / 7, 12);
  });

  it('averages over tasks', () => {
    expect(passAtK([{ n: 5, c: 2 }, { n: 5, c: 0 }, { n: 1, c: 1 }], 1)).toBeCloseTo((0.4 + 0 + 1) / 3, 12);
  });

  it('rejects impossible inputs instead of guessing', () => {
    expect(() => passAtKForTask(3, 1, 5)).toThrow(/at least 5 samples/);
    expect(() => passAtKForTask(3, 4, 1)).toThrow(RangeError);
    expect(() => passAtK([], 1)).toThrow(/zero tasks/);
  });
});
