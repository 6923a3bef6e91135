import path from 'node:path';
import type pg from 'pg';
import { campaignIds } from '../../common/campaign';
import type { CommandTrainerConfig, PolicyBackend, PolicyUpdateConfig } from '../../common/campaign-schema';
import { promptOfTask } from '../datasets/registry';
import { completionOf } from '../models/program-text';
import { SeededRandom, shuffled as permuted } from '../simulation/seeded-random';
import { finishTrainingJob, startTrainingJob } from '../store/training-jobs';
import { policyAfterTraining } from '../training/policy-after-training';
import type { createTrainingActivities } from '../training/index';
import { commandTrainerOf } from '../training/job-spec';
import { recordLearningSignal } from '../training/learning-signal';
import { jobMetrics, protocolJobId, writeJsonl } from '../training/training-sets';

/**
 * The one policy-update step of the RL loops (GPU queue, trainer protocol `policy_update`:
 * PPO-style clipped update with a KL penalty to the reference policy, advantages by the
 * configured estimator: batch-normalised, GRPO or RLOO). It trains on the
 * per-rollout reward table (`rollout_rewards`) whatever reward source wrote it (a reward model,
 * compiler feedback, crowd consensus: common/rewards.ts): rollouts whose reward is
 * UNSCORABLE are left out, never counted as 0, and the job's note says how many.
 */
export interface PolicyUpdateInput {
  campaignId: string;
  iteration: number;
  policy: PolicyBackend;
  /** the weights the last update wrote; policyUpdate.baseModel on the first */
  policyCheckpoint?: string;
  trainer: CommandTrainerConfig;
  policyUpdate: PolicyUpdateConfig;
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

type TrainingActivities = ReturnType<typeof createTrainingActivities>;

export function createPolicyUpdateActivities(deps: { pool: pg.Pool; blobDir: string; hostTaskQueue: string; training: Pick<TrainingActivities, 'runTrainingJob'> }) {
  return {
    async policyUpdate(input: PolicyUpdateInput): Promise<PolicyUpdateOutput> {
      const { campaignId: c, iteration: k } = input;
      const jobId = campaignIds.policyUpdateJob(c, k);
      const { rows } = await deps.pool.query<{ dataset: string; task_id: string; program: string; reward: number }>(
        `select e.dataset, g.task_id, g.program, r.reward
         from rollout_rewards r join generations g on g.id = r.generation_id join eval_runs e on e.id = g.eval_run_id
         where r.campaign_id = $1 and r.iteration = $2 and r.status = 'scored' order by g.task_id, g.sample_index`,
        [c, k],
      );
      const [{ n } = { n: '0' }] = (
        await deps.pool.query<{ n: string }>(`select count(*) as n from rollout_rewards where campaign_id = $1 and iteration = $2 and status = 'unscorable'`, [c, k])
      ).rows;
      const excludedUnscorable = Number(n);
      const dir = path.join(deps.blobDir, c, `iteration-${k}`);
      const datasetPath = path.join(dir, 'policy-update.jsonl');
      const shuffled = input.policyUpdate.rewards === 'shuffled';
      const rewards = shuffled ? permuted(rows.map((r) => r.reward), new SeededRandom('control-shuffled-rewards', jobId)) : rows.map((r) => r.reward);
      const examples = rows.map((r) => {
        const prompt = promptOfTask(r.dataset, r.task_id);
        return { prompt, completion: completionOf(prompt, r.program) };
      });
      await writeJsonl(datasetPath, examples.map((e, i) => ({ ...e, reward: rewards[i] })));
      await startTrainingJob(deps.pool, { id: jobId, campaignId: c, iteration: k, kind: 'policy_update', trainer: 'command', datasetPath, examples: rows.length, workerTaskQueue: deps.hostTaskQueue });
      const notes = [
        ...(shuffled ? ['CONTROL: rewards shuffled across the rollouts (no feedback)'] : []),
        ...(excludedUnscorable > 0 ? [`${excludedUnscorable} rollout(s) with an unscorable reward left out`] : []),
      ];
      const excludedNote = notes.length ? notes.join('; ') : undefined;
      if (rows.length === 0) {
        await finishTrainingJob(deps.pool, jobId, 'skipped', { steps: 0, note: `no rollout has a scored reward${excludedNote ? ` (${excludedNote})` : ''}: the policy is unchanged` });
        return { jobId, examples: 0, excludedUnscorable, trained: false, steps: 0, nextPolicy: input.policy, policyCheckpoint: input.policyCheckpoint, workerTaskQueue: deps.hostTaskQueue };
      }
      const baseModel = input.policyCheckpoint ?? input.policyUpdate.baseModel;
      const outputDir = path.join(dir, 'policy-update');
      const result = await deps.training.runTrainingJob({
        jobId: protocolJobId(jobId),
        kind: 'policy_update',
        baseModel,
        datasetPath,
        outputDir,
        hyperparameters: {
          ...input.trainer.hyperparameters,
          ...input.policyUpdate.hyperparameters,
          ...(input.policyUpdate.advantage ? { advantage: input.policyUpdate.advantage } : {}),
          // KL to the policy before RL, whichever checkpoint this update starts from.
          reference_model: input.policyUpdate.referenceModel ?? input.policyUpdate.baseModel,
        },
        trainer: commandTrainerOf(input.trainer),
      });
      const nextPolicy = policyAfterTraining(input.policy, jobId, result.modelPath, result.steps, rows.length, result.exportPath);
      const trainingSet = examples.map((e) => ({ prompt: e.prompt, program: e.completion }));
      await recordLearningSignal(deps.pool, { jobId, campaignId: c, iteration: k, kind: 'policy_update', outputDir, before: input.policy, after: nextPolicy, trainingSet });
      await finishTrainingJob(deps.pool, jobId, 'completed', { checkpoint: result.modelPath, steps: result.steps, note: excludedNote, metrics: jobMetrics(result.metrics, result.modelPath) });
      return {
        jobId,
        examples: rows.length,
        excludedUnscorable,
        trained: true,
        steps: result.steps,
        nextPolicy,
        policyCheckpoint: result.modelPath,
        workerTaskQueue: deps.hostTaskQueue,
      };
    },
  };
}

