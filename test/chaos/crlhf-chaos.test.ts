import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crlhfChaos as CRLHF_LOOP } from '../../loops/crlhf/chaos';
import { planDisturbances, runCampaignChaos } from '../../scripts/chaos/campaign-chaos';
import { PROJECT_ROOT } from '../../infra/paths';

/**
 * The cRLHF dry run under chaos, reduced to two small iterations (to stay quick in CI): seed 21's
 * plan SIGKILLs the CPU worker while the SIMULATED crowd's annotations arrive (it runs the crowd
 * and records every accepted label), the GPU worker during the policy update (orphaning a
 * protocol trainer process), and restarts PostgreSQL during the evaluation. The disturbed run
 * ends with the same audit numbers as an undisturbed one, and every label the iteration accepted
 * is stored exactly once.
 */
const CONFIG = path.join(PROJECT_ROOT, 'examples', 'crlhf-dry-run.yaml');

describe('cRLHF chaos (reduced)', () => {
  it('plans disturbances over the cRLHF phases, killing the worker that does each phase\'s work', () => {
    const plan = planDisturbances({ seed: 21, kills: 2, restartTemporal: false, restartPostgres: true }, 2, CRLHF_LOOP);
    expect(plan.map((a) => `${a.kind}@${a.iteration}/${a.phase}`)).toEqual(['kill-cpu@2/annotate', 'kill-gpu@2/policy_update', 'restart-postgres@2/evaluate']);
  });

  it('survives a worker kill while annotations arrive, a GPU kill and a PostgreSQL restart with identical audit numbers', { timeout: 600_000 }, async () => {
    const report = await runCampaignChaos({
      seed: 21,
      kills: 2,
      restartTemporal: false,
      restartPostgres: true,
      configFile: CONFIG,
      configOverrides: { ...CRLHF_LOOP.reduced, iterations: 2, evaluateStart: false },
      // its lines show in CI's log, so that a run that hangs says where
      log: (line) => console.log(line),
    });
    expect(report.problems).toEqual([]);
    expect(report.algorithm).toBe('crlhf');
    expect(report.disturbances).toEqual([
      'SIGKILL cpu worker (iteration 2, phase annotate)',
      'SIGKILL gpu worker (iteration 2, phase policy_update)',
      'restart PostgreSQL (iteration 2, phase evaluate)',
    ]);
    expect(report.disturbed).toEqual(report.baseline);
    const numbers = report.baseline as { iterations: Array<{ annotation: { labels: number; assignments: number } }> };
    expect(numbers.iterations).toHaveLength(2);
    for (const it of numbers.iterations) expect(it.annotation.labels).toBeGreaterThan(0);
    expect(report.finalLine).toMatch(/^chaos OK \(crlhf\): 2 worker kills, 1 server restarts/);
  });
});
