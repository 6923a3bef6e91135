import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { AggregationMethod, AggregationResult } from '../../activities/crowd/aggregation';

/** Where crowd-kit's outputs (scripts/crowd-kit-reference/compute.py) and their datasets live. */
export const CROWD_FIXTURES = path.join(__dirname, '..', 'fixtures', 'crowd');
export const DATASETS = fs
  .readdirSync(path.join(CROWD_FIXTURES, 'datasets'))
  .filter((f) => f.endsWith('.csv'))
  .map((f) => f.replace(/\.csv$/, ''))
  .sort();

export function datasetPath(name: string): string {
  return path.join(CROWD_FIXTURES, 'datasets', `${name}.csv`);
}

export function expectedOutputs(name: string): Record<AggregationMethod, AggregationResult> {
  const file = JSON.parse(fs.readFileSync(path.join(CROWD_FIXTURES, 'expected', `${name}.json`), 'utf8')) as { methods: Record<AggregationMethod, AggregationResult> };
  return file.methods;
}

/** Probability tolerance per method: the votes to 1e-9, EM/closed forms to 1e-4, the optimiser-driven ones to 1e-2. */
export const TOLERANCE: Record<AggregationMethod, number> = {
  'majority-vote': 1e-9,
  wawa: 1e-9,
  'dawid-skene': 1e-4,
  'one-coin-dawid-skene': 1e-4,
  glad: 1e-2,
  mace: 1e-2,
};

/** Largest absolute difference between two nested number tables with the same keys (fails on a missing key). */
export function maxAbsDiff(actual: unknown, expected: unknown, where = ''): number {
  if (typeof expected === 'number') {
    expect(typeof actual, `number at ${where}`).toBe('number');
    return Math.abs((actual as number) - expected);
  }
  const exp = expected as Record<string, unknown>;
  const act = actual as Record<string, unknown>;
  expect(Object.keys(act ?? {}).sort(), `keys at ${where || '(root)'}`).toEqual(Object.keys(exp).sort());
  return Math.max(0, ...Object.keys(exp).map((k) => maxAbsDiff(act[k], exp[k], `${where}/${k}`)));
}

/** labels exactly, probas and the method's estimates within the method's tolerance; returns the probas' max diff */
export function expectMatchesCrowdKit(method: AggregationMethod, actual: AggregationResult, expected: AggregationResult): number {
  expect(actual.labels).toEqual(expected.labels);
  const probaDiff = maxAbsDiff(actual.probas, expected.probas, 'probas');
  expect(probaDiff).toBeLessThanOrEqual(TOLERANCE[method]);
  for (const estimate of ['skills', 'priors', 'errors', 'difficulties', 'spamming', 'thetas'] as const) {
    if (expected[estimate] === undefined) continue;
    // GLAD's alpha/beta are unbounded parameters: compare them relative to their size.
    const scale = method === 'glad' ? Math.max(1, ...Object.values(expected[estimate] as Record<string, number>).map(Math.abs)) : 1;
    expect(maxAbsDiff(actual[estimate], expected[estimate], estimate) / scale, estimate).toBeLessThanOrEqual(TOLERANCE[method]);
  }
  if (expected.iterations !== undefined) expect(actual.iterations).toBe(expected.iterations);
  return probaDiff;
}
