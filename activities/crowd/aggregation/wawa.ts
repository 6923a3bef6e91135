import { AnswerIndex, type AggregationResult, type Answer } from './answers';
import { agreementWithAggregate, voteProbas } from './majority-vote';

/**
 * Worker Agreement with Aggregate: majority vote, then each worker's skill is their agreement
 * with it, then a vote weighted by those skills. skills are the first-pass agreements.
 */
export function wawa(answers: readonly Answer[]): AggregationResult {
  const index = new AnswerIndex(answers);
  const majority = index.argmaxLabels(voteProbas(index, () => 1));
  const skills = agreementWithAggregate(index, majority);
  const probas = voteProbas(index, (i) => skills[index.worker[i]!]!);
  return { labels: index.argmaxLabels(probas), probas: index.probaTable(probas), skills: index.workerTable(skills) };
}
