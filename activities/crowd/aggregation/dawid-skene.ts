import { AnswerIndex, emptyTable, matrix, type AggregationResult, type Answer, type Table } from './answers';
import { voteProbas } from './majority-vote';

/** Floor for probabilities before logs (crowd-kit's 1e-10). */
export const PROBABILITY_FLOOR = 1e-10;

export interface EmOptions {
  /** most EM iterations (crowd-kit default 100) */
  nIter?: number;
  /** stop when the evidence lower bound per answer improves by less than this (default 1e-5) */
  tol?: number;
}

/**
 * The (worker, observed label) pairs of a table: a confusion matrix has one row per pair that
 * occurs (a worker's matrix is normalised over the labels that worker used).
 */
export class WorkerLabelPairs {
  readonly pairOf: Int32Array;
  readonly worker: number[] = [];
  readonly label: number[] = [];

  constructor(index: AnswerIndex) {
    this.pairOf = new Int32Array(index.size);
    const codes = new Map<number, number>();
    for (let i = 0; i < index.size; i++) {
      const key = index.worker[i]! * index.labels.length + index.label[i]!;
      let code = codes.get(key);
      if (code === undefined) {
        code = this.worker.length;
        codes.set(key, code);
        this.worker.push(index.worker[i]!);
        this.label.push(index.label[i]!);
      }
      this.pairOf[i] = code;
    }
  }

  get size(): number {
    return this.worker.length;
  }
}

/** Column means of the task posteriors. */
export function classPriors(probas: readonly Float64Array[], classes: number): Float64Array {
  const priors = new Float64Array(classes);
  for (const row of probas) for (let k = 0; k < classes; k++) priors[k]! += row[k]!;
  return priors.map((p) => p / probas.length);
}

/**
 * DS M-step: errors[pair][true class] = expected count of the pair's answers given that class,
 * floored, then normalised over each worker's observed labels.
 */
function confusionMatrices(index: AnswerIndex, pairs: WorkerLabelPairs, probas: readonly Float64Array[]): Float64Array[] {
  const K = index.labels.length;
  const errors = matrix(pairs.size, K);
  for (let i = 0; i < index.size; i++) {
    const row = errors[pairs.pairOf[i]!]!;
    const p = probas[index.task[i]!]!;
    for (let k = 0; k < K; k++) row[k]! += p[k]!;
  }
  const totals = matrix(index.workers.length, K);
  errors.forEach((row, pair) => {
    for (let k = 0; k < K; k++) {
      row[k] = Math.max(row[k]!, PROBABILITY_FLOOR);
      totals[pairs.worker[pair]!]![k]! += row[k]!;
    }
  });
  errors.forEach((row, pair) => {
    const total = totals[pairs.worker[pair]!]!;
    for (let k = 0; k < K; k++) row[k] = row[k]! / total[k]!;
  });
  return errors;
}

/** E-step: task posteriors from priors and per-pair error rows, in log2 space, max-shifted. */
export function taskPosteriors(index: AnswerIndex, pairs: WorkerLabelPairs, priors: Float64Array, errors: readonly Float64Array[]): Float64Array[] {
  const K = index.labels.length;
  const logPriors = priors.map((p) => Math.log2(Math.max(p, PROBABILITY_FLOOR)));
  const probas = index.tasks.map(() => Float64Array.from(logPriors));
  for (let i = 0; i < index.size; i++) {
    const row = probas[index.task[i]!]!;
    const error = errors[pairs.pairOf[i]!]!;
    for (let k = 0; k < K; k++) row[k]! += Math.log2(error[k]!);
  }
  for (const row of probas) {
    const max = Math.max(...row);
    let total = 0;
    for (let k = 0; k < K; k++) total += row[k] = 2 ** (row[k]! - max);
    for (let k = 0; k < K; k++) row[k] = row[k]! / total;
  }
  return probas;
}

/**
 * Evidence lower bound: expected complete-data log-likelihood plus the posteriors' entropy.
 * Like the reference, it floors the posteriors in place (so returned posteriors are floored at
 * 1e-10; the difference is below any tolerance but keeps the outputs identical).
 */
function evidenceLowerBound(index: AnswerIndex, pairs: WorkerLabelPairs, probas: Float64Array[], priors: Float64Array, errors: readonly Float64Array[]): number {
  const K = index.labels.length;
  const logPriors = priors.map((p) => Math.log(Math.max(p, PROBABILITY_FLOOR)));
  let joint = 0;
  for (let i = 0; i < index.size; i++) {
    const p = probas[index.task[i]!]!;
    const error = errors[pairs.pairOf[i]!]!;
    for (let k = 0; k < K; k++) joint += p[k]! * (Math.log(error[k]!) + logPriors[k]!);
  }
  let entropy = 0;
  for (const row of probas) {
    for (let k = 0; k < K; k++) {
      row[k] = Math.max(row[k]!, PROBABILITY_FLOOR);
      entropy -= Math.log(row[k]!) * row[k]!;
    }
  }
  return joint + entropy;
}

/**
 * The EM loop both Dawid-Skene variants share: start from majority-vote posteriors, alternate
 * E-step and the variant's M-step until the ELBO per answer stops improving by `tol`.
 */
export function runDawidSkeneEm<M>(
  index: AnswerIndex,
  pairs: WorkerLabelPairs,
  options: EmOptions,
  mStep: (probas: readonly Float64Array[]) => { model: M; errors: Float64Array[] },
): { probas: Float64Array[]; priors: Float64Array; model: M; errors: Float64Array[]; iterations: number } {
  const nIter = options.nIter ?? 100;
  const tol = options.tol ?? 1e-5;
  const K = index.labels.length;
  let probas = voteProbas(index, () => 1);
  let priors = classPriors(probas, K);
  let { model, errors } = mStep(probas);
  let loss = -Infinity;
  let iterations = 0;
  for (let iteration = 0; iteration < nIter; iteration++) {
    probas = taskPosteriors(index, pairs, priors, errors);
    priors = classPriors(probas, K);
    ({ model, errors } = mStep(probas));
    const newLoss = evidenceLowerBound(index, pairs, probas, priors, errors) / index.size;
    iterations++;
    if (newLoss - loss < tol) break;
    loss = newLoss;
  }
  return { probas, priors: priors.map((p) => Math.max(p, PROBABILITY_FLOOR)), model, errors, iterations };
}

/** errors[worker][observed label][true label] from per-pair rows */
export function errorTable(index: AnswerIndex, pairs: WorkerLabelPairs, errors: readonly Float64Array[]): Table<Table<Table<number>>> {
  const out = emptyTable<Table<Table<number>>>();
  errors.forEach((row, pair) => {
    const worker = index.workers[pairs.worker[pair]!]!;
    const byObserved = (out[worker] ??= emptyTable<Table<number>>());
    byObserved[index.labels[pairs.label[pair]!]!] = index.labelTable(row);
  });
  return out;
}

/**
 * Dawid & Skene (1979): a full confusion matrix per worker, fitted by EM from majority-vote
 * posteriors. Labels: the most probable class (ties to the label that sorts first).
 */
export function dawidSkene(answers: readonly Answer[], options: EmOptions = {}): AggregationResult {
  const index = new AnswerIndex(answers);
  const pairs = new WorkerLabelPairs(index);
  const fit = runDawidSkeneEm(index, pairs, options, (probas) => ({ model: null, errors: confusionMatrices(index, pairs, probas) }));
  return {
    labels: index.argmaxLabels(fit.probas),
    probas: index.probaTable(fit.probas),
    priors: index.labelTable(fit.priors),
    errors: errorTable(index, pairs, fit.errors),
    iterations: fit.iterations,
  };
}
