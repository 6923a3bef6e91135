/**
 * Summation in the orders the reference uses, so that rounding, which GLAD's conjugate-gradient
 * M-steps amplify, stays close to it: numpy's pairwise sum (np.sum / Series.sum) and pandas'
 * Kahan-compensated group sums (groupby().sum()).
 */

/** numpy's pairwise summation of a contiguous float64 array (blocks of 8 below 128 elements). */
export function pairwiseSum(values: ArrayLike<number>, start = 0, end = values.length): number {
  const n = end - start;
  if (n < 8) {
    let sum = 0;
    for (let i = start; i < end; i++) sum += values[i]!;
    return sum;
  }
  if (n <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => values[start + j]!);
    const blocked = start + n - (n % 8);
    for (let i = start + 8; i < blocked; i += 8) for (let j = 0; j < 8; j++) r[j]! += values[i + j]!;
    let sum = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (let i = blocked; i < end; i++) sum += values[i]!;
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(values, start, start + half) + pairwiseSum(values, start + half, end);
}

/** One Kahan-compensated running sum per group, as pandas' groupby sum keeps them. */
export class KahanGroupSums {
  readonly sums: Float64Array;
  private readonly compensation: Float64Array;

  constructor(groups: number) {
    this.sums = new Float64Array(groups);
    this.compensation = new Float64Array(groups);
  }

  add(group: number, value: number): void {
    const y = value - this.compensation[group]!;
    const t = this.sums[group]! + y;
    this.compensation[group] = t - this.sums[group]! - y;
    this.sums[group] = t;
  }
}
