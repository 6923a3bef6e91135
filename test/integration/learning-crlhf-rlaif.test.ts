import { describe, it } from 'vitest';
import { learningWorkers, rewardLoopLearns } from '../helpers/learning';

/**
 * The learning proof's reduced form (test/helpers/learning.ts) for cRLHF and RLAIF, whose controls
 * shuffle the rewards across rollouts. RLAIF's judge (RLAIF_TEACHER) is made here the first time:
 * about 20 minutes beside the other fork's tests.
 */
const env = learningWorkers('learning-crlhf-rlaif');

describe('learning proof (reduced): cRLHF and RLAIF', () => {
  it('crlhf: consensus rewards from a simulated crowd raise held-out pass@1; the same rewards shuffled do not', () => rewardLoopLearns(env, 'crlhf'), 2_700_000);

  it("rlaif: P(Yes) from the judge made here as rewards raise held-out pass@1; the same rewards shuffled do not", () => rewardLoopLearns(env, 'rlaif'), 2_700_000);
});
