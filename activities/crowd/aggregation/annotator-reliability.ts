/**
 * Annotator reliability p_i for cRLHF's line consensus, from honeypot programs whose line labels
 * are known: the share of an annotator's honeypot labels that match the known ones, smoothed, or
 * (the paper's global variant) the weights of an l1-regularised logistic regression.
 */
import type { LineVerdict } from './line-consensus';

export interface HoneypotLabel {
  /** identifies the honeypot line, e.g. `${program}:${line}` */
  item: string;
  annotator: string;
  verdict: LineVerdict;
}

export interface SmoothingPrior {
  /** Beta(a, b) pseudo-counts of agreeing and disagreeing labels */
  agree: number;
  disagree: number;
}

/** Laplace's rule of succession: Beta(1, 1), p = (agreements + 1) / (labels + 2). */
export const LAPLACE: SmoothingPrior = { agree: 1, disagree: 1 };

export interface HoneypotReliability {
  reliability: number;
  agreements: number;
  labels: number;
}

/**
 * p_i = (agreements + a) / (labels + a + b): the posterior mean of the annotator's accuracy under
 * a Beta(a, b) prior (default Laplace). Never exactly 0 or 1, so one honeypot cannot make a
 * single label decide a line; an annotator without honeypot labels gets the prior mean (0.5
 * under Laplace: their labels do not move the odds). Labels on items without a known answer
 * are ignored.
 */
export function honeypotReliability(
  labels: readonly HoneypotLabel[],
  known: ReadonlyMap<string, LineVerdict>,
  prior: SmoothingPrior = LAPLACE,
): Map<string, HoneypotReliability> {
  if (!(prior.agree > 0 && prior.disagree > 0)) throw new RangeError('smoothing pseudo-counts must be positive');
  const counts = new Map<string, { agreements: number; labels: number }>();
  for (const label of labels) {
    const entry = counts.get(label.annotator) ?? { agreements: 0, labels: 0 };
    counts.set(label.annotator, entry);
    const answer = known.get(label.item);
    if (answer === undefined) continue;
    entry.labels++;
    if (answer === label.verdict) entry.agreements++;
  }
  return new Map(
    [...counts].map(([annotator, c]) => [annotator, { ...c, reliability: (c.agreements + prior.agree) / (c.labels + prior.agree + prior.disagree) }]),
  );
}

export interface L1LogisticOptions {
  /** weight of the l1 penalty on the mean log-loss (larger: more annotators filtered to p = 0.5) */
  lambda: number;
  maxIter?: number;
  /** stop when no weight moves by more than this in an iteration */
  tol?: number;
}

export interface L1LogisticFit {
  /** w_i: the annotator's log-odds step; p_i = sigmoid(w_i); 0 means filtered out */
  weights: Map<string, number>;
  reliabilities: Map<string, number>;
  iterations: number;
  converged: boolean;
}

/**
 * The paper's global variant: fit P(line correct) = sigmoid(sum_i w_i x_i) on the honeypot lines,
 * with x_i = +1 when annotator i said "correct", -1 for "wrong", 0 when they did not label the
 * line, minimising mean log-loss + lambda * ||w||_1 by proximal gradient (ISTA: a gradient step
 * of size 1/L, L = ||X||_F^2 / 4n bounding the loss's curvature, then soft-thresholding). With
 * no intercept the prior stays 0.5, so w_i is exactly the log-odds step of the line consensus
 * and p_i = sigmoid(w_i); the l1 penalty sets noisy annotators' weights to 0 (p_i = 0.5).
 */
export function l1LogisticReliability(labels: readonly HoneypotLabel[], known: ReadonlyMap<string, LineVerdict>, options: L1LogisticOptions): L1LogisticFit {
  const { lambda, maxIter = 10_000, tol = 1e-10 } = options;
  if (!(lambda >= 0)) throw new RangeError(`lambda must be non-negative, got ${lambda}`);
  const annotators = [...new Set(labels.map((l) => l.annotator))];
  const items = [...new Set(labels.map((l) => l.item).filter((item) => known.has(item)))];
  const column = new Map(annotators.map((a, i) => [a, i]));
  const row = new Map(items.map((item, j) => [item, j]));
  const X = items.map(() => new Float64Array(annotators.length));
  for (const l of labels) {
    const j = row.get(l.item);
    if (j !== undefined) X[j]![column.get(l.annotator)!] = l.verdict === 'correct' ? 1 : -1;
  }
  const y = items.map((item) => (known.get(item) === 'correct' ? 1 : 0));
  const n = items.length;
  const w = new Float64Array(annotators.length);
  let iterations = 0;
  let converged = n === 0;
  if (n > 0) {
    const frobenius = X.reduce((s, r) => s + r.reduce((t, v) => t + v * v, 0), 0);
    const step = frobenius > 0 ? (4 * n) / frobenius : 1;
    for (; iterations < maxIter && !converged; iterations++) {
      const gradient = new Float64Array(w.length);
      X.forEach((r, j) => {
        let z = 0;
        for (let i = 0; i < w.length; i++) z += r[i]! * w[i]!;
        const residual = 1 / (1 + Math.exp(-z)) - y[j]!;
        for (let i = 0; i < w.length; i++) gradient[i]! += (residual * r[i]!) / n;
      });
      let moved = 0;
      for (let i = 0; i < w.length; i++) {
        const v = w[i]! - step * gradient[i]!;
        const shrunk = Math.max(0, Math.abs(v) - step * lambda);
        const next = shrunk === 0 ? 0 : Math.sign(v) * shrunk;
        moved = Math.max(moved, Math.abs(next - w[i]!));
        w[i] = next;
      }
      converged = moved <= tol;
    }
  }
  return {
    weights: new Map(annotators.map((a, i) => [a, w[i]!])),
    reliabilities: new Map(annotators.map((a, i) => [a, 1 / (1 + Math.exp(-w[i]!))])),
    iterations,
    converged,
  };
}
