import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPolicyUpdateActivities } from '../../activities/rewards/policy-update';
import { saveRewards } from '../../activities/rewards/reward-table';
import { createTrainingActivities } from '../../activities/training/index';
import { SIMULATED_TRAINER } from '../rlaif/helpers';
import { seedRollouts } from '../rlaif/seed';
import { tempDir } from '../helpers/temp-dir';
import { activityEnv } from './helpers';

/**
 * The no-feedback control of the RL loops (policyUpdate.rewards: shuffled): the policy update
 * trains on the same rollouts and the same reward values, permuted across the rollouts by a
 * seed of the job, and its job says it is a control. A learning claim is only as good as this.
 */
let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
});
afterAll(async () => {
  await pool?.end();
});

interface UpdateRow {
  prompt: string;
  completion: string;
  reward: number;
}

async function runUpdate(rewards: 'as-scored' | 'shuffled' | undefined, advantage?: 'rloo'): Promise<{ rows: UpdateRow[]; note: string | null }> {
  const seeded = await seedRollouts(pool, { prefix: `pu-control-${rewards ?? 'default'}`, questions: 8, n: 4 });
  const { rows: gens } = await pool.query<{ id: string; task_id: string; program: string }>('select id, task_id, program from generations where eval_run_id = $1 order by task_id, sample_index', [seeded.evalRunId]);
  // distinct rewards, so a permutation shows
  await saveRewards(pool, { campaignId: seeded.campaignId, iteration: 1, source: 'reward-model', scoredBy: 'test' }, gens.map((g, i) => ({ generationId: g.id, taskId: g.task_id, reward: { status: 'scored', value: i / 10 } })));
  const blobDir = tempDir('pu-control-');
  try {
    const training = createTrainingActivities({ workerTaskQueue: 'gpu@test' });
    const acts = createPolicyUpdateActivities({ pool, blobDir, hostTaskQueue: 'gpu@test', training });
    const policy = { backend: 'simulated' as const, role: 'api-code' as const, model: 'simulated-base', seed: 3, trained: { steps: 0, examples: 0 }, quality: { initial: 0.4, ceiling: 0.9, halfwayExamples: 100 } };
    const out = await activityEnv().run(acts.policyUpdate, {
      campaignId: seeded.campaignId,
      iteration: 1,
      policy,
      trainer: { command: SIMULATED_TRAINER, hyperparameters: { totalSteps: 2, checkpointEvery: 2, stepMs: 1 } },
      policyUpdate: { baseModel: 'simulated-policy-base', hyperparameters: {}, ...(rewards ? { rewards } : {}), ...(advantage ? { advantage } : {}) },
    });
    expect(out).toMatchObject({ examples: gens.length, trained: true });
    const file = path.join(blobDir, seeded.campaignId, 'iteration-1', 'policy-update.jsonl');
    const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as UpdateRow);
    const [job] = (await pool.query<{ note: string | null }>('select note from training_jobs where id = $1', [out.jobId])).rows;
    return { rows, note: job!.note };
  } finally {
    fs.rmSync(blobDir, { recursive: true, force: true });
  }
}

/** each prompt's rewards as a sorted list, prompts in order */
function rewardsByPrompt(rows: UpdateRow[]): string[] {
  const by = new Map<string, number[]>();
  for (const r of rows) by.set(r.prompt, [...(by.get(r.prompt) ?? []), r.reward]);
  return [...by.values()].map((xs) => xs.sort((a, b) => a - b).join(','));
}

describe('policy update: the shuffled-rewards control', () => {
  it('as scored (the default): each rollout trains with its own reward', async () => {
    for (const mode of [undefined, 'as-scored'] as const) {
      const { rows, note } = await runUpdate(mode);
      const rewards = rows.map((r) => r.reward);
      // rows are ordered by task and sample, as their rewards were given
      expect(new Set(rewards).size).toBe(rows.length);
      expect(note ?? '').not.toMatch(/CONTROL/);
    }
  });

  it('shuffled: the same reward values, joined to other rollouts, and the job says it is a control', async () => {
    const control = await runUpdate('shuffled');
    const real = await runUpdate('as-scored');
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    expect(sorted(control.rows.map((r) => r.reward))).toEqual(sorted(real.rows.map((r) => r.reward)));
    expect(control.rows.map((r) => r.completion)).toEqual(real.rows.map((r) => r.completion));
    const moved = control.rows.filter((r, i) => r.reward !== real.rows[i]!.reward).length;
    expect(moved).toBeGreaterThan(control.rows.length / 2);
    expect(control.note).toMatch(/^CONTROL: rewards shuffled across the rollouts \(no feedback\)/);
    // across prompts: some prompt's rewards changed as a set
    expect(rewardsByPrompt(control.rows)).not.toEqual(rewardsByPrompt(real.rows));
  });

  it('shuffled under a group estimator (rloo): each prompt keeps its rewards, permuted among its own rollouts', async () => {
    const control = await runUpdate('shuffled', 'rloo');
    const real = await runUpdate('as-scored', 'rloo');
    expect(control.rows.map((r) => r.completion)).toEqual(real.rows.map((r) => r.completion));
    expect(rewardsByPrompt(control.rows)).toEqual(rewardsByPrompt(real.rows));
    expect(new Set(rewardsByPrompt(real.rows)).size).toBe(8); // 8 prompts of 4 distinct rewards each
    const moved = control.rows.filter((r, i) => r.reward !== real.rows[i]!.reward).length;
    expect(moved).toBeGreaterThan(control.rows.length / 2);
    expect(control.note).toMatch(/^CONTROL: rewards shuffled across the rollouts of each prompt \(no feedback\)/);
    // another campaign (another id) on the same rollouts: the same permutation, so a control repeats
    expect((await runUpdate('shuffled', 'rloo')).rows).toEqual(control.rows);
  });
});
