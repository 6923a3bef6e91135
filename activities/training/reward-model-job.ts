import { existsSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { CommandTrainerConfig } from '../../common/campaign-schema';
import type { OnnxBackendConfig } from '../../common/model-config';
import { finishTrainingJob, startTrainingJob } from '../store/training-jobs';
import type { createTrainingActivities } from './index';
import { commandTrainerOf } from './job-spec';
import { jobMetrics, protocolJobId, writeJsonl } from './training-sets';

/**
 * One `reward_model` job of the trainer protocol whose model is scored with the `onnx` backend
 * (RLAIF's reward model, RLCF's trained discriminator): writes the training set, records the
 * job, runs it, checks the trainer exported final/onnx/model.onnx, and finishes the job row.
 */
export interface RewardModelJobInput {
  jobId: string;
  campaignId: string;
  iteration: number;
  /** where the training set and the job's output go */
  dir: string;
  /** the training set's file name in dir, and the job's output folder name */
  name: string;
  examples: ReadonlyArray<{ prompt: string; program: string; score: number }>;
  baseModel: string;
  hyperparameters: Record<string, unknown>;
  trainer: CommandTrainerConfig;
  note?: string;
}

type TrainingActivities = ReturnType<typeof createTrainingActivities>;

export async function runRewardModelJob(
  deps: { pool: pg.Pool; hostTaskQueue: string; training: Pick<TrainingActivities, 'runTrainingJob'> },
  input: RewardModelJobInput,
): Promise<{ modelDir: string; steps: number }> {
  const datasetPath = path.join(input.dir, `${input.name}.jsonl`);
  await writeJsonl(datasetPath, input.examples);
  await startTrainingJob(deps.pool, {
    id: input.jobId,
    campaignId: input.campaignId,
    iteration: input.iteration,
    kind: 'reward_model',
    trainer: 'command',
    datasetPath,
    examples: input.examples.length,
    workerTaskQueue: deps.hostTaskQueue,
  });
  const result = await deps.training.runTrainingJob({
    jobId: protocolJobId(input.jobId),
    kind: 'reward_model',
    baseModel: input.baseModel,
    datasetPath,
    outputDir: path.join(input.dir, input.name),
    hyperparameters: { ...input.trainer.hyperparameters, ...input.hyperparameters },
    trainer: commandTrainerOf(input.trainer),
  });
  const modelDir = path.join(result.modelPath, 'onnx');
  if (!existsSync(path.join(modelDir, 'model.onnx'))) {
    throw ApplicationFailure.nonRetryable(`the ${input.name} trainer reported ${result.modelPath} but wrote no ONNX export at ${modelDir}/model.onnx`, 'RewardModelNotExported');
  }
  await finishTrainingJob(deps.pool, input.jobId, 'completed', { checkpoint: modelDir, steps: result.steps, note: input.note, metrics: jobMetrics(result.metrics, result.modelPath) });
  return { modelDir, steps: result.steps };
}

/** The onnx backend that scores with an exported classifier. */
export function onnxClassifier(modelDir: string, scoring: { executionProvider: 'cpu' | 'cuda'; batchSize: number; maxLength: number }, scoreTransform: OnnxBackendConfig['scoreTransform']): OnnxBackendConfig {
  return {
    backend: 'onnx',
    task: 'sequence-classification',
    modelDir,
    modelFile: 'model.onnx',
    executionProvider: scoring.executionProvider,
    deviceId: 0,
    batchSize: scoring.batchSize,
    maxLength: scoring.maxLength,
    rewardLabel: 0,
    scoreTransform,
  };
}
