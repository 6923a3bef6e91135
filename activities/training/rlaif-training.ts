import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { PolicyBackend } from '../../common/campaign-config';
import { rlaifIds, type RewardModelRef } from '../../common/rlaif';
import type { RlaifCampaignConfig } from '../../common/rlaif-config';
import { apiBenchPrompt, apiBenchQuestion } from '../datasets/apibench';
import { finishTrainingJob, startTrainingJob } from '../store/training-jobs';
import { policyAfterTraining } from './ilf-fine-tune';
import type { createTrainingActivities } from './index';

type TrainingActivities = ReturnType<typeof createTrainingActivities>;

/**
 * The two training steps of RLAIF (GPU queue), both through the trainer protocol:
 *  - the reward model, on every SCORED AI-feedback record so far ({prompt, program, score});
 *    the trainer exports it to ONNX (final/onnx/), which the onnx backend scores with;
 *  - the policy update (PPO-style, KL to the reference policy), on the rollouts with a SCORED
 *    reward ({prompt, completion, reward}).
 * Unscorable feedback and rewards never enter a training set; each job's note says how many
 * were left out. The job row is written first and finished last.
 */
export interface TrainRewardModelInput {
  campaignId: string;
  iteration: number;
  trainer: RlaifCampaignConfig['trainer'];
  rewardModel: RlaifCampaignConfig['rewardModel'];
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

export interface PolicyUpdateInput {
  campaignId: string;
  iteration: number;
  policy: PolicyBackend;
  /** the weights the last update wrote; policyUpdate.baseModel on the first */
  policyCheckpoint?: string;
  trainer: RlaifCampaignConfig['trainer'];
  policyUpdate: RlaifCampaignConfig['policyUpdate'];
}

export interface PolicyUpdateOutput {
  jobId: string;
  examples: number;
  excludedUnscorable: number;
  trained: boolean;
  steps: number;
  nextPolicy: PolicyBackend;
  policyCheckpoint?: string;
  workerTaskQueue: string;
}

/** The marker trainers/simulated/trainer.mjs leaves in every model it writes. */
const SIMULATED_MARKER = 'feedloop-simulated-model.json';

async function writeJsonl(file: string, rows: readonly object[]): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(`${file}.tmp`, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await fs.rename(`${file}.tmp`, file);
}

/** Trainer protocol job ids are file-name safe; ours name campaign/iteration. */
const protocolJobId = (jobId: string) => jobId.replace(/[^A-Za-z0-9._-]/g, '_');

function promptOf(taskId: string): string {
  const q = apiBenchQuestion(taskId);
  if (!q) throw ApplicationFailure.nonRetryable(`unknown APIBench question ${taskId}`, 'InvalidConfig');
  return apiBenchPrompt(q);
}

export function createRlaifTrainingActivities(deps: { pool: pg.Pool; blobDir: string; hostTaskQueue: string; training: Pick<TrainingActivities, 'runTrainingJob'> }) {
  const jobMetrics = (metrics: Record<string, number>, modelPath: string) =>
    existsSync(path.join(modelPath, SIMULATED_MARKER)) ? { ...metrics, simulated: true } : metrics;

  return {
    async trainRewardModel(input: TrainRewardModelInput): Promise<TrainRewardModelOutput> {
      const { campaignId: c, iteration: k } = input;
      const jobId = rlaifIds.rewardModelJob(c, k);
      const { rows } = await deps.pool.query<{ task_id: string; program: string; score: number }>(
        `select g.task_id, g.program, f.score from ai_feedback f join generations g on g.id = f.generation_id
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
      const dir = path.join(deps.blobDir, c, `iteration-${k}`);
      const datasetPath = path.join(dir, 'reward-model.jsonl');
      await writeJsonl(datasetPath, rows.map((r) => ({ prompt: promptOf(r.task_id), program: r.program, score: r.score })));
      await startTrainingJob(deps.pool, { id: jobId, campaignId: c, iteration: k, kind: 'reward_model', trainer: 'command', datasetPath, examples: rows.length, workerTaskQueue: deps.hostTaskQueue });
      const result = await deps.training.runTrainingJob({
        jobId: protocolJobId(jobId),
        kind: 'reward_model',
        baseModel: input.rewardModel.baseModel,
        datasetPath,
        outputDir: path.join(dir, 'reward-model'),
        hyperparameters: { ...input.trainer.hyperparameters, ...input.rewardModel.hyperparameters },
        trainer: { type: 'command', argv: input.trainer.command },
      });
      const modelDir = path.join(result.modelPath, 'onnx');
      if (!existsSync(path.join(modelDir, 'model.onnx'))) {
        throw ApplicationFailure.nonRetryable(`the reward-model trainer reported ${result.modelPath} but wrote no ONNX export at ${modelDir}/model.onnx`, 'RewardModelNotExported');
      }
      await finishTrainingJob(deps.pool, jobId, 'completed', {
        checkpoint: modelDir,
        steps: result.steps,
        note: Number(unscorable) > 0 ? `${unscorable} unscorable AI-feedback record(s) left out of the training set` : undefined,
        metrics: jobMetrics(result.metrics, result.modelPath),
      });
      const { scoring } = input.rewardModel;
      return {
        jobId,
        examples: rows.length,
        excludedUnscorable: Number(unscorable),
        steps: result.steps,
        rewardModel: {
          jobId,
          iteration: k,
          backend: {
            backend: 'onnx',
            task: 'sequence-classification',
            modelDir,
            modelFile: 'model.onnx',
            executionProvider: scoring.executionProvider,
            deviceId: 0,
            batchSize: scoring.batchSize,
            maxLength: scoring.maxLength,
            rewardLabel: 0,
            scoreTransform: 'logit',
          },
        },
        workerTaskQueue: deps.hostTaskQueue,
      };
    },

    async rlaifPolicyUpdate(input: PolicyUpdateInput): Promise<PolicyUpdateOutput> {
      const { campaignId: c, iteration: k } = input;
      const jobId = rlaifIds.policyUpdateJob(c, k);
      const { rows } = await deps.pool.query<{ task_id: string; program: string; reward: number }>(
        `select g.task_id, g.program, r.reward from rollout_rewards r join generations g on g.id = r.generation_id
         where r.campaign_id = $1 and r.iteration = $2 and r.status = 'scored' order by g.task_id, g.sample_index`,
        [c, k],
      );
      const [{ n } = { n: '0' }] = (
        await deps.pool.query<{ n: string }>(`select count(*) as n from rollout_rewards where campaign_id = $1 and iteration = $2 and status = 'unscorable'`, [c, k])
      ).rows;
      const excludedUnscorable = Number(n);
      const dir = path.join(deps.blobDir, c, `iteration-${k}`);
      const datasetPath = path.join(dir, 'policy-update.jsonl');
      await writeJsonl(datasetPath, rows.map((r) => ({ prompt: promptOf(r.task_id), completion: r.program, reward: r.reward })));
      await startTrainingJob(deps.pool, { id: jobId, campaignId: c, iteration: k, kind: 'policy_update', trainer: 'command', datasetPath, examples: rows.length, workerTaskQueue: deps.hostTaskQueue });
      const excludedNote = excludedUnscorable > 0 ? `${excludedUnscorable} rollout(s) with an unscorable reward left out` : undefined;
      if (rows.length === 0) {
        await finishTrainingJob(deps.pool, jobId, 'skipped', { steps: 0, note: `no rollout has a scored reward${excludedNote ? ` (${excludedNote})` : ''}: the policy is unchanged` });
        return { jobId, examples: 0, excludedUnscorable, trained: false, steps: 0, nextPolicy: input.policy, policyCheckpoint: input.policyCheckpoint, workerTaskQueue: deps.hostTaskQueue };
      }
      const baseModel = input.policyCheckpoint ?? input.policyUpdate.baseModel;
      const result = await deps.training.runTrainingJob({
        jobId: protocolJobId(jobId),
        kind: 'policy_update',
        baseModel,
        datasetPath,
        outputDir: path.join(dir, 'policy-update'),
        hyperparameters: {
          ...input.trainer.hyperparameters,
          ...input.policyUpdate.hyperparameters,
          // KL to the policy before RL, whichever checkpoint this update starts from.
          reference_model: input.policyUpdate.referenceModel ?? input.policyUpdate.baseModel,
        },
        trainer: { type: 'command', argv: input.trainer.command },
      });
      await finishTrainingJob(deps.pool, jobId, 'completed', { checkpoint: result.modelPath, steps: result.steps, note: excludedNote, metrics: jobMetrics(result.metrics, result.modelPath) });
      return {
        jobId,
        examples: rows.length,
        excludedUnscorable,
        trained: true,
        steps: result.steps,
        nextPolicy: policyAfterTraining(input.policy, jobId, result.modelPath, result.steps, rows.length),
        policyCheckpoint: result.modelPath,
        workerTaskQueue: deps.hostTaskQueue,
      };
    },
  };
}
