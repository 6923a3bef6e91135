import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { RewardModelRef } from '../types';
import type { RewardCounts } from '../../../common/rewards';
import { promptOfTask } from '../../../activities/datasets/registry';
import { rewardCounts, rewardOf, saveRewards } from '../../../activities/rewards/reward-table';
import type { ModelBackendCache } from '../../../activities/models/index';
import type { PlacementIntent } from '../../../common/task-queues';
import { recordRanBy } from '../../../activities/store/evaluation-activities';
import type { WorkerRef } from '../../../activities/worker-deps';

/**
 * The reward source "reward-model" (RLAIF step 4, GPU queue): the reward model scores every
 * rollout of the iteration into the per-rollout reward table. A score
 * that is not a finite number is stored as UNSCORABLE and left out of the policy update, never
 * replaced by 0. Rows are written batch by batch, so a retry scores only what is left.
 */
export interface ScoreRolloutsInput {
  campaignId: string;
  iteration: number;
  evalRunId: string;
  rewardModel: RewardModelRef;
  /** set when the step is host-routed: the activity records where it ran (eval_runs.placement of the rollouts) */
  placement?: PlacementIntent;
}

const BATCH = 64;

export function createRolloutScoringActivities(deps: { pool: pg.Pool; models: ModelBackendCache; worker?: WorkerRef }) {
  return {
    async scoreRollouts(input: ScoreRolloutsInput): Promise<RewardCounts> {
      const { campaignId: c, iteration: k } = input;
      const { rows: todo } = await deps.pool.query<{ id: string; dataset: string; task_id: string; program: string }>(
        `select g.id, e.dataset, g.task_id, g.program from generations g join eval_runs e on e.id = g.eval_run_id
         where g.eval_run_id = $1 and not exists (select 1 from rollout_rewards r where r.campaign_id = $2 and r.iteration = $3 and r.generation_id = g.id)
         order by g.task_id, g.sample_index`,
        [input.evalRunId, c, k],
      );
      const ctx = Context.current();
      const model = deps.models.get(input.rewardModel.backend);
      for (let start = 0; start < todo.length; start += BATCH) {
        const batch = todo.slice(start, start + BATCH);
        const pairs = batch.map((r) => {
          return { prompt: promptOfTask(r.dataset, r.task_id), program: r.program, taskId: r.task_id };
        });
        const scores = await model.score(pairs, { signal: ctx.cancellationSignal });
        if (scores.length !== batch.length) throw new Error(`the reward model returned ${scores.length} scores for ${batch.length} rollouts`);
        await saveRewards(
          deps.pool,
          { campaignId: c, iteration: k, source: 'reward-model', scoredBy: input.rewardModel.backend.modelDir },
          batch.map((r, i) => ({ generationId: r.id, taskId: r.task_id, reward: rewardOf(scores[i]!) })),
        );
        ctx.heartbeat({ scored: start + batch.length, of: todo.length });
      }
      await recordRanBy(deps.pool, input.evalRunId, input.placement, deps.worker);
      return rewardCounts(deps.pool, c, k);
    },
  };
}
