import { AnswerIndex, matrix, type AggregationResult, type Answer, type Table } from './answers';

/**
 * Weighted votes normalised per task: probas[t][k] = sum of the weights of answers k on t over
 * the sum of all weights on t. A task whose weights sum to zero gets NaN (the reference does too).
 */
export function voteProbas(index: AnswerIndex, weight: (answer: number) => number): Float64Array[] {
  const probas = matrix(index.tasks.length, index.labels.length);
  for (let i = 0; i < index.size; i++) probas[index.task[i]!]![index.label[i]!]! += weight(i);
  for (const row of probas) {
    const total = row.reduce((s, v) => s + v, 0);
    for (let k = 0; k < row.length; k++) row[k] = row[k]! / total;
  }
  return probas;
}

/**
 * Each worker's share of answers equal to the aggregated label of their task. A worker who gave
 * the same label to the same task twice counts once (crowd-kit's get_accuracy drops such
 * duplicates).
 */
export function agreementWithAggregate(index: AnswerIndex, labels: Table<string>): Float64Array {
  const hits = new Float64Array(index.workers.length);
  const counts = new Float64Array(index.workers.length);
  const seen = new Set<string>();
  for (let i = 0; i < index.size; i++) {
    const key = `${index.task[i]} ${index.worker[i]} ${index.label[i]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const w = index.worker[i]!;
    counts[w]! += 1;
    if (labels[index.tasks[index.task[i]!]!] === index.labels[index.label[i]!]) hits[w]! += 1;
  }
  return hits.map((h, w) => h / counts[w]!);
}

/**
 * The unweighted vote: each task gets the label with the most answers; a tie goes to the label
 * that appeared first in the answers (crowd-kit 1.4.2's MajorityVote under pandas 3).
 */
export function majorityLabels(index: AnswerIndex): { probas: Float64Array[]; labels: Table<string> } {
  const probas = voteProbas(index, () => 1);
  return { probas, labels: index.argmaxLabels(probas, index.appearanceLabels) };
}

/** Majority vote; skills = each worker's agreement with the majority. */
export function majorityVote(answers: readonly Answer[]): AggregationResult {
  const index = new AnswerIndex(answers);
  const { probas, labels } = majorityLabels(index);
  return { labels, probas: index.probaTable(probas), skills: index.workerTable(agreementWithAggregate(index, labels)) };
}
