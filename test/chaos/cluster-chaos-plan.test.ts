import { describe, expect, it } from 'vitest';
import { ILF_PHASES } from '../../loops/ilf/types';
import { planClusterFaults } from '../../scripts/chaos/cluster-chaos';

/** `npm run chaos:cluster`'s schedule (the run itself takes minutes and is not in CI: README). */
describe('chaos:cluster fault plan', () => {
  it('is seeded, puts every server fault at a distinct (iteration, phase), and loses a host before the last iteration', () => {
    const plan = planClusterFaults(42, 3, ILF_PHASES);
    expect(plan).toEqual(planClusterFaults(42, 3, ILF_PHASES));
    expect(plan.faults.map((f) => f.kind).sort()).toEqual(['kill-cpu', 'kill-history', 'restart-frontend', 'restart-matching', 'restart-postgres']);
    expect(new Set(plan.faults.map((f) => `${f.iteration}/${f.phase}`)).size).toBe(5);
    const order = plan.faults.map((f) => f.iteration * 100 + ILF_PHASES.indexOf(f.phase as (typeof ILF_PHASES)[number]));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (let seed = 1; seed <= 20; seed++) expect(planClusterFaults(seed, 3, ILF_PHASES).loseHostAfter).toBeLessThan(3);
    expect(planClusterFaults(43, 3, ILF_PHASES)).not.toEqual(plan);
  });
});
