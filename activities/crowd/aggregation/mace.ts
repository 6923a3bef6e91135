import { AnswerIndex, emptyTable, matrix, type AggregationResult, type Answer, type Table } from './answers';
import { NumpyRandomState } from './numpy-random';
import { digamma } from './special-functions';

export interface MaceOptions {
  /** EM iterations (crowd-kit default 50; no convergence test) */
  nIter?: number;
  /** 'vb' (variational Bayes, the default) or 'em' (smoothed maximum likelihood) */
  method?: 'vb' | 'em';
  /** numpy RandomState seed of the initialisation (default 0) */
  randomState?: number;
  /** Beta prior of the spamming/knowing weights (defaults 0.5, 0.5) */
  alpha?: number;
  beta?: number;
  /** width of the uniform initial noise (default 0.5: initial weights are uniform on [1, 2.5)) */
  defaultNoise?: number;
  /**
   * crowd-kit 1.4.2 stores the expected (worker, label) counts in sorted worker/label order but
   * reads them back by first-appearance codes, which changes its results whenever the two orders
   * differ. false (the default) reproduces that; true keeps every count with its own worker and
   * label (the model as published).
   */
  alignStrategyCounts?: boolean;
}

/** Row-wise variational normalisation: exp(psi(x + prior)) / exp(psi(sum(x + prior))). */
function variationalNormalize(counts: readonly Float64Array[], prior: number): Float64Array[] {
  return counts.map((row) => {
    const norm = Math.exp(digamma(row.reduce((s, v) => s + v + prior, 0)));
    return row.map((v) => Math.exp(digamma(v + prior)) / norm);
  });
}

/** Row-wise (x + smoothing) / sum(x + smoothing), 0 where that sum is 0. */
function smoothedNormalize(counts: readonly Float64Array[], smoothing: number): Float64Array[] {
  return counts.map((row) => {
    const norm = row.reduce((s, v) => s + v + smoothing, 0);
    return row.map((v) => (Math.abs(norm) <= 1e-8 ? 0 : (v + smoothing) / norm));
  });
}

interface MaceState {
  /** per worker (first-appearance order): [weight of spamming, weight of knowing] */
  spamming: Float64Array[];
  /** per worker row, per label column: the spamming answer distribution */
  thetas: Float64Array[];
}

interface Expectations {
  logMarginalLikelihood: number;
  /** unnormalised P(true label = k, answers of t) per task */
  gold: Float64Array[];
  strategyCounts: Float64Array[];
  knowingCounts: Float64Array[];
}

function expectations(index: AnswerIndex, { spamming, thetas }: MaceState, aligned: boolean): Expectations {
  const L = index.labels.length;
  const n = index.size;
  const gold = index.tasks.map(() => new Float64Array(L).fill(1));
  // P(answer | true k) = spam * theta[answer] + know * [answer = k]
  const spamPart = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = index.worker[i]!;
    spamPart[i] = spamming[w]![0]! * thetas[w]![index.label[i]!]!;
    const row = gold[index.task[i]!]!;
    for (let k = 0; k < L; k++) row[k]! *= spamPart[i]! + spamming[w]![1]! * (k === index.label[i]! ? 1 : 0);
  }
  for (const row of gold) for (let k = 0; k < L; k++) row[k] = row[k]! / L;
  const instance = gold.map((row) => row.reduce((s, v) => s + v, 0));
  const logMarginalLikelihood = instance.reduce((s, v) => s + Math.log(v + 1e-8), 0);

  // Expected counts of the spamming state per (worker, label), and of each state per worker.
  // crowd-kit's layout of the (worker, label) counts: see MaceOptions.alignStrategyCounts.
  const strategyCounts = matrix(index.workers.length, L);
  const knowingCounts = matrix(index.workers.length, 2);
  for (let i = 0; i < n; i++) {
    const t = index.task[i]!;
    const w = index.worker[i]!;
    const l = index.label[i]!;
    const know = spamming[w]![1]!;
    let sum = 0;
    for (let k = 0; k < L; k++) sum += gold[t]![k]! / (spamPart[i]! + know * (k === l ? 1 : 0));
    const strategy = (sum * spamPart[i]!) / instance[t]!;
    if (aligned) strategyCounts[w]![l]! += strategy;
    else strategyCounts[index.workerRank[w]!]![index.labelRank[l]!]! += strategy;
    knowingCounts[w]![0]! += strategy;
    knowingCounts[w]![1]! += (gold[t]![l]! * know) / (spamPart[i]! + know) / instance[t]!;
  }
  return { logMarginalLikelihood, gold, strategyCounts, knowingCounts };
}

/**
 * MACE (Hovy et al. 2013): each worker either knows the true label or spams from their own label
 * distribution; fitted by variational Bayes (or EM), as in crowd-kit. crowd-kit's restarts all
 * start from the same seed, so they coincide; one run gives its result. Ties go to the label
 * that appears first in the table.
 */
export function mace(answers: readonly Answer[], options: MaceOptions = {}): AggregationResult {
  const index = new AnswerIndex(answers);
  const { nIter = 50, method = 'vb', randomState = 0, alpha = 0.5, beta = 0.5, defaultNoise = 0.5, alignStrategyCounts = false } = options;
  const W = index.workers.length;
  const L = index.labels.length;

  const uniformRows = (columns: number) => {
    const random = new NumpyRandomState(randomState);
    return Array.from({ length: W }, () => {
      const row = Float64Array.from({ length: columns }, () => random.randomSample() * (1 + defaultNoise) + 1);
      const total = row.reduce((s, v) => s + v, 0);
      return row.map((v) => v / total);
    });
  };
  const state: MaceState = { spamming: uniformRows(2), thetas: uniformRows(L) };
  let step = expectations(index, state, alignStrategyCounts);
  for (let iteration = 0; iteration < nIter; iteration++) {
    if (method === 'vb') {
      state.spamming = step.knowingCounts.map((row) => {
        const norm = Math.exp(digamma(row[0]! + alpha + row[1]! + beta));
        return Float64Array.of(Math.exp(digamma(row[0]! + alpha)) / norm, Math.exp(digamma(row[1]! + beta)) / norm);
      });
      state.thetas = variationalNormalize(step.strategyCounts, 10);
    } else {
      const smoothing = 0.01 / L;
      state.spamming = smoothedNormalize(step.knowingCounts, smoothing);
      state.thetas = smoothedNormalize(step.strategyCounts, smoothing);
    }
    step = expectations(index, state, alignStrategyCounts);
  }

  const probas = step.gold.map((row) => {
    const total = row.reduce((s, v) => s + v, 0);
    return row.map((v) => v / total);
  });
  const spammingTable = emptyTable<[number, number]>();
  const thetaTable = emptyTable<Table<number>>();
  index.workers.forEach((worker, w) => {
    spammingTable[worker] = [state.spamming[w]![0]!, state.spamming[w]![1]!];
    thetaTable[worker] = index.labelTable(state.thetas[w]!);
  });
  return {
    labels: index.argmaxLabels(probas, index.appearanceLabels),
    probas: index.probaTable(probas),
    spamming: spammingTable,
    thetas: thetaTable,
    iterations: nIter,
  };
}
