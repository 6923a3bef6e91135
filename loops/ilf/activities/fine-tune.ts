import fs from 'node:fs/promises';
import { completionOf } from '../../../activities/models/program-text';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { IlfCampaignConfig } from '../config';
import type { PolicyBackend } from '../../../common/campaign-schema';
import { ilfIds } from '../types';
import { ilfTasks } from './tasks';
import type { createTrainingActivities } from '../../../activities/training/index';
import { commandTrainerOf } from '../../../activities/training/job-spec';
import { recordLearningSignal } from '../../../activities/training/learning-signal';
import { startTrainingJob } from '../../../activities/store/training-jobs';
import { checkpointOfExport, policyAfterTraining } from '../../../activities/training/policy-after-training';

type TrainingActivities = ReturnType<typeof createTrainingActivities>;

/**
 * ILF's fine-tuning step (GPU queue): the kept refinements become the SFT set, written as JSONL
 * ({prompt, completion}) under the blob directory, then the configured trainer runs:
 *  - none: nothing is trained, and the job record says so plainly;
 *  - simulated: a stand-in whose checkpoint is a simulated policy that has "seen" the examples;
 *  - command: the trainer protocol (see activities/training).
 * The job row is written first and finished last, so the audit shows jobs that never ended.
 */
export interface IlfFineTuneInput {
  campaignId: string;
  iteration: number;
  trainer: IlfCampaignConfig['trainer'];
  policy: PolicyBackend;
}

export interface IlfFineTuneOutput {
  jobId: string;
  examples: number;
  datasetPath: string;
  trained: boolean;
  steps: number;
  checkpoint?: string;
  nextPolicy: PolicyBackend;
  /** the task queue of the host that holds the checkpoint: evaluate it there */
  workerTaskQueue: string;
}

export function createIlfFineTuneActivities(deps: { pool: pg.Pool; blobDir: string; hostTaskQueue: string; training: Pick<TrainingActivities, 'runTrainingJob'> }) {
  return {
    async ilfFineTune(input: IlfFineTuneInput): Promise<IlfFineTuneOutput> {
      const { campaignId: c, iteration: k } = input;
      const jobId = ilfIds.trainingJob(c, k);
      const { rows } = await deps.pool.query<{ task_id: string; program: string }>(
        `select task_id, program from refinements where campaign_id = $1 and iteration = $2 and kept order by request_id`,
        [c, k],
      );
      const tasks = await ilfTasks(deps.pool, c, k); // MBPP's, or the campaign's dataset file's
      const datasetPath = path.join(deps.blobDir, c, `iteration-${k}`, 'sft.jsonl');
      await fs.mkdir(path.dirname(datasetPath), { recursive: true });
      const pairs = rows.map((r) => {
        const prompt = tasks.get(r.task_id)!.prompt;
        return { task_id: /^\d+$/.test(r.task_id) ? Number(r.task_id) : r.task_id, prompt, completion: completionOf(prompt, r.program) };
      });
      const lines = pairs.map((p) => JSON.stringify(p));
      await fs.writeFile(`${datasetPath}.tmp`, lines.length ? `${lines.join('\n')}\n` : '');
      await fs.rename(`${datasetPath}.tmp`, datasetPath);
      const examples = rows.length;

      await startTrainingJob(deps.pool, { id: jobId, campaignId: c, iteration: k, kind: 'sft', trainer: input.trainer.kind, datasetPath, examples, workerTaskQueue: deps.hostTaskQueue });
      const finish = (status: string, fields: { checkpoint?: string; steps?: number; note?: string; metrics?: object }) =>
        deps.pool.query(
          `update training_jobs set status = $2, checkpoint = $3, steps = $4, note = $5, metrics = $6, finished_at = now(),
             duration_ms = extract(epoch from (now() - started_at)) * 1000 where id = $1`,
          [jobId, status, fields.checkpoint ?? null, fields.steps ?? null, fields.note ?? null, fields.metrics ? JSON.stringify(fields.metrics) : null],
        );

      if (input.trainer.kind === 'none') {
        const note = `no trainer configured; the fine-tuning set (${examples} examples) was written to ${datasetPath}`;
        await finish('skipped', { note, steps: 0 });
        return { jobId, examples, datasetPath, trained: false, steps: 0, nextPolicy: input.policy, workerTaskQueue: deps.hostTaskQueue };
      }
      if (input.trainer.kind === 'simulated') {
        if (input.policy.backend !== 'simulated') {
          throw ApplicationFailure.nonRetryable('trainer.kind "simulated" can only train a simulated policy (models.policy.backend: simulated)', 'InvalidConfig');
        }
        const steps = examples * input.trainer.stepsPerExample;
        const checkpoint = `simulated://${jobId}`;
        Context.current().heartbeat({ steps });
        const trained = { steps: input.policy.trained.steps + steps, examples: input.policy.trained.examples + examples };
        await finish('completed', { checkpoint, steps, note: 'simulated trainer: no real weights', metrics: { simulated: true, ...trained } });
        return { jobId, examples, datasetPath, trained: true, steps, checkpoint, nextPolicy: { ...input.policy, model: checkpoint, trained }, workerTaskQueue: deps.hostTaskQueue };
      }
      if (examples === 0) {
        // nothing to learn from: the campaign goes on with the unchanged policy, and the audit says why
        const note = `no refinement was kept this iteration (0 of the refinements passed the filter): the policy is unchanged`;
        await finish('skipped', { note, steps: 0 });
        return { jobId, examples, datasetPath, trained: false, steps: 0, nextPolicy: input.policy, workerTaskQueue: deps.hostTaskQueue };
      }
      // command: the trainer protocol; resumes from its last complete checkpoint on retry.
      const base = input.policy.backend === 'onnx' ? checkpointOfExport(input.policy.modelDir) : input.policy.backend === 'replay' ? '' : input.policy.model;
      const outputDir = path.join(deps.blobDir, c, `iteration-${k}`, 'sft');
      const result = await deps.training.runTrainingJob({
        // The trainer protocol's job ids are file-name safe; ours name campaign/iteration.
        jobId: jobId.replace(/[^A-Za-z0-9._-]/g, '_'),
        kind: 'sft',
        baseModel: input.iteration > 1 && base ? base : input.trainer.baseModel,
        datasetPath,
        outputDir,
        hyperparameters: input.trainer.hyperparameters,
        trainer: commandTrainerOf(input.trainer),
      });
      const nextPolicy = policyAfterTraining(input.policy, jobId, result.modelPath, result.steps, examples, result.exportPath);
      const trainingSet = pairs.map((p) => ({ prompt: p.prompt, program: p.completion }));
      await recordLearningSignal(deps.pool, { jobId, campaignId: c, iteration: k, kind: 'sft', outputDir, before: input.policy, after: nextPolicy, trainingSet });
      await finish('completed', { checkpoint: result.modelPath, steps: result.steps, metrics: result.metrics });
      return {
        jobId,
        examples,
        datasetPath,
        trained: true,
        steps: result.steps,
        checkpoint: result.modelPath,
        nextPolicy,
        workerTaskQueue: deps.hostTaskQueue,
      };
    },
  };
}
