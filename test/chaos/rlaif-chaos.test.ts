import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rlaifChaos as RLAIF_LOOP } from '../../loops/rlaif/chaos';
import { planDisturbances, runCampaignChaos } from '../../scripts/chaos/campaign-chaos';
import { PROJECT_ROOT } from '../../infra/paths';
import { JudgeServer } from '../rlaif/judge-server';

/**
 * The RLAIF dry run under chaos, reduced to two iterations (to stay quick in CI): worker SIGKILLs
 * in different phases, a Temporal restart and a PostgreSQL restart end with the same audit
 * numbers as an undisturbed run of the same seed. Seed 8's plan kills the GPU worker during a
 * policy update (a protocol trainer process is orphaned), the CPU worker while AI-feedback
 * requests are in flight, and the GPU worker again during reward scoring. The judge speaks the
 * OpenAI protocol from this process; the workers run as their own processes.
 */
const CONFIG = path.join(PROJECT_ROOT, 'examples', 'rlaif-dry-run.yaml');
const judge = new JudgeServer({ logprobs: true, malformedEvery: 5 });

beforeAll(async () => {
  await judge.start();
});
afterAll(async () => {
  await judge.stop();
});

describe('RLAIF chaos (reduced)', () => {
  it('plans disturbances over the RLAIF phases, killing the worker that does each phase\'s work', () => {
    const plan = planDisturbances({ seed: 7, kills: 4, restartTemporal: true, restartPostgres: true }, 3, RLAIF_LOOP);
    expect(plan).toHaveLength(6);
    for (const a of plan) {
      expect(RLAIF_LOOP.phases).toContain(a.phase);
      if (a.kind.startsWith('kill')) expect(a.kind).toBe(RLAIF_LOOP.workerForPhase[a.phase]);
    }
  });

  it('survives worker kills and server restarts with identical audit numbers', { timeout: 600_000 }, async () => {
    const raw = parse(fs.readFileSync(CONFIG, 'utf8')) as { models: { policy: unknown } };
    const report = await runCampaignChaos({
      seed: 8,
      kills: 3,
      restartTemporal: true,
      restartPostgres: true,
      configFile: CONFIG,
      configOverrides: {
        models: { policy: raw.models.policy, feedback: judge.backendConfig() },
        dataset: { rolloutQuestions: 8, maxEvalQuestionsPerHub: 3 },
        iterations: 2,
      },
      // its lines show in CI's log, so that a run that hangs says where
      log: (line) => console.log(line),
    });
    expect(report.problems).toEqual([]);
    expect(report.algorithm).toBe('rlaif');
    expect(report.disturbances).toEqual([
      'restart PostgreSQL (iteration 1, phase generate)',
      'SIGKILL gpu worker (iteration 1, phase policy_update)',
      'SIGKILL cpu worker (iteration 2, phase feedback)',
      'SIGKILL gpu worker (iteration 2, phase reward_model)',
      'restart Temporal dev server (iteration 2, phase evaluate)',
    ]);
    expect(report.disturbed).toEqual(report.baseline);
    expect(report.baseline.iterations).toHaveLength(2);
    expect(report.finalLine).toMatch(/^chaos OK \(rlaif\): 3 worker kills, 2 server restarts/);
    // The judge's malformed answers are part of what must come out the same.
    const numbers = report.baseline as { iterations: Array<{ feedback: { unscorable: number } }> };
    expect(numbers.iterations.some((it) => it.feedback.unscorable > 0)).toBe(true);
  });
});
