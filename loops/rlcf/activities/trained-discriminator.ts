import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { rlcfIds, type DiscriminatorModelRef } from '../types';
import type { CommandTrainerConfig } from '../../../common/campaign-schema';
import { findTask } from '../../../activities/datasets/registry';
import type { createTrainingActivities } from '../../../activities/training/index';
import { onnxClassifier, runRewardModelJob } from '../../../activities/training/reward-model-job';

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
      const { modelDir, steps } = await runRewardModelJob(deps, {
        jobId,
        campaignId: c,
        iteration: k,
        dir: path.join(deps.blobDir, c, `iteration-${k}`),
        name: 'discriminator',
        examples,
        baseModel: input.discriminator.baseModel,
        hyperparameters: input.discriminator.hyperparameters,
        trainer: input.trainer,
        note: `discriminator: ${referenced.size} references (label 1), ${generated} generated programs that compiled (label 0)`,
      });
      return {
        jobId,
        examples: examples.length,
        references: referenced.size,
        generated,
        steps,
        // P(Yes) = sigmoid(logit): the classifier's probability that the program is a reference.
        discriminator: { jobId, iteration: k, backend: onnxClassifier(modelDir, input.discriminator.scoring, 'sigmoid') },
        workerTaskQueue: deps.hostTaskQueue,
      };
    },
  };
}
