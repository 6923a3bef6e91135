import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGGREGATION_METHODS, AGGREGATORS } from '../../activities/crowd/aggregation';
import { parseAnswersCsv } from '../../activities/crowd/answers-csv';
import { DATASETS, datasetPath, expectedOutputs, expectMatchesCrowdKit } from './reference-fixtures';

// Every aggregator on every committed dataset against crowd-kit 1.4.2's outputs, in-process (the
// CLI test runs one dataset per method through the real command).
describe('crowd aggregation agrees with crowd-kit 1.4.2', () => {
  it('has the datasets: crowd-kit toy data and simulated annotators', () => {
    expect(DATASETS).toEqual(expect.arrayContaining(['toy-ysda', 'simple', 'bool-labels', 'sim-binary-spammer', 'sim-three-class-quoted', 'sim-five-class-numeric', 'sim-ties-sparse']));
  });

  for (const dataset of DATASETS) {
    describe(dataset, () => {
      const answers = parseAnswersCsv(fs.readFileSync(datasetPath(dataset), 'utf8'), dataset);
      const expected = expectedOutputs(dataset);
      for (const method of AGGREGATION_METHODS) {
        it(method, () => {
          expectMatchesCrowdKit(method, AGGREGATORS[method].aggregate(answers), expected[method]);
        });
      }
    });
  }

  it('is deterministic: the same answers in give the same JSON out', () => {
    const answers = parseAnswersCsv(fs.readFileSync(datasetPath('sim-three-class-quoted'), 'utf8'));
    for (const method of AGGREGATION_METHODS) {
      expect(JSON.stringify(AGGREGATORS[method].aggregate(answers))).toBe(JSON.stringify(AGGREGATORS[method].aggregate(answers)));
    }
  });
});
