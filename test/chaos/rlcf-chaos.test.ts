import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rlcfChaos as RLCF_LOOP } from '../../loops/rlcf/chaos';
import { planDisturbances, runCampaignChaos } from '../../scripts/chaos/campaign-chaos';
import { PROJECT_ROOT } from '../../infra/paths';

/**
 * The RLCF dry run under chaos, reduced to two iterations (to stay quick in CI): seed 2's plan
 * restarts PostgreSQL while rollouts are tested, SIGKILLs the CPU worker while javac compiles
 * rollouts and again while the discriminator judges them, restarts Temporal during the reward
 * and SIGKILLs the GPU worker during the policy update (a protocol trainer process is orphaned).
 * The run must end with the audit numbers of an undisturbed run of the same seed.
 */
const CONFIG = path.join(PROJECT_ROOT, 'examples', 'rlcf-dry-run.yaml');

describe('RLCF chaos (reduced)', () => {
  it('plans disturbances over the RLCF phases, killing the worker that does each phase\'s work', () => {
    const plan = planDisturbances({ seed: 24, kills: 6, restartTemporal: true, restartPostgres: true }, 3, RLCF_LOOP);
    expect(plan).toHaveLength(8);
    for (const a of plan) {
      expect(RLCF_LOOP.phases).toContain(a.phase);
      if (a.kind.startsWith('kill')) expect(a.kind).toBe(RLCF_LOOP.workerForPhase[a.phase]);
    }
    // `npm run chaos:rlcf` (seed 24) kills in the compile, discriminator and update phases.
    const killed = plan.filter((a) => a.kind.startsWith('kill')).map((a) => a.phase);
    for (const phase of ['compile', 'discriminator', 'policy_update']) expect(killed).toContain(phase);
  });

  it('survives worker kills and server restarts with identical audit numbers', { timeout: 600_000 }, async () => {
    const report = await runCampaignChaos({
      seed: 2,
      kills: 3,
      restartTemporal: true,
      restartPostgres: true,
      configFile: CONFIG,
      configOverrides: { dataset: { rolloutTasks: 8, maxEvalTasks: 4, mathqaEvalTasks: 2 }, iterations: 2 },
      // its lines show in CI's log, so that a run that hangs says where
      log: (line) => console.log(line),
    });
    expect(report.problems).toEqual([]);
    expect(report.algorithm).toBe('rlcf');
    expect(report.disturbances).toEqual([
      'restart PostgreSQL (iteration 1, phase tests)',
      'SIGKILL cpu worker (iteration 2, phase compile)',
      'SIGKILL cpu worker (iteration 2, phase discriminator)',
      'restart Temporal dev server (iteration 2, phase reward)',
      'SIGKILL gpu worker (iteration 2, phase policy_update)',
    ]);
    expect(report.disturbed).toEqual(report.baseline);
    expect(report.baseline.iterations).toHaveLength(2);
    expect(report.finalLine).toMatch(/^chaos OK \(rlcf\): 3 worker kills, 2 server restarts/);
    const numbers = report.baseline as { iterations: Array<{ stages: { discriminator: { unscorable: number } } }> };
    expect(numbers.iterations.some((it) => it.stages.discriminator.unscorable > 0)).toBe(true);
  });
});
