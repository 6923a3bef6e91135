/**
 * Inter-annotator agreement statistics for crowd labels: Krippendorff's alpha (nominal), Cohen's
 * kappa (two raters) and Fleiss' kappa (a fixed number of raters per item).
 */
import type { Answer } from './answers';

/**
 * Krippendorff's alpha for nominal labels: 1 - D_o / D_e from the coincidence matrix (every
 * ordered pair of labels two workers gave the same task counts 1 / (m_u - 1), m_u = labels on the
 * task); tasks with a single label are not pairable. A worker's second answer to the same task
 * is ignored (their first counts). NaN when D_e is 0 (only one label value in the pairable data).
 */
export function krippendorffAlphaNominal(answers: readonly Answer[]): number {
  const byTask = new Map<string, Map<string, string>>();
  for (const a of answers) {
    const workers = byTask.get(a.task) ?? new Map<string, string>();
    byTask.set(a.task, workers);
    if (!workers.has(a.worker)) workers.set(a.worker, a.label);
  }
  const totals = new Map<string, number>();
  let n = 0;
  let disagreeing = 0;
  for (const workers of byTask.values()) {
    const m = workers.size;
    if (m < 2) continue;
    const counts = new Map<string, number>();
    for (const label of workers.values()) counts.set(label, (counts.get(label) ?? 0) + 1);
    // ordered pairs of different labels within the task: m^2 - sum_c n_c^2, each weighted 1/(m - 1)
    let same = 0;
    for (const [label, c] of counts) {
      same += c * c;
      totals.set(label, (totals.get(label) ?? 0) + c);
    }
    disagreeing += (m * m - same) / (m - 1);
    n += m;
  }
  let expectedDisagreeing = n * n;
  for (const c of totals.values()) expectedDisagreeing -= c * c;
  const observed = disagreeing / n;
  const expected = expectedDisagreeing / (n * (n - 1));
  return expected === 0 ? NaN : 1 - observed / expected;
}

/** Cohen's kappa of two raters' labels on the same items: (p_o - p_e) / (1 - p_e). */
export function cohenKappa(first: readonly string[], second: readonly string[]): number {
  if (first.length !== second.length || first.length === 0) throw new RangeError('Cohen’s kappa needs two equally long, non-empty label lists');
  const n = first.length;
  const a = new Map<string, number>();
  const b = new Map<string, number>();
  let agree = 0;
  first.forEach((label, i) => {
    if (label === second[i]) agree++;
    a.set(label, (a.get(label) ?? 0) + 1);
    b.set(second[i]!, (b.get(second[i]!) ?? 0) + 1);
  });
  let chance = 0;
  for (const [label, count] of a) chance += (count / n) * ((b.get(label) ?? 0) / n);
  return (agree / n - chance) / (1 - chance);
}

/**
 * Fleiss' kappa; counts[item][category] = raters who put the item in that category, every item
 * rated by the same number of raters (at least 2).
 */
export function fleissKappa(counts: readonly (readonly number[])[]): number {
  if (counts.length === 0) throw new RangeError('Fleiss’ kappa needs at least one item');
  const raters = counts[0]!.reduce((s, v) => s + v, 0);
  if (raters < 2) throw new RangeError('Fleiss’ kappa needs at least 2 raters per item');
  const categories = counts[0]!.length;
  const share = new Float64Array(categories);
  let meanAgreement = 0;
  counts.forEach((row, i) => {
    if (row.length !== categories || row.reduce((s, v) => s + v, 0) !== raters) {
      throw new RangeError(`item ${i + 1} does not have ${raters} ratings over ${categories} categories`);
    }
    let pairs = 0;
    row.forEach((c, k) => {
      pairs += c * (c - 1);
      share[k]! += c;
    });
    meanAgreement += pairs / (raters * (raters - 1));
  });
  meanAgreement /= counts.length;
  const chance = share.reduce((s, v) => s + (v / (counts.length * raters)) ** 2, 0);
  return (meanAgreement - chance) / (1 - chance);
}
