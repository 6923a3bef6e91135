import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import type { createAiFeedbackActivities } from './activities/ai-feedback';
import type { createApiBenchMetricsActivities } from './activities/apibench-evaluation';
import type { createApiGenerationActivities } from './activities/generate-api-samples';
import type { createRolloutScoringActivities } from './activities/score-rollouts';
import type { createRlaifTrainingActivities } from './activities/training';
import { DEFAULT_TASK_QUEUES, type TaskQueues } from '../../common/task-queues';
import type { ActivityTimeoutsInput } from '../../common/campaign-schema';
import { capability, hostRoute, kernelActivities, modelCapability } from '../../workflows/activities';
import { onHostOrFallback } from '../../workflows/host-fallback';
import { runCampaign, type CampaignInput, type CampaignLoop } from '../../workflows/campaign';
import { evaluationWorkflow, setPhase } from '../../workflows/evaluation';
import { IterationSkeleton } from '../../workflows/iteration';
import { updateAndEvaluate } from '../../workflows/update-and-evaluate';
import { modelPlacement, onCheckpointHost } from '../../workflows/routing';
import type { EvaluationInput, EvaluationSummary } from '../../common/evaluation';
import type { RewardCounts } from '../../common/rewards';
import type { RlaifCampaignConfig, RlaifCodeDataset } from './config';
import {
  rlaifIds,
  type ApiBenchEvaluationInput,
  type ApiBenchEvaluationSummary,
  type RewardModelRef,
  type RlaifCarry,
  type RlaifIterationCounts,
  type RlaifIterationInput,
  type RlaifIterationResult,
  type RlaifPhase,
} from './types';

/**
 * RLAIF (Dutta et al. 2024) on the loop kernel. One iteration, as its own workflow:
 *   generate rollouts -> AI feedback -> reward model (iteration 1, then every retrainEvery)
 *   -> reward scores -> policy update -> evaluate (APIBench: executability, CodeBLEU, AST match).
 * With `reward: ai-feedback` the judge's scores are the rewards (no reward model).
 * The campaign (workflows/campaign.ts) runs iterations until the configured number or a stopping
 * rule on the executability rate.
 */
function rlaifActivities(queues: TaskQueues, timeouts: ActivityTimeoutsInput | undefined) {
  return {
    answers: (model: { backend: string }) => modelCapability<typeof createApiGenerationActivities>(modelPlacement(queues, model), timeouts),
    judge: (model: { backend: string }) => modelCapability<typeof createAiFeedbackActivities>(modelPlacement(queues, model), timeouts),
    metrics: capability<typeof createApiBenchMetricsActivities>('sandbox', queues.cpu, timeouts),
    summary: capability<typeof createApiBenchMetricsActivities>('longCpu', queues.cpu, timeouts),
    rewardScoring: capability<typeof createRolloutScoringActivities>('gpu', queues.gpu, timeouts),
    training: capability<typeof createRlaifTrainingActivities>('training', queues.gpu, timeouts),
    store: capability<typeof createAiFeedbackActivities>('store', queues.cpu, timeouts),
  };
}

/**
 * Reward scoring on the reward model's host, and the evaluation's answers on the updated policy's
 * host, fall back to any GPU host (workflows/host-fallback.ts); histories from before replay without.
 */
export const RLAIF_HOST_FALLBACK_PATCH = 'rlaif-host-fallback';

/** Whether iteration k trains the reward model: always the first, then every `retrainEvery`. */
export function trainsRewardModel(k: number, retrainEvery: number): boolean {
  return k === 1 || (retrainEvery > 0 && (k - 1) % retrainEvery === 0);
}

/**
 * Evaluates a policy on the APIBench eval questions with the paper's metrics: answers are
 * sampled (on the policy's worker), scored (CPU queue: AST match, CodeBLEU, executability) and
 * summarised. The history holds ids, counts and the metrics only.
 */
export async function apibenchEvaluationWorkflow(input: ApiBenchEvaluationInput): Promise<ApiBenchEvaluationSummary> {
  if (!Number.isInteger(input.samplesPerQuestion) || input.samplesPerQuestion < 1) {
    throw ApplicationFailure.nonRetryable('samplesPerQuestion: must be an integer >= 1', 'InvalidConfig');
  }
  const evalRunId = input.evalRunId ?? workflowInfo().workflowId;
  const queues = { ...DEFAULT_TASK_QUEUES, ...input.taskQueues };
  const acts = kernelActivities(queues, input.timeouts);
  const rlaif = rlaifActivities(queues, input.timeouts);
  setPhase('generate');
  await acts.evalStore.createEvalRun({ evalRunId, dataset: 'apibench', split: 'test', policy: input.policy, samplesPerTask: input.samplesPerQuestion, ks: [] });
  const request = {
    evalRunId,
    questions: { part: 'eval' as const, hubs: input.hubs, heldOutFraction: input.heldOutFraction, maxPerHub: input.maxQuestionsPerHub },
    policy: input.policy,
    samplesPerQuestion: input.samplesPerQuestion,
    sampling: input.sampling,
  };
  // On the updated policy's host, or after the host schedule-to-start timeout on any GPU host.
  const onHost = input.policy.backend !== 'openai' && queues.gpuFallback !== undefined && patched(RLAIF_HOST_FALLBACK_PATCH) ? hostRoute<typeof createApiGenerationActivities>('gpu', queues, input.timeouts) : undefined;
  const generated = onHost
    ? (await onHostOrFallback(onHost, 'generate', (stubs, placement) => stubs.generateApiSamples({ ...request, placement }))).result
    : await rlaif.answers(input.policy).generateApiSamples(request);
  if (generated.samples === 0) throw ApplicationFailure.nonRetryable('no APIBench eval questions selected: check dataset.hubs', 'InvalidConfig');
  setPhase('score');
  const { probe } = await rlaif.metrics.scoreApiBenchRun({ evalRunId });
  setPhase('summarize');
  const summary = await rlaif.summary.summarizeApiBenchRun({ evalRunId, probe });
  setPhase('done');
  return summary;
}

/** The APIBench evaluation of a policy: iteration k's, or the starting policy's (k = 0). */
function rlaifEvaluationInput(config: RlaifCampaignConfig, policy: RlaifCarry['policy'], k: number, taskQueues: TaskQueues): ApiBenchEvaluationInput {
  const { eval: evalSampling } = config.sampling;
  const dataset = config.dataset as Extract<RlaifCampaignConfig['dataset'], { name: 'apibench' }>;
  return {
    hubs: dataset.hubs,
    heldOutFraction: dataset.heldOutFraction,
    maxQuestionsPerHub: dataset.maxEvalQuestionsPerHub,
    policy,
    samplesPerQuestion: evalSampling.n,
    sampling: { temperature: evalSampling.temperature, topP: evalSampling.topP, maxTokens: evalSampling.maxTokens, seed: config.seed * 1000 + 500 + k },
    taskQueues,
    timeouts: config.timeouts,
  };
}

/** On a code dataset: the held-out pass@k evaluation of a policy (the kernel's evaluation workflow). */
function codeEvaluationInput(config: RlaifCampaignConfig, dataset: RlaifCodeDataset, policy: RlaifCarry['policy'], k: number, taskQueues: TaskQueues): EvaluationInput {
  const e = config.sampling.eval;
  return {
    dataset: dataset.name,
    split: dataset.test,
    ...(dataset.maxEvalTasks ? { maxTasks: dataset.maxEvalTasks } : {}),
    policy,
    samplesPerTask: e.n,
    ks: dataset.ks,
    sampling: { temperature: e.temperature, topP: e.topP, maxTokens: e.maxTokens, seed: config.seed * 1000 + 500 + k },
    taskQueues,
    timeouts: config.timeouts,
  };
}

/** The dataset when it is a code dataset (the campaign evaluates pass@k), else undefined (APIBench). */
const codeDatasetOf = (config: RlaifCampaignConfig): RlaifCodeDataset | undefined => (config.dataset.name === 'apibench' ? undefined : (config.dataset as RlaifCodeDataset));

export async function rlaifIterationWorkflow(input: RlaifIterationInput): Promise<RlaifIterationResult> {
  const { campaignId: c, iteration: k, config } = input;
  const it = new IterationSkeleton<RlaifPhase, RlaifIterationCounts>({
    campaignId: c,
    iteration: k,
    algorithm: 'rlaif',
    firstPhase: 'generate',
    policy: input.policy,
    config,
    recordsStop: () => true,
  });
  const { acts, counts } = it;
  const rlaif = rlaifActivities(config.taskQueues, config.timeouts);
  let policy = input.policy;
  let policyCheckpoint = input.policyCheckpoint;
  let rewardModel: RewardModelRef | undefined = input.rewardModel;
  const stopped = () => it.stopped({ nextPolicy: policy, policyCheckpoint, rewardModel });

  await it.start();

  // 1. Rollouts: the policy answers a batch of training questions.
  await it.enter('generate');
  const rollouts = rlaifIds.rollouts(c, k);
  const { rollout } = config.sampling;
  const code = codeDatasetOf(config);
  const rolloutSampling = { temperature: rollout.temperature, topP: rollout.topP, maxTokens: rollout.maxTokens, seed: config.seed * 1000 + k };
  let generated: { samples: number };
  if (code) {
    // A code dataset: the policy writes programs for the train split's tasks; they are not tested, the judge scores them.
    await acts.evalStore.createEvalRun({ evalRunId: rollouts, dataset: code.name, split: code.train, policy, samplesPerTask: rollout.n, ks: [] });
    const selection = { dataset: code.name, split: code.train, ...(code.rolloutTasks ? { maxTasks: code.rolloutTasks } : {}) };
    generated = await acts.generation(policy).generateSamples({ evalRunId: rollouts, ...selection, policy, samplesPerTask: rollout.n, sampling: rolloutSampling });
  } else {
    const apibench = config.dataset as Extract<RlaifCampaignConfig['dataset'], { name: 'apibench' }>;
    await acts.evalStore.createEvalRun({ evalRunId: rollouts, dataset: 'apibench', split: 'train', policy, samplesPerTask: rollout.n, ks: [] });
    generated = await rlaif.answers(policy).generateApiSamples({
      evalRunId: rollouts,
      questions: { part: 'train', hubs: apibench.hubs, heldOutFraction: apibench.heldOutFraction, seed: config.seed, iteration: k, size: apibench.rolloutQuestions },
      policy,
      samplesPerQuestion: rollout.n,
      sampling: rolloutSampling,
    });
  }
  if (it.stopRequested) return stopped();

  // 2. AI feedback: the judge's yes/no answers about every rollout (unscorable ones recorded as such).
  await it.enter('feedback', { rollouts: generated.samples });
  const feedback = await rlaif.judge(config.models.feedback).collectAiFeedback({ campaignId: c, iteration: k, evalRunId: rollouts, judge: config.models.feedback, feedback: config.feedback });
  if (it.stopRequested) return stopped();

  // 3. Reward model, on every scored feedback record so far (none when the judge's scores are the rewards).
  let rewards: RewardCounts;
  if (config.reward === 'ai-feedback') {
    // 4. The judge's score of each rollout is its reward: the reward source "ai-feedback".
    await it.enter('score', { feedbackScored: feedback.scored, feedbackUnscorable: feedback.unscorable });
    rewards = await rlaif.store.rewardsFromAiFeedback({ campaignId: c, iteration: k, evalRunId: rollouts });
  } else {
    const rewardModelConfig = config.rewardModel!;
    await it.enter('reward_model', { feedbackScored: feedback.scored, feedbackUnscorable: feedback.unscorable });
    let scoringQueues: TaskQueues = config.taskQueues;
    if (trainsRewardModel(k, rewardModelConfig.retrainEvery) || !rewardModel) {
      const trained = await rlaif.training.trainRewardModel({ campaignId: c, iteration: k, trainer: config.trainer, rewardModel: rewardModelConfig });
      rewardModel = trained.rewardModel;
      counts.rewardModelExamples = trained.examples;
      // The reward model was just written on that host: score with it there.
      scoringQueues = onCheckpointHost(config.taskQueues, trained.workerTaskQueue);
    }
    if (it.stopRequested) return stopped();

    // 4. Reward scores of the rollouts (the onnx backend, GPU queue): the reward source "reward-model".
    await it.enter('score', counts.rewardModelExamples === undefined ? {} : { rewardModelExamples: counts.rewardModelExamples });
    const scoring = { campaignId: c, iteration: k, evalRunId: rollouts, rewardModel };
    const onHost = scoringQueues.gpuFallback !== undefined && patched(RLAIF_HOST_FALLBACK_PATCH) ? hostRoute<typeof createRolloutScoringActivities>('gpu', scoringQueues, config.timeouts) : undefined;
    // On the reward model's host, or after the host schedule-to-start timeout on any GPU host
    // (which pulls the model from the shared store); the activity records where it ran and why.
    rewards = onHost
      ? (await onHostOrFallback(onHost, 'score', (stubs, placement) => stubs.scoreRollouts({ ...scoring, placement }))).result
      : await rlaifActivities(scoringQueues, config.timeouts).rewardScoring.scoreRollouts(scoring);
  }
  if (it.stopRequested) return stopped();

  // 5. Policy update (PPO-style, KL to the reference) on the rollouts with a scored reward, then
  // 6. evaluate the updated policy on the host that holds it: held-out pass@k on a code dataset,
  // else the APIBench eval questions.
  const tail = {
    campaignId: c,
    iteration: k,
    algorithm: 'rlaif',
    config,
    policy,
    policyCheckpoint,
    rewards,
    // The shared policy-update step of the kernel; histories recorded before it named RLAIF's own.
    runUpdate: (updateInput: Parameters<typeof acts.policyUpdate.policyUpdate>[0]) => (patched('kernel-policy-update') ? acts.policyUpdate.policyUpdate(updateInput) : rlaif.training.rlaifPolicyUpdate(updateInput)),
  };
  if (code) {
    const { update, evaluation: summary } = await updateAndEvaluate(it, {
      ...tail,
      evaluation: { workflow: evaluationWorkflow, workflowId: rlaifIds.evaluation(c, k), input: (updated, queues) => codeEvaluationInput(config, code, updated, k, queues) },
    });
    policy = update.nextPolicy;
    policyCheckpoint = update.policyCheckpoint;
    if (!summary) return stopped();
    await it.completed(summary.passAtK, policy);
    return { iteration: k, completed: true, lastPhase: 'evaluate', counts, passAtK: summary.passAtK, nextPolicy: policy, policyCheckpoint, rewardModel };
  }
  const { update, evaluation } = await updateAndEvaluate(it, {
    ...tail,
    evaluation: { workflow: apibenchEvaluationWorkflow, workflowId: rlaifIds.evaluation(c, k), input: (updated, queues) => rlaifEvaluationInput(config, updated, k, queues) },
  });
  policy = update.nextPolicy;
  policyCheckpoint = update.policyCheckpoint;
  if (!evaluation) return stopped();
  const m = evaluation.metrics;
  await it.completed({ executabilityRate: m.executabilityRate, compileRate: m.compileRate, codebleu: m.codebleu, astAccuracy: m.astAccuracy, hallucinationRate: m.hallucinationRate, wrongApiRate: m.wrongApiRate }, policy);
  return { iteration: k, completed: true, lastPhase: 'evaluate', counts, metrics: m, nextPolicy: policy, policyCheckpoint, rewardModel };
}

const rlaifCampaign: CampaignLoop<RlaifCampaignConfig, RlaifCarry, RlaifIterationResult, typeof rlaifIterationWorkflow> = {
  algorithm: 'rlaif',
  metricName: (config) => (codeDatasetOf(config) ? 'pass@1' : 'executability'),
  iterationWorkflow: rlaifIterationWorkflow,
  initialCarry: (config) => ({ policy: config.models.policy }),
  legacyCarry: (s) => ({ policy: s.policy as RlaifCarry['policy'], policyCheckpoint: s.policyCheckpoint as string | undefined, rewardModel: s.rewardModel as RewardModelRef | undefined }),
  iterationArgs: ({ campaignId, iteration, config, carry }) => [{ campaignId, iteration, config, ...carry }],
  afterIteration: (_carry, result) => ({ policy: result.nextPolicy, policyCheckpoint: result.policyCheckpoint, rewardModel: result.rewardModel }),
  metric: (result) => (result.passAtK ? result.passAtK['1'] : result.metrics?.executabilityRate),
  target: (config) => config.stopping.targetExecutability,
  startEvaluation: ({ config, carry }) => {
    const code = codeDatasetOf(config);
    if (code) return { workflow: evaluationWorkflow, args: [codeEvaluationInput(config, code, carry.policy, 0, config.taskQueues)], metric: (summary) => (summary as EvaluationSummary).passAtK['1'] };
    return {
      workflow: apibenchEvaluationWorkflow,
      args: [rlaifEvaluationInput(config, carry.policy, 0, config.taskQueues)],
      metric: (summary) => (summary as ApiBenchEvaluationSummary).metrics.executabilityRate,
    };
  },
};

export async function rlaifCampaignWorkflow(input: CampaignInput<RlaifCampaignConfig, RlaifCarry>) {
  return runCampaign(rlaifCampaign, input);
}
