/**
 * The unbiased pass@k estimator from the Codex paper (Chen et al. 2021, eq. 1):
 *   pass@k = E_tasks[ 1 - C(n - c, k) / C(n, k) ]
 * for n samples per task of which c pass. Computed as a running product so it neither
 * overflows nor loses precision for large n. Pure: usable from workflows and activities.
 */
export function passAtKForTask(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k)) {
    throw new RangeError(`pass@k needs integers, got n=${n} c=${c} k=${k}`);
  }
  if (n < 1 || c < 0 || c > n || k < 1) {
    throw new RangeError(`pass@k needs n >= 1, 0 <= c <= n and k >= 1, got n=${n} c=${c} k=${k}`);
  }
  if (k > n) {
    throw new RangeError(`pass@${k} needs at least ${k} samples per task, got n=${n}`);
  }
  if (n - c < k) return 1;
  // 1 - prod_{i=n-c+1}^{n} (1 - k / i)
  let failAll = 1;
  for (let i = n - c + 1; i <= n; i++) failAll *= 1 - k / i;
  return 1 - failAll;
}

export interface TaskSampleCounts {
  /** samples scored for this task (infrastructure errors excluded) */
  n: number;
  /** of which passed */
  c: number;
}

/** Mean pass@k over tasks. Tasks with fewer than k scored samples are an error, not skipped. */
export function passAtK(tasks: readonly TaskSampleCounts[], k: number): number {
  if (tasks.length === 0) throw new RangeError('pass@k over zero tasks is undefined');
  let sum = 0;
  for (const t of tasks) sum += passAtKForTask(t.n, t.c, k);
  return sum / tasks.length;
}
