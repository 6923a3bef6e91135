import type pg from 'pg';
import type { Reward, RewardCounts, RewardSourceName } from '../../common/rewards';

/**
 * The per-rollout reward table (`rollout_rewards`) every reward source writes and the shared
 * policy update reads. Writes are idempotent (a retried scoring activity adds nothing), and an
 * unscorable reward is stored with its reason and no number.
 */
export interface RolloutReward {
  generationId: string;
  taskId: string;
  reward: Reward;
}

export async function saveRewards(
  pool: Pick<pg.Pool, 'query'>,
  at: { campaignId: string; iteration: number; source: RewardSourceName; scoredBy: string },
  rewards: readonly RolloutReward[],
): Promise<void> {
  if (rewards.length === 0) return;
  await pool.query(
    `insert into rollout_rewards (campaign_id, iteration, generation_id, task_id, status, reward, reason, source, reward_model)
     select $1, $2, t.generation_id, t.task_id, t.status, t.reward, t.reason, $3, $4
     from jsonb_to_recordset($5::jsonb) as t(generation_id bigint, task_id text, status text, reward float8, reason text)
     on conflict do nothing`,
    [
      at.campaignId,
      at.iteration,
      at.source,
      at.scoredBy,
      JSON.stringify(
        rewards.map((r) => ({
          generation_id: r.generationId,
          task_id: r.taskId,
          status: r.reward.status,
          reward: r.reward.status === 'scored' ? r.reward.value : null,
          reason: r.reward.status === 'unscorable' ? r.reward.reason : null,
        })),
      ),
    ],
  );
}

/** A number that is not finite cannot be a reward: it is unscorable, never 0. */
export function rewardOf(value: number, why = 'the score is not a finite number'): Reward {
  return Number.isFinite(value) ? { status: 'scored', value } : { status: 'unscorable', reason: why };
}

export async function rewardCounts(pool: Pick<pg.Pool, 'query'>, campaignId: string, iteration: number): Promise<RewardCounts> {
  const { rows } = await pool.query<{ scored: string; unscorable: string; mean: number | null }>(
    `select count(*) filter (where status = 'scored') as scored, count(*) filter (where status = 'unscorable') as unscorable,
            (avg(reward::numeric) filter (where status = 'scored'))::float8 as mean
     from rollout_rewards where campaign_id = $1 and iteration = $2`,
    [campaignId, iteration],
  );
  const r = rows[0];
  return { scored: Number(r?.scored ?? 0), unscorable: Number(r?.unscorable ?? 0), meanReward: r?.mean ?? null };
}
