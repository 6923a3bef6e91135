import { createHash } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import { campaignIds } from '../../common/campaign';
import { GROUP_ADVANTAGE_ESTIMATORS, type CommandTrainerConfig, type PolicyBackend, type PolicyUpdateConfig } from '../../common/campaign-schema';
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
         where r.campaign_id = $1 and r.iteration = $2 and r.status = 'scored' order by g.task_id, g.sample_index, e.dataset, g.id`,
        [c, k],
      );
      const [{ n } = { n: '0' }] = (
        await deps.pool.query<{ n: string }>(`select count(*) as n from rollout_rewards where campaign_id = $1 and iteration = $2 and status = 'unscorable'`, [c, k])
      ).rows;
      const excludedUnscorable = Number(n);
      const dir = path.join(deps.blobDir, c, `iteration-${k}`);
      const datasetPath = path.join(dir, 'policy-update.jsonl');
      const shuffled = input.policyUpdate.rewards === 'shuffled';
      const examples = rows.map((r) => {
        const prompt = promptOfTask(r.dataset, r.task_id);
        return { prompt, completion: completionOf(prompt, r.program) };
      });
      const grouped = shuffled && GROUP_ADVANTAGE_ESTIMATORS.has(input.policyUpdate.advantage ?? 'batch');
      const rewards = shuffled
        ? controlRewards(rows.map((r) => r.reward), grouped ? examples.map((e) => e.prompt) : undefined, new SeededRandom('control-shuffled-rewards', k, rolloutsDigest(examples)))
        : rows.map((r) => r.reward);
      await writeJsonl(datasetPath, examples.map((e, i) => ({ ...e, reward: rewards[i] })));
      await startTrainingJob(deps.pool, { id: jobId, campaignId: c, iteration: k, kind: 'policy_update', trainer: 'command', datasetPath, examples: rows.length, workerTaskQueue: deps.hostTaskQueue });
      const notes = [
        ...(shuffled ? [`CONTROL: rewards shuffled across the rollouts${grouped ? ' of each prompt' : ''} (no feedback)`] : []),
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

/**
 * The no-feedback control's rewards: a seeded permutation of the real ones. Under a group
 * estimator (grpo, rloo) each prompt's rewards are permuted among its own rollouts: every group
 * keeps its rewards, so the update has the advantages of the real one in size and number, and
 * only which program earned which is lost. A permutation across all the rollouts would instead
 * give mixed rewards to groups that all passed or all failed, which the real update leaves at
 * zero advantage: a larger, noisier update than the one it is a control for. Under the batch
 * estimator (one baseline for all) the permutation is across all the rollouts: within a prompt it
 * would still say which prompts' programs pass.
 */
export function controlRewards(rewards: readonly number[], groups: readonly string[] | undefined, rng: SeededRandom): number[] {
  if (!groups) return permuted(rewards, rng);
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => (members.get(g) ?? members.set(g, []).get(g)!).push(i));
  const out = [...rewards];
  for (const idx of members.values()) {
    const values = permuted(idx.map((i) => rewards[i]!), rng);
    idx.forEach((i, j) => (out[i] = values[j]!));
  }
  return out;
}

/**
 * What seeds the control's permutation: the rollouts it permutes, not the campaign's id (a
 * fresh one per run), so that the same config's control repeats and its numbers can be checked.
 */
function rolloutsDigest(examples: ReadonlyArray<{ prompt: string; completion: string }>): string {
  const h = createHash('sha256');
  for (const e of examples) h.update(JSON.stringify([e.prompt, e.completion]));
  return h.digest('hex');
}
