import { existsSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { rlcfIds, type DiscriminatorModelRef } from '../../loops/rlcf/types';
import type { CommandTrainerConfig } from '../../common/campaign-schema';
import { findTask } from '../datasets/registry';
import { finishTrainingJob, startTrainingJob } from '../store/training-jobs';
import type { createTrainingActivities } from '../training/index';
import { jobMetrics, protocolJobId, writeJsonl } from '../training/training-sets';

/**
 * RLCF's `trained` discriminator, the paper's GAN-like setting (GPU queue, trainer protocol
 * `reward_model` job): a sequence classifier learns to tell the tasks' reference solutions
 * (score 1) from the policy's generated programs that compiled (score 0), on every iteration's
 * rollouts so far; a generated program identical to its reference is left out (it would be both).
 * The trainer exports it to ONNX (final/onnx/); the `onnx` backend scores compiled rollouts with
 * it on the host that trained it, P(Yes) = sigmoid(logit) (discriminateRollouts, kind trained).
 */
export interface TrainedDiscriminatorSettings {
  baseModel: string;
  hyperparameters: Record<string, unknown>;
  scoring: { executionProvider: 'cpu' | 'cuda'; batchSize: number; maxLength: number };
}

export interface TrainDiscriminatorInput {
  campaignId: string;
  iteration: number;
  trainer: CommandTrainerConfig;
  discriminator: TrainedDiscriminatorSettings;
}

export interface TrainDiscriminatorOutput {
  jobId: string;
  examples: number;
  references: number;
  generated: number;
  steps: number;
  discriminator: DiscriminatorModelRef;
  /** the host that holds the model: score with it there */
  workerTaskQueue: string;
}


type TrainingActivities = ReturnType<typeof createTrainingActivities>;

export function createTrainedDiscriminatorActivities(deps: { pool: pg.Pool; blobDir: string; hostTaskQueue: string; training: Pick<TrainingActivities, 'runTrainingJob'> }) {
  return {
    async trainDiscriminator(input: TrainDiscriminatorInput): Promise<TrainDiscriminatorOutput> {
      const { campaignId: c, iteration: k } = input;
      const jobId = rlcfIds.discriminatorJob(c, k);
      const runs = Array.from({ length: k }, (_, i) => `${c}/iteration-${i + 1}/rollouts`);
      const { rows } = await deps.pool.query<{ task_id: string; program: string }>(
        `select g.task_id, g.program from rlcf_grounding r join generations g on g.id = r.generation_id
         where r.eval_run_id = any($1) and r.compile_outcome = 'compiled' order by r.eval_run_id, g.task_id, g.sample_index`,
        [runs],
      );
      const examples: Array<{ prompt: string; program: string; score: number }> = [];
      const referenced = new Set<string>();
      for (const r of rows) {
        const task = findTask('mbjp', r.task_id);
        if (!task?.reference) continue;
        if (!referenced.has(r.task_id)) {
          referenced.add(r.task_id);
          examples.push({ prompt: task.prompt, program: task.reference, score: 1 });
        }
        if (r.program.trim() !== task.reference.trim()) examples.push({ prompt: task.prompt, program: r.program, score: 0 });
      }
      const generated = examples.length - referenced.size;
      if (referenced.size === 0 || generated === 0) {
        throw ApplicationFailure.nonRetryable(`no compiled rollouts that differ from their references to train the discriminator on (iterations 1-${k})`, 'NoTrainingData');
      }
      const dir = path.join(deps.blobDir, c, `iteration-${k}`);
      const datasetPath = path.join(dir, 'discriminator.jsonl');
      await writeJsonl(datasetPath, examples);
      await startTrainingJob(deps.pool, { id: jobId, campaignId: c, iteration: k, kind: 'reward_model', trainer: 'command', datasetPath, examples: examples.length, workerTaskQueue: deps.hostTaskQueue });
      const result = await deps.training.runTrainingJob({
        jobId: protocolJobId(jobId),
        kind: 'reward_model',
        baseModel: input.discriminator.baseModel,
        datasetPath,
        outputDir: path.join(dir, 'discriminator'),
        hyperparameters: { ...input.trainer.hyperparameters, ...input.discriminator.hyperparameters },
        trainer: { type: 'command', argv: input.trainer.command },
      });
      const modelDir = path.join(result.modelPath, 'onnx');
      if (!existsSync(path.join(modelDir, 'model.onnx'))) {
        throw ApplicationFailure.nonRetryable(`the discriminator trainer reported ${result.modelPath} but wrote no ONNX export at ${modelDir}/model.onnx`, 'RewardModelNotExported');
      }
      await finishTrainingJob(deps.pool, jobId, 'completed', {
        checkpoint: modelDir,
        steps: result.steps,
        note: `discriminator: ${referenced.size} references (label 1), ${generated} generated programs that compiled (label 0)`,
        metrics: jobMetrics(result.metrics, result.modelPath),
      });
      const { scoring } = input.discriminator;
      return {
        jobId,
        examples: examples.length,
        references: referenced.size,
        generated,
        steps: result.steps,
        discriminator: {
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
            scoreTransform: 'sigmoid',
          },
        },
        workerTaskQueue: deps.hostTaskQueue,
      };
    },
  };
}
