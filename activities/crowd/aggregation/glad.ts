import { AnswerIndex, emptyTable, type AggregationResult, type Answer } from './answers';
import { minimizeConjugateGradient } from './conjugate-gradient';
import { expit, logNormalDensity, softplus } from './special-functions';
import { KahanGroupSums, pairwiseSum } from './summation';

export interface GladOptions {
  /** most EM iterations (default 100) */
  nIter?: number;
  /** stop when Q per (answer, label) row improves by less than this (default 1e-5) */
  tol?: number;
  /** conjugate-gradient iterations per M-step (default 25) and its gradient tolerance (default 1e-2) */
  mStepMaxIter?: number;
  mStepTol?: number;
}

/**
 * GLAD (Whitehill et al. 2009): P(worker w answers task t correctly) = sigmoid(alpha_w * e^beta_t),
 * wrong answers uniform over the other K - 1 labels; alpha is the worker's ability, beta the
 * task's easiness (log inverse difficulty), both with N(1, 1) priors; EM whose M-step maximises
 * the expected log-posterior Q by conjugate gradient, as crowd-kit does. Uniform class priors.
 */
export function glad(answers: readonly Answer[], options: GladOptions = {}): AggregationResult {
  const { nIter = 100, tol = 1e-5, mStepMaxIter = 25, mStepTol = 1e-2 } = options;
  const index = new AnswerIndex(answers);
  const W = index.workers.length;
  const T = index.tasks.length;
  const K = index.labels.length;
  const n = index.size;
  // With one label every answer is right; the reference's log(K - 1) is undefined there.
  const logWrongShare = K > 1 ? Math.log(K - 1) : 0;
  const logPrior = Math.log(1 / K);
  const alphaPriorMean = 1;
  const betaPriorMean = 1;

  let alphas: Float64Array = new Float64Array(W).fill(1);
  let betas: Float64Array = new Float64Array(T).fill(1);
  let posteriors = index.tasks.map(() => new Float64Array(K));

  /** per answer: (log P(right), log P(a given wrong label)) */
  const answerLogLikelihoods = (a: Float64Array, b: Float64Array) => {
    const right = new Float64Array(n);
    const wrong = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const ab = a[index.worker[i]!]! * Math.exp(b[index.task[i]!]!);
      right[i] = -softplus(-ab);
      wrong[i] = -softplus(ab) - logWrongShare;
    }
    return { right, wrong };
  };

  // crowd-kit works on one row per (answer, label), label-major; sums follow that row order.
  const sortedLabels = index.sortedLabels;
  const eStep = () => {
    const { right, wrong } = answerLogLikelihoods(alphas, betas);
    const scores = new KahanGroupSums(T * K);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < n; i++) scores.add(index.task[i]! * K + k, k === index.label[i]! ? right[i]! : wrong[i]!);
    }
    posteriors = index.tasks.map((_, t) => {
      const shifted = Float64Array.from({ length: K }, (_, k) => scores.sums[t * K + k]! + logPrior);
      // log-sum-exp over the labels in sorted order, as the reference's per-task softmax sees them
      const max = Math.max(...shifted);
      let total = 0;
      for (const k of sortedLabels) total += Math.exp(shifted[k]! - max);
      const logSum = Math.log(total) + max;
      return shifted.map((v) => Math.exp(v - logSum));
    });
  };

  const q = (a: Float64Array, b: Float64Array) => {
    const { right, wrong } = answerLogLikelihoods(a, b);
    const rows = new Float64Array(n * K);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < n; i++) rows[k * n + i] = posteriors[index.task[i]!]![k]! * (k === index.label[i]! ? right[i]! : wrong[i]!);
    }
    let total = pairwiseSum(rows);
    total += pairwiseSum(a.map((v) => logNormalDensity(v - alphaPriorMean)));
    total += pairwiseSum(b.map((v) => logNormalDensity(v - betaPriorMean)));
    return Number.isNaN(total) ? -Infinity : total;
  };

  const split = (x: Float64Array) => [x.subarray(0, W), x.subarray(W)] as const;
  const negativeQ = (x: Float64Array) => -q(...split(x));
  const negativeGradient = (x: Float64Array) => {
    const [a, b] = split(x);
    const byWorker = new KahanGroupSums(W);
    const byTask = new KahanGroupSums(T);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < n; i++) {
        const w = index.worker[i]!;
        const t = index.task[i]!;
        const easiness = Math.exp(b[t]!);
        const sigma = expit(a[w]! * easiness);
        const weighted = posteriors[t]![k]! * ((k === index.label[i]! ? 1 : 0) - sigma);
        byTask.add(t, weighted * a[w]! * easiness);
        byWorker.add(w, weighted * easiness);
      }
    }
    const gradient = new Float64Array(W + T);
    for (let w = 0; w < W; w++) gradient[w] = -(byWorker.sums[w]! - (a[w]! - alphaPriorMean));
    for (let t = 0; t < T; t++) gradient[W + t] = -(byTask.sums[t]! - (b[t]! - betaPriorMean));
    return gradient;
  };

  eStep();
  let value = q(alphas, betas);
  let iterations = 0;
  let probas = posteriors;
  for (let iteration = 0; iteration < nIter; iteration++) {
    const last = value;
    eStep();
    probas = posteriors;
    const fit = minimizeConjugateGradient(negativeQ, negativeGradient, Float64Array.of(...alphas, ...betas), { gtol: mStepTol, maxIter: mStepMaxIter });
    alphas = Float64Array.from(fit.x.subarray(0, W));
    betas = Float64Array.from(fit.x.subarray(W));
    // The convergence test divides by the number of (answer, label) rows, as crowd-kit does.
    value = q(alphas, betas) / (n * K);
    iterations++;
    if (value - last < tol) break;
  }

  const difficulties = emptyTable<number>();
  index.tasks.forEach((task, t) => (difficulties[task] = betas[t]!));
  return {
    labels: index.argmaxLabels(probas),
    probas: index.probaTable(probas),
    skills: index.workerTable(alphas),
    difficulties,
    iterations,
  };
}
