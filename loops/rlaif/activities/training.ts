import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { rlaifIds, type RewardModelRef } from '../types';
import type { RlaifCampaignConfig } from '../config';
import { promptOfTask } from '../../../activities/datasets/registry';
import { onnxClassifier, runRewardModelJob } from '../../../activities/training/reward-model-job';
import type { createTrainingActivities } from '../../../activities/training/index';
import { createPolicyUpdateActivities } from '../../../activities/rewards/policy-update';

type TrainingActivities = ReturnType<typeof createTrainingActivities>;

/**
 * The two training steps of RLAIF (GPU queue), both through the trainer protocol:
 *  - the reward model, on every SCORED AI-feedback record so far ({prompt, program, score});
 *    the trainer exports it to ONNX (final/onnx/), which the onnx backend scores with;
 *  - the policy update: the kernel's shared step (activities/rewards/policy-update.ts).
 * Unscorable feedback and rewards never enter a training set; each job's note says how many
 * were left out. The job row is written first and finished last.
 */
export interface TrainRewardModelInput {
  campaignId: string;
  iteration: number;
  trainer: RlaifCampaignConfig['trainer'];
  rewardModel: NonNullable<RlaifCampaignConfig['rewardModel']>;
}

export interface TrainRewardModelOutput {
  jobId: string;
  examples: number;
  /** unscorable feedback records left out of the training set */
  excludedUnscorable: number;
  steps: number;
  rewardModel: RewardModelRef;
  /** the host that holds the model: score with it there */
  workerTaskQueue: string;
}

export function createRlaifTrainingActivities(deps: { pool: pg.Pool; blobDir: string; hostTaskQueue: string; training: Pick<TrainingActivities, 'runTrainingJob'> }) {

  return {
    async trainRewardModel(input: TrainRewardModelInput): Promise<TrainRewardModelOutput> {
      const { campaignId: c, iteration: k } = input;
      const jobId = rlaifIds.rewardModelJob(c, k);
      const { rows } = await deps.pool.query<{ dataset: string; task_id: string; program: string; score: number }>(
        `select e.dataset, g.task_id, g.program, f.score from ai_feedback f join generations g on g.id = f.generation_id join eval_runs e on e.id = g.eval_run_id
         where f.campaign_id = $1 and f.iteration <= $2 and f.status = 'scored' order by f.iteration, g.task_id, g.sample_index`,
        [c, k],
      );
      const [{ n: unscorable } = { n: '0' }] = (
        await deps.pool.query<{ n: string }>(`select count(*) as n from ai_feedback where campaign_id = $1 and iteration <= $2 and status = 'unscorable'`, [c, k])
      ).rows;
      if (rows.length === 0) {
        throw ApplicationFailure.nonRetryable(
          `no scored AI feedback to train the reward model on (iterations 1-${k}: ${unscorable} unscorable records, which are never used)`,
          'NoTrainingData',
        );
      }
      const { modelDir, steps } = await runRewardModelJob(deps, {
        jobId,
        campaignId: c,
        iteration: k,
        dir: path.join(deps.blobDir, c, `iteration-${k}`),
        name: 'reward-model',
        examples: rows.map((r) => ({ prompt: promptOfTask(r.dataset, r.task_id), program: r.program, score: r.score })),
        baseModel: input.rewardModel.baseModel,
        hyperparameters: input.rewardModel.hyperparameters,
        trainer: input.trainer,
        note: Number(unscorable) > 0 ? `${unscorable} unscorable AI-feedback record(s) left out of the training set` : undefined,
      });
      return {
        jobId,
        examples: rows.length,
        excludedUnscorable: Number(unscorable),
        steps,
        rewardModel: { jobId, iteration: k, backend: onnxClassifier(modelDir, input.rewardModel.scoring, 'logit') },
        workerTaskQueue: deps.hostTaskQueue,
      };
    },

    /** The name histories recorded before the kernel's shared policy-update step scheduled. */
    rlaifPolicyUpdate: createPolicyUpdateActivities(deps).policyUpdate,
  };
}
