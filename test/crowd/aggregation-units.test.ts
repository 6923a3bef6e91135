import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGGREGATION_METHODS, aggregate, dawidSkene, isAggregationMethod, mace, majorityVote, oneCoinDawidSkene, wawa, type Answer } from '../../activities/crowd/aggregation';
import { columnOrder } from '../../activities/crowd/aggregation/answers';
import { minimizeConjugateGradient } from '../../activities/crowd/aggregation/conjugate-gradient';
import { NumpyRandomState } from '../../activities/crowd/aggregation/numpy-random';
import { digamma } from '../../activities/crowd/aggregation/special-functions';
import { CROWD_FIXTURES } from './reference-fixtures';

const table = (rows: string): Answer[] =>
  rows
    .trim()
    .split('\n')
    .map((line) => {
      const [task, worker, label] = line.trim().split(/\s+/);
      return { task: task!, worker: worker!, label: label! };
    });

describe('majority vote and Wawa by hand', () => {
  const answers = table(`
    t1 w1 a
    t1 w2 a
    t1 w3 b
    t2 w1 b
    t2 w2 c
    t2 w3 c
    t3 w1 c
    t3 w3 b`);

  it('counts votes, fills unseen labels with 0, breaks ties by first appearance', () => {
    const result = majorityVote(answers);
    expect(result.labels).toEqual({ t1: 'a', t2: 'c', t3: 'b' });
    expect(result.probas.t1).toEqual({ a: 2 / 3, b: 1 / 3, c: 0 });
    expect(result.probas.t3).toEqual({ a: 0, b: 0.5, c: 0.5 });
    // w1 agrees on t1 only, w2 on t1 and t2, w3 on t2 and t3 (t3's tie went to b)
    expect(result.skills).toEqual({ w1: 1 / 3, w2: 1, w3: 2 / 3 });
  });

  it('Wawa weighs each vote by the worker’s agreement with the majority', () => {
    const result = wawa(answers);
    expect(result.skills).toEqual({ w1: 1 / 3, w2: 1, w3: 2 / 3 });
    // t3: c from w1 (weight 1/3) against b from w3 (weight 2/3)
    expect(result.probas.t3!.b).toBeCloseTo(2 / 3, 15);
    expect(result.labels.t3).toBe('b');
  });

  it('orders numeric labels as numbers and other labels by code point', () => {
    expect(['10', '2', '1'].sort(columnOrder(['10', '2', '1']))).toEqual(['1', '2', '10']);
    expect(['b', 'B', 'a', '10', '2'].sort(columnOrder(['b', 'B', 'a', '10', '2']))).toEqual(['10', '2', 'B', 'a', 'b']);
  });

  it('breaks a majority tie by first appearance and a weighted tie by column order, as crowd-kit does', () => {
    expect(majorityVote(table('t1 w1 10\nt1 w2 2')).labels.t1).toBe('10');
    expect(majorityVote(table('t1 w1 2\nt1 w2 10')).labels.t1).toBe('2');
    // Both majorities go to 10 (seen first), so both workers agree once: skills 0.5 and 0.5, and
    // the weighted ties go to 2, first in numeric column order.
    const crossed = table('t1 w1 10\nt1 w2 2\nt2 w1 2\nt2 w2 10');
    expect(majorityVote(crossed).labels).toEqual({ t1: '10', t2: '10' });
    expect(wawa(crossed)).toMatchObject({ labels: { t1: '2', t2: '2' }, skills: { w1: 0.5, w2: 0.5 } });
  });

  it('names every method in the registry', () => {
    expect(AGGREGATION_METHODS).toEqual(['majority-vote', 'wawa', 'dawid-skene', 'one-coin-dawid-skene', 'glad', 'mace']);
    expect(isAggregationMethod('glad')).toBe(true);
    expect(isAggregationMethod('zbs')).toBe(false);
    for (const method of AGGREGATION_METHODS) {
      const result = aggregate(method, answers);
      for (const probas of Object.values(result.probas)) expect(Object.values(probas).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 9);
    }
  });

  it('refuses an empty table', () => {
    expect(() => majorityVote([])).toThrow(/no answers/);
  });
});

describe('Dawid-Skene variants', () => {
  // Three perfect workers and one who always answers the opposite.
  const answers: Answer[] = [];
  for (let t = 0; t < 6; t++) {
    const truth = t % 2 ? 'yes' : 'no';
    for (const w of ['a', 'b', 'c']) answers.push({ task: `t${t}`, worker: w, label: truth });
    answers.push({ task: `t${t}`, worker: 'flipper', label: truth === 'yes' ? 'no' : 'yes' });
  }

  it('learns a flipped confusion matrix; its rows are distributions over observed labels', () => {
    const result = dawidSkene(answers);
    expect(result.labels).toEqual({ t0: 'no', t1: 'yes', t2: 'no', t3: 'yes', t4: 'no', t5: 'yes' });
    expect(result.errors!.flipper!.yes!.no).toBeGreaterThan(0.999);
    expect(result.errors!.a!.yes!.yes).toBeGreaterThan(0.999);
    for (const matrix of Object.values(result.errors!)) {
      for (const trueLabel of ['no', 'yes']) expect(Object.values(matrix).reduce((s, row) => s + row[trueLabel]!, 0)).toBeCloseTo(1, 12);
    }
    expect(result.priors).toEqual({ no: expect.closeTo(0.5, 9), yes: expect.closeTo(0.5, 9) });
  });

  it('one-coin gives the flipper accuracy near 0 and the others near 1', () => {
    const result = oneCoinDawidSkene(answers);
    expect(result.skills!.flipper).toBeLessThan(0.01);
    expect(result.skills!.a).toBeGreaterThan(0.99);
    expect(result.errors!.flipper!.yes).toEqual({ no: result.errors!.flipper!.no!.yes, yes: result.errors!.flipper!.no!.no });
  });

  it('MACE reproduces crowd-kit’s count layout by default; alignStrategyCounts keeps counts with their worker', () => {
    // First-appearance order equals sorted order here, so both layouts are the same model.
    expect(mace(answers, { alignStrategyCounts: true })).toEqual(mace(answers));
    // Workers first seen in non-sorted order: the layouts differ.
    const shuffled = answers.map((a) => ({ ...a, worker: { a: 'z', b: 'y', c: 'x', flipper: 'w' }[a.worker]! }));
    expect(mace(shuffled, { alignStrategyCounts: true }).spamming).not.toEqual(mace(shuffled).spamming);
  });

  it('MACE marks the always-same-label worker as spamming', () => {
    const constant = answers.concat(Array.from({ length: 6 }, (_, t) => ({ task: `t${t}`, worker: 'always-no', label: 'no' })));
    const result = mace(constant);
    expect(result.labels.t1).toBe('yes');
    expect(result.spamming!['always-no']![0]).toBeGreaterThan(result.spamming!.a![0]);
  });
});

describe('numerics against numpy / scipy (test/fixtures/crowd/numeric-reference.json)', () => {
  const reference = JSON.parse(fs.readFileSync(path.join(CROWD_FIXTURES, 'numeric-reference.json'), 'utf8')) as {
    random_sample: Record<string, number[]>;
    random_sample_seed7_after_1000: number[];
    digamma: { x: number[]; y: number[] };
    conjugate_gradient_rosenbrock: { x0: number[]; gtol: number; maxiter: number | null; x: number[]; nit: number; status: number }[];
  };

  it('NumpyRandomState(seed).randomSample() is numpy RandomState.random_sample, bit for bit', () => {
    for (const [seed, values] of Object.entries(reference.random_sample)) {
      const random = new NumpyRandomState(Number(seed));
      expect(values.map(() => random.randomSample())).toEqual(values);
    }
    const random = new NumpyRandomState(7);
    for (let i = 0; i < 1000; i++) random.randomSample();
    expect(reference.random_sample_seed7_after_1000.map(() => random.randomSample())).toEqual(reference.random_sample_seed7_after_1000);
  });

  it('digamma agrees with scipy.special.digamma to 1e-13 relative', () => {
    reference.digamma.x.forEach((x, i) => {
      const y = reference.digamma.y[i]!;
      expect(Math.abs(digamma(x) - y)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(y)));
    });
  });

  it('conjugate gradient takes scipy CG’s iterations on the Rosenbrock function (incl. line-search fallbacks)', () => {
    const rosen = (x: Float64Array) => {
      let s = 0;
      for (let i = 0; i < x.length - 1; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
      return s;
    };
    const rosenDer = (x: Float64Array) => {
      const d = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        if (i > 0) d[i]! += 200 * (x[i]! - x[i - 1]! ** 2);
        if (i < x.length - 1) d[i]! += -400 * x[i]! * (x[i + 1]! - x[i]! ** 2) - 2 * (1 - x[i]!);
      }
      return d;
    };
    for (const ref of reference.conjugate_gradient_rosenbrock) {
      const result = minimizeConjugateGradient(rosen, rosenDer, Float64Array.from(ref.x0), { gtol: ref.gtol, maxIter: ref.maxiter ?? 200 * ref.x0.length });
      expect(result.iterations).toBe(ref.nit);
      expect(result.status).toBe(ref.status === 0 ? 'converged' : 'max-iterations');
      ref.x.forEach((v, i) => expect(Math.abs(result.x[i]! - v)).toBeLessThan(1e-9));
    }
  });
});
