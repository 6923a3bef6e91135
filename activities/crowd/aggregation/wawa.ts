import { AnswerIndex, type AggregationResult, type Answer } from './answers';
import { agreementWithAggregate, majorityLabels, voteProbas } from './majority-vote';

/**
 * Worker Agreement with Aggregate, as crowd-kit 1.4.2's Wawa: majority vote (its ties to the label
 * that appeared first), then each worker's skill is their agreement with it, then a vote weighted
 * by those skills (its ties to the label that sorts first: crowd-kit sums the weights with a
 * sorting groupby). skills are the first-pass agreements.
 */
export function wawa(answers: readonly Answer[]): AggregationResult {
  const index = new AnswerIndex(answers);
  const { labels: majority } = majorityLabels(index);
  const skills = agreementWithAggregate(index, majority);
  const probas = voteProbas(index, (i) => skills[index.worker[i]!]!);
  return { labels: index.argmaxLabels(probas), probas: index.probaTable(probas), skills: index.workerTable(skills) };
}
