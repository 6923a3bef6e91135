import type { RewardSourceName } from '../../common/rewards';

/**
 * The reward sources, by name: what each scores and which activity writes its rewards into the
 * per-rollout reward table (reward-table.ts). A loop names its source; the policy update
 * (policy-update.ts) consumes the table the same way for every source.
 */
export interface RewardSource {
  name: RewardSourceName;
  description: string;
  /** the activity that writes this source's rewards, or undefined while no loop provides it */
  activity?: string;
}

export const REWARD_SOURCE_REGISTRY: Record<RewardSourceName, RewardSource> = {
  'reward-model': {
    name: 'reward-model',
    description: 'a reward model trained on AI or human feedback scores each (prompt, program); a non-finite score is unscorable',
    activity: 'scoreRollouts',
  },
  'compiler-feedback': {
    name: 'compiler-feedback',
    description: "RLCF's grounding function: compiles, static checks, tests, and a discriminator against the reference",
  },
  'crowd-consensus': {
    name: 'crowd-consensus',
    description: "cRLHF's consensus of crowd line labels weighted by annotator reliability; too few labels is unscorable",
  },
};
