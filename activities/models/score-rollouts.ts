import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { RewardModelRef } from '../../common/rlaif';
import { apiBenchPrompt, apiBenchQuestion } from '../datasets/apibench';
import type { ModelBackendCache } from './index';

/**
 * RLAIF step 4 (GPU queue): the reward model scores every rollout of the iteration. A score
 * that is not a finite number is stored as UNSCORABLE and left out of the policy update, never
 * replaced by 0. Rows are written batch by batch, so a retry scores only what is left.
 */
export interface ScoreRolloutsInput {
  campaignId: string;
  iteration: number;
  evalRunId: string;
  rewardModel: RewardModelRef;
}

export interface RewardCounts {
  scored: number;
  unscorable: number;
  meanReward: number | null;
}

const BATCH = 64;

export async function rewardCounts(pool: Pick<pg.Pool, 'query'>, campaignId: string, iteration: number): Promise<RewardCounts> {
  const { rows } = await pool.query<{ scored: string; unscorable: string; mean: number | null }>(
    `select count(*) filter (where status = 'scored') as scored, count(*) filter (where status = 'unscorable') as unscorable,
            avg(reward) filter (where status = 'scored') as mean
     from rollout_rewards where campaign_id = $1 and iteration = $2`,
    [campaignId, iteration],
  );
  const r = rows[0];
  return { scored: Number(r?.scored ?? 0), unscorable: Number(r?.unscorable ?? 0), meanReward: r?.mean ?? null };
}

export function createRolloutScoringActivities(deps: { pool: pg.Pool; models: ModelBackendCache }) {
  return {
    async scoreRollouts(input: ScoreRolloutsInput): Promise<RewardCounts> {
      const { campaignId: c, iteration: k } = input;
      const { rows: todo } = await deps.pool.query<{ id: string; task_id: string; program: string }>(
        `select g.id, g.task_id, g.program from generations g
         where g.eval_run_id = $1 and not exists (select 1 from rollout_rewards r where r.campaign_id = $2 and r.iteration = $3 and r.generation_id = g.id)
         order by g.task_id, g.sample_index`,
        [input.evalRunId, c, k],
      );
      const ctx = Context.current();
      const model = deps.models.get(input.rewardModel.backend);
      for (let start = 0; start < todo.length; start += BATCH) {
        const batch = todo.slice(start, start + BATCH);
        const pairs = batch.map((r) => {
          const q = apiBenchQuestion(r.task_id);
          if (!q) throw ApplicationFailure.nonRetryable(`rollout ${r.id} names unknown APIBench question ${r.task_id}`, 'InvalidConfig');
          return { prompt: apiBenchPrompt(q), program: r.program, taskId: r.task_id };
        });
        const scores = await model.score(pairs, { signal: ctx.cancellationSignal });
        if (scores.length !== batch.length) throw new Error(`the reward model returned ${scores.length} scores for ${batch.length} rollouts`);
        await deps.pool.query(
          `insert into rollout_rewards (campaign_id, iteration, generation_id, task_id, status, reward, reward_model)
           select $1, $2, t.generation_id, t.task_id, t.status, t.reward, $3
           from jsonb_to_recordset($4::jsonb) as t(generation_id bigint, task_id text, status text, reward float8)
           on conflict do nothing`,
          [
            c,
            k,
            input.rewardModel.backend.modelDir,
            JSON.stringify(
              batch.map((r, i) => {
                const s = scores[i]!;
                return Number.isFinite(s) ? { generation_id: r.id, task_id: r.task_id, status: 'scored', reward: s } : { generation_id: r.id, task_id: r.task_id, status: 'unscorable', reward: null };
              }),
            ),
          ],
        );
        ctx.heartbeat({ scored: start + batch.length, of: todo.length });
      }
      return rewardCounts(deps.pool, c, k);
    },
  };
}
