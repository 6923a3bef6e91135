import { executeChild } from '@temporalio/workflow';
import type { CommandTrainerConfig, PolicyBackend, PolicyUpdateConfig } from '../common/campaign-schema';
import type { TaskQueues } from '../common/task-queues';
import type { PolicyUpdateInput, PolicyUpdateOutput } from '../activities/rewards/policy-update';
import type { KernelActivities } from './activities';
import { campaignChildOptions } from './campaign';
import { onCheckpointHost } from './routing';

/** What the tail needs of a loop's iteration skeleton (IterationSkeleton, with the RL loops' phases and counts). */
interface TailIteration {
  readonly acts: KernelActivities;
  readonly stopRequested: boolean;
  enter(next: 'policy_update' | 'evaluate', counts?: { rewardsScored?: number; rewardsUnscorable?: number; policyUpdateRollouts?: number }): Promise<void>;
}

export interface UpdateAndEvaluateOptions<I, R> {
  campaignId: string;
  iteration: number;
  algorithm: string;
  config: { trainer: CommandTrainerConfig; policyUpdate: PolicyUpdateConfig; taskQueues: TaskQueues };
  policy: PolicyBackend;
  policyCheckpoint?: string;
  /** the reward step's counts, recorded on entering policy_update */
  rewards: { scored: number; unscorable: number };
  /** the policy-update activity; the kernel's shared `policyUpdate` unless a loop's older histories named its own */
  runUpdate?: (input: PolicyUpdateInput) => Promise<PolicyUpdateOutput>;
  /** the loop's evaluation child: its workflow id, and its input for the updated policy on the host that holds it */
  evaluation: { workflow: (input: I) => Promise<R>; workflowId: string; input: (policy: PolicyBackend, queues: TaskQueues) => I };
}

/**
 * The tail the RL loops share (RLAIF, RLCF, cRLHF): enter `policy_update` with the reward counts,
 * run the one policy update on the rollouts with a scored reward, then, unless a stop was
 * requested, enter `evaluate` and run the loop's evaluation child on the host that holds the
 * updated policy. `evaluation` is undefined when a stop request ended the iteration in between;
 * the update is returned either way (the iteration's next policy).
 */
export async function updateAndEvaluate<I, R>(it: TailIteration, o: UpdateAndEvaluateOptions<I, R>): Promise<{ update: PolicyUpdateOutput; evaluation?: R }> {
  const { campaignId, iteration } = o;
  await it.enter('policy_update', { rewardsScored: o.rewards.scored, rewardsUnscorable: o.rewards.unscorable });
  const input: PolicyUpdateInput = { campaignId, iteration, policy: o.policy, policyCheckpoint: o.policyCheckpoint, trainer: o.config.trainer, policyUpdate: o.config.policyUpdate };
  const update = await (o.runUpdate ?? it.acts.policyUpdate.policyUpdate)(input);
  if (it.stopRequested) return { update };

  await it.enter('evaluate', { policyUpdateRollouts: update.examples });
  const evaluation = await executeChild(o.evaluation.workflow, {
    ...campaignChildOptions({ campaignId, algorithm: o.algorithm, iteration, workflowId: o.evaluation.workflowId }),
    // GPU work of the evaluation goes to the host that holds the updated policy.
    args: [o.evaluation.input(update.nextPolicy, onCheckpointHost(o.config.taskQueues, update.workerTaskQueue))],
  });
  return { update, evaluation };
}
