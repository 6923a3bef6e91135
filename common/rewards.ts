/**
 * One rollout's reward, as every reward source writes it: a number, or UNSCORABLE with the
 * reason (a judge that did not answer, a sandbox that failed, too few crowd labels). An
 * unscorable rollout is left out of the policy update; it is never a reward of 0.
 */
export type Reward = { status: 'scored'; value: number } | { status: 'unscorable'; reason: string };

/**
 * The reward sources an RL loop can name. Each writes the per-rollout reward table
 * (activities/rewards/reward-table.ts), which the one policy update trains on:
 * - reward-model: a reward model trained on AI or human feedback scores each (prompt, program)
 *   (RLAIF's scoreRollouts); a non-finite score is unscorable;
 * - ai-feedback: the judge's own score of each rollout (RLAIF with `reward: ai-feedback`: the
 *   mean P(Yes) over the questions asked, no reward model between); no answer is unscorable;
 * - compiler-feedback: RLCF's grounding function (compiles, static checks, tests, and a
 *   discriminator against the reference);
 * - crowd-consensus: cRLHF's consensus of crowd line labels weighted by annotator reliability;
 *   too few labels is unscorable.
 */
export const REWARD_SOURCES = ['reward-model', 'ai-feedback', 'compiler-feedback', 'crowd-consensus'] as const;
export type RewardSourceName = (typeof REWARD_SOURCES)[number];

export interface RewardCounts {
  scored: number;
  unscorable: number;
  meanReward: number | null;
}
