import { condition, defineQuery, executeChild, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import {
  rlaifIds,
  type RewardModelRef,
  type RlaifIterationCounts,
  type RlaifIterationInput,
  type RlaifIterationResult,
  type RlaifIterationStatus,
  type RlaifPhase,
} from '../common/rlaif';
import { ALGORITHM, CAMPAIGN_ID, ITERATION, PHASE } from '../common/search-attributes';
import { apibenchEvaluationWorkflow, modelWorker } from './apibench-evaluation';
import { pauseIterationSignal, resumeIterationSignal, stopIterationSignal } from './ilf-iteration';
import { activitiesFor } from './sample-and-test';

/**
 * One RLAIF iteration (Dutta et al. 2024), as its own workflow so that its history is bounded
 * and replayable on its own:
 *   generate rollouts -> AI feedback -> reward model (iteration 1, then every retrainEvery)
 *   -> reward scores -> policy update -> evaluate.
 * Between steps it honours pause and stop (stop = end after the current step).
 */
export const rlaifIterationStatusQuery = defineQuery<RlaifIterationStatus>('status');

/** Whether iteration k trains the reward model: always the first, then every `retrainEvery`. */
export function trainsRewardModel(k: number, retrainEvery: number): boolean {
  return k === 1 || (retrainEvery > 0 && (k - 1) % retrainEvery === 0);
}

export async function rlaifIterationWorkflow(input: RlaifIterationInput): Promise<RlaifIterationResult> {
  const { campaignId: c, iteration: k, config } = input;
  const acts = activitiesFor(config.taskQueues, config.timeouts);
  let phase: RlaifPhase = 'generate';
  let paused = false;
  let stopRequested = false;
  const counts: RlaifIterationCounts = {};
  setHandler(pauseIterationSignal, () => void (paused = true));
  setHandler(resumeIterationSignal, () => void (paused = false));
  setHandler(stopIterationSignal, () => void (stopRequested = true));
  setHandler(rlaifIterationStatusQuery, () => ({ iteration: k, phase, paused, stopRequested }));

  const recordPhase = (next: RlaifPhase, phaseCounts?: RlaifIterationCounts) => acts.store.recordPhase({ campaignId: c, iteration: k, phase: next, counts: phaseCounts });
  const enter = async (next: RlaifPhase, phaseCounts?: RlaifIterationCounts) => {
    Object.assign(counts, phaseCounts);
    await condition(() => !paused || stopRequested);
    phase = next;
    upsertSearchAttributes([{ key: PHASE, value: next }]);
    await recordPhase(next, phaseCounts);
  };
  let policy = input.policy;
  let policyCheckpoint = input.policyCheckpoint;
  let rewardModel: RewardModelRef | undefined = input.rewardModel;
  const stopped = async (): Promise<RlaifIterationResult> => {
    await acts.store.finishIteration({ campaignId: c, iteration: k, status: 'stopped', nextPolicy: policy });
    return { iteration: k, completed: false, lastPhase: phase, counts, nextPolicy: policy, policyCheckpoint, rewardModel };
  };

  upsertSearchAttributes([
    { key: CAMPAIGN_ID, value: c },
    { key: ALGORITHM, value: 'rlaif' },
    { key: ITERATION, value: k },
    { key: PHASE, value: 'generate' },
  ]);
  await acts.store.startIteration({ campaignId: c, iteration: k, policy });

  // 1. Rollouts: the policy answers a batch of training questions.
  await enter('generate');
  const rollouts = rlaifIds.rollouts(c, k);
  const { rollout } = config.sampling;
  await acts.store.createEvalRun({ evalRunId: rollouts, dataset: 'apibench', split: 'train', policy, samplesPerTask: rollout.n, ks: [] });
  const generated = await modelWorker(acts, policy).generateApiSamples({
    evalRunId: rollouts,
    questions: { part: 'train', hubs: config.dataset.hubs, heldOutFraction: config.dataset.heldOutFraction, seed: config.seed, iteration: k, size: config.dataset.rolloutQuestions },
    policy,
    samplesPerQuestion: rollout.n,
    sampling: { temperature: rollout.temperature, topP: rollout.topP, maxTokens: rollout.maxTokens, seed: config.seed * 1000 + k },
  });
  if (stopRequested) return stopped();

  // 2. AI feedback: the judge's yes/no answers about every rollout (unscorable ones recorded as such).
  await enter('feedback', { rollouts: generated.samples });
  const feedback = await modelWorker(acts, config.models.feedback).collectAiFeedback({
    campaignId: c,
    iteration: k,
    evalRunId: rollouts,
    judge: config.models.feedback,
    feedback: config.feedback,
  });
  if (stopRequested) return stopped();

  // 3. Reward model, on every scored feedback record so far.
  await enter('reward_model', { feedbackScored: feedback.scored, feedbackUnscorable: feedback.unscorable });
  let scoringQueue = config.taskQueues.gpu;
  if (trainsRewardModel(k, config.rewardModel.retrainEvery) || !rewardModel) {
    const trained = await acts.training.trainRewardModel({ campaignId: c, iteration: k, trainer: config.trainer, rewardModel: config.rewardModel });
    rewardModel = trained.rewardModel;
    counts.rewardModelExamples = trained.examples;
    // The reward model was just written on that host: score with it there.
    scoringQueue = trained.workerTaskQueue;
  }
  if (stopRequested) return stopped();

  // 4. Reward scores of the rollouts (the onnx backend, GPU queue).
  await enter('score', counts.rewardModelExamples === undefined ? {} : { rewardModelExamples: counts.rewardModelExamples });
  const rewards = await activitiesFor({ ...config.taskQueues, gpu: scoringQueue }, config.timeouts).gpu.scoreRollouts({ campaignId: c, iteration: k, evalRunId: rollouts, rewardModel });
  if (stopRequested) return stopped();

  // 5. Policy update (PPO-style, KL to the reference) on the rollouts with a scored reward.
  await enter('policy_update', { rewardsScored: rewards.scored, rewardsUnscorable: rewards.unscorable });
  const update = await acts.training.rlaifPolicyUpdate({ campaignId: c, iteration: k, policy, policyCheckpoint, trainer: config.trainer, policyUpdate: config.policyUpdate });
  policy = update.nextPolicy;
  policyCheckpoint = update.policyCheckpoint;
  if (stopRequested) return stopped();

  // 6. Evaluate the updated policy on the APIBench eval questions.
  await enter('evaluate', { policyUpdateRollouts: update.examples });
  const { eval: evalSampling } = config.sampling;
  const evaluation = await executeChild(apibenchEvaluationWorkflow, {
    workflowId: rlaifIds.evaluation(c, k),
    args: [
      {
        hubs: config.dataset.hubs,
        heldOutFraction: config.dataset.heldOutFraction,
        maxQuestionsPerHub: config.dataset.maxEvalQuestionsPerHub,
        policy,
        samplesPerQuestion: evalSampling.n,
        sampling: { temperature: evalSampling.temperature, topP: evalSampling.topP, maxTokens: evalSampling.maxTokens, seed: config.seed * 1000 + 500 + k },
        // GPU work of the evaluation goes to the host that holds the updated policy.
        taskQueues: { ...config.taskQueues, gpu: update.workerTaskQueue },
        timeouts: config.timeouts,
      },
    ],
  });
  const m = evaluation.metrics;
  await acts.store.finishIteration({
    campaignId: c,
    iteration: k,
    status: 'completed',
    metrics: { executabilityRate: m.executabilityRate, compileRate: m.compileRate, codebleu: m.codebleu, astAccuracy: m.astAccuracy, hallucinationRate: m.hallucinationRate, wrongApiRate: m.wrongApiRate },
    nextPolicy: policy,
  });
  return { iteration: k, completed: true, lastPhase: 'evaluate', counts, metrics: m, nextPolicy: policy, policyCheckpoint, rewardModel };
}
