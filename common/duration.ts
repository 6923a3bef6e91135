/** "72h" -> milliseconds; the format the configs' `duration` schema accepts (common/campaign-schema.ts). */
export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new RangeError(`bad duration ${d}: use a number and ms, s, m, h or d, e.g. 72h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
