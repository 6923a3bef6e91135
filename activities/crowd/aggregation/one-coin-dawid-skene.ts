import { AnswerIndex, type AggregationResult, type Answer } from './answers';
import { errorTable, PROBABILITY_FLOOR, runDawidSkeneEm, WorkerLabelPairs, type EmOptions } from './dawid-skene';

/**
 * One-coin Dawid-Skene: each worker has one accuracy s (the mean posterior of the labels they
 * gave) and errs uniformly: P(answer l | true k) = s if l = k, else (1 - s) / (K - 1), clipped
 * to [1e-10, 1 - 1e-10]. Same EM loop as Dawid-Skene.
 */
export function oneCoinDawidSkene(answers: readonly Answer[], options: EmOptions = {}): AggregationResult {
  const index = new AnswerIndex(answers);
  const pairs = new WorkerLabelPairs(index);
  const K = index.labels.length;
  const clip = (p: number) => Math.min(Math.max(p, PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR);
  const fit = runDawidSkeneEm(index, pairs, options, (probas) => {
    const sums = new Float64Array(index.workers.length);
    const counts = new Float64Array(index.workers.length);
    for (let i = 0; i < index.size; i++) {
      sums[index.worker[i]!]! += probas[index.task[i]!]![index.label[i]!]!;
      counts[index.worker[i]!]! += 1;
    }
    const skills = sums.map((s, w) => s / counts[w]!);
    const errors = pairs.worker.map((w, pair) => {
      const row = new Float64Array(K).fill(clip((1 - skills[w]!) / (K - 1)));
      row[pairs.label[pair]!] = clip(skills[w]!);
      return row;
    });
    return { model: skills, errors };
  });
  return {
    labels: index.argmaxLabels(fit.probas),
    probas: index.probaTable(fit.probas),
    priors: index.labelTable(fit.priors),
    skills: index.workerTable(fit.model),
    errors: errorTable(index, pairs, fit.errors),
    iterations: fit.iterations,
  };
}
