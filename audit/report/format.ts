import type { OutcomeCounts } from '../core';

/** Number formats shared by `feedloop audit` and the HTML report. */
export const pct = (p: number | null | undefined): string => (p === null || p === undefined ? '-' : `${(100 * p).toFixed(1)}%`);

export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** "passed=3 failed=2"; classes with zero are left out. */
export function formatOutcomes(o: OutcomeCounts): string {
  const parts = Object.entries(o).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`);
  return parts.length ? parts.join(' ') : 'none';
}
