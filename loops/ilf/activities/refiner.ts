import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { IlfCampaignConfig } from '../config';
import type { PolicyBackend } from '../../../common/campaign-schema';
import { ilfIds } from '../types';
import { loadIlfAnnotations } from '../../../activities/datasets/ilf';
import { loadMbpp } from '../../../activities/datasets/mbpp';
import { refinementPrompt } from '../../../activities/models/prompts';
import { finishTrainingJob, startTrainingJob } from '../../../activities/store/training-jobs';
import type { createTrainingActivities } from '../../../activities/training/index';
import { commandTrainerOf } from '../../../activities/training/job-spec';
import { policyAfterTraining } from '../../../activities/training/policy-after-training';

/**
 * Trains ILF's Refine model (pi_Refine) before the first iteration, as in the paper: SFT on the
 * MBPP_Refine triples of the released human data (task + failing program + feedback ->
 * the human refinement), with the same prompt the refine step uses afterwards.
 */
export interface TrainIlfRefinerInput {
  campaignId: string;
  refineSplit: [number, number];
  trainer: IlfCampaignConfig['trainer'];
  refiner: PolicyBackend;
}

export interface TrainIlfRefinerOutput {
  jobId: string;
  examples: number;
  steps: number;
  nextRefiner: PolicyBackend;
}

type TrainingActivities = ReturnType<typeof createTrainingActivities>;

export function createIlfRefinerActivities(deps: { pool: pg.Pool; blobDir: string; hostTaskQueue: string; training: Pick<TrainingActivities, 'runTrainingJob'> }) {
  return {
    async trainIlfRefiner(input: TrainIlfRefinerInput): Promise<TrainIlfRefinerOutput> {
      const { campaignId: c, trainer } = input;
      if (trainer.kind === 'none') throw ApplicationFailure.nonRetryable('refiner.train needs a trainer (trainer.kind other than "none")', 'InvalidConfig');
      const jobId = ilfIds.refinerJob(c);
      const [lo, hi] = input.refineSplit;
      const tasks = new Map(loadMbpp().map((t) => [t.taskId, t]));
      const triples = loadIlfAnnotations().filter((a) => a.taskId >= lo && a.taskId <= hi);
      const lines = triples.map((a) =>
        JSON.stringify({ task_id: a.taskId, prompt: refinementPrompt(tasks.get(a.taskId)!, a.modelProgram, a.feedback), completion: a.refinement }),
      );
      const datasetPath = path.join(deps.blobDir, c, 'refiner', 'sft.jsonl');
      await fs.mkdir(path.dirname(datasetPath), { recursive: true });
      await fs.writeFile(`${datasetPath}.tmp`, lines.length ? `${lines.join('\n')}\n` : '');
      await fs.rename(`${datasetPath}.tmp`, datasetPath);
      const examples = lines.length;
      await startTrainingJob(deps.pool, { id: jobId, campaignId: c, iteration: null, kind: 'sft', trainer: trainer.kind, datasetPath, examples, workerTaskQueue: deps.hostTaskQueue });

      let steps: number;
      let modelPath: string;
      if (trainer.kind === 'simulated') {
        if (input.refiner.backend !== 'simulated') throw ApplicationFailure.nonRetryable('trainer.kind "simulated" can only train a simulated refiner', 'InvalidConfig');
        steps = examples * trainer.stepsPerExample;
        modelPath = `simulated://${jobId}`;
        Context.current().heartbeat({ steps });
      } else {
        const result = await deps.training.runTrainingJob({
          jobId: jobId.replace(/[^A-Za-z0-9._-]/g, '_'),
          kind: 'sft',
          baseModel: trainer.baseModel,
          datasetPath,
          outputDir: path.join(deps.blobDir, c, 'refiner', 'sft'),
          hyperparameters: trainer.hyperparameters,
          trainer: commandTrainerOf(trainer),
        });
        steps = result.steps;
        modelPath = result.modelPath;
      }
      await finishTrainingJob(deps.pool, jobId, 'completed', {
        checkpoint: modelPath,
        steps,
        note: trainer.kind === 'simulated' ? 'simulated trainer: no real weights' : `pi_Refine on ${examples} MBPP_Refine triples`,
      });
      return { jobId, examples, steps, nextRefiner: policyAfterTraining(input.refiner, jobId, modelPath, steps, examples) };
    },
  };
}
