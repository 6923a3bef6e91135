import { describe, expect, it } from 'vitest';
import { planDisturbances, runIlfChaos } from '../../scripts/chaos/campaign-chaos';

/**
 * `npm run chaos:ilf` in reduced form: the dry-run campaign with worker SIGKILLs in different
 * phases, a Temporal restart and a PostgreSQL restart ends with the same audit numbers as an
 * undisturbed run of the same seed.
 */
describe('ILF chaos (reduced)', () => {
  it('plans distinct, seeded disturbances', () => {
    const o = { seed: 42, kills: 5, restartTemporal: true, restartPostgres: true };
    const plan = planDisturbances(o, 3);
    expect(plan).toEqual(planDisturbances(o, 3));
    expect(plan).toHaveLength(7);
    expect(plan.filter((a) => a.kind.startsWith('kill'))).toHaveLength(5);
    expect(new Set(plan.map((a) => `${a.iteration}/${a.phase}`)).size).toBe(7);
    expect(planDisturbances({ ...o, seed: 43 }, 3)).not.toEqual(plan);
  });

  it('survives worker kills and server restarts with identical audit numbers', { timeout: 600_000 }, async () => {
    const report = await runIlfChaos({
      seed: 42,
      kills: 5,
      restartTemporal: true,
      restartPostgres: true,
      configOverrides: { dataset: { maxTrainTasks: 30, maxTestTasks: 10 }, sampling: { train: { n: 1 }, eval: { n: 2, ks: [1, 2] } } },
      // its lines show in CI's log, so that a run that hangs says where
      log: (line) => console.log(line),
    });
    expect(report.problems).toEqual([]);
    expect(report.disturbances.filter((d) => d.startsWith('SIGKILL'))).toHaveLength(5);
    expect(report.disturbances.some((d) => d.startsWith('restart Temporal'))).toBe(true);
    expect(report.disturbances.some((d) => d.startsWith('restart PostgreSQL'))).toBe(true);
    expect(report.disturbed).toEqual(report.baseline);
    expect(report.baseline.iterations).toHaveLength(3);
  });
});
