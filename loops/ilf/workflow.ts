import { ApplicationFailure, allHandlersFinished, condition, defineUpdate, executeChild, patched, setHandler } from '@temporalio/workflow';
import { durationMs } from '../../common/duration';
import { datasetSelection } from '../../common/dataset-file';
import type { createFeedbackActivities } from './activities/feedback-activities';
import type { createRefineActivities } from './activities/refine';
import type { createIlfFineTuneActivities } from './activities/fine-tune';
import type { createIlfRefinerActivities } from './activities/refiner';
import { capability, modelCapability } from '../../workflows/activities';
import { runCampaign, campaignChildOptions, type CampaignInput, type CampaignLoop } from '../../workflows/campaign';
import { evaluationWorkflow, setPhase } from '../../workflows/evaluation';
import { IterationSkeleton } from '../../workflows/iteration';
import { modelPlacement, onCheckpointHost } from '../../workflows/routing';
import { runBatches, sampleAndTest } from '../../workflows/sample-and-test';
import { runBatchesInChild } from '../../workflows/sandbox-batches';
import type { EvaluationInput } from '../../common/evaluation';
import type { IlfCampaignConfig } from './config';
import { ilfIds, type FeedbackSubmission, type IlfCarry, type IlfIterationCounts, type IlfIterationInput, type IlfIterationResult, type IlfPhase } from './types';

/**
 * ILF (Chen, Scheurer et al. 2023) on the loop kernel. One iteration, as its own workflow so
 * that its history is bounded and replayable on its own:
 *   generate -> test -> feedback -> refine -> filter -> train -> evaluate (pass@k on MBPP_Test).
 * The campaign (workflows/campaign.ts) runs iterations until the configured number or a
 * stopping rule on pass@1; pi_Refine is trained on MBPP_Refine first when the config asks.
 */
export const submitFeedbackUpdate = defineUpdate<{ requestId: string; answered: number; open: number }, [FeedbackSubmission]>('submitFeedback');

function ilfActivities(config: IlfCampaignConfig, queues = config.taskQueues) {
  const refinerPlacement = config.refiner.kind === 'model' ? modelPlacement(queues, config.models.refiner) : modelPlacement(queues, undefined);
  return {
    feedback: capability<typeof createFeedbackActivities>('longCpu', queues.cpu, config.timeouts),
    feedbackStore: capability<typeof createFeedbackActivities>('store', queues.cpu, config.timeouts),
    refine: modelCapability<typeof createRefineActivities>(refinerPlacement, config.timeouts),
    refineStore: capability<typeof createRefineActivities>('store', queues.cpu, config.timeouts),
    fineTune: capability<typeof createIlfFineTuneActivities>('training', queues.gpu, config.timeouts),
    refinerTraining: capability<typeof createIlfRefinerActivities>('training', queues.gpu, config.timeouts),
  };
}

/** The sandbox limits the campaign sets (the rest keep the sandbox's defaults). */
const sandboxLimits = (config: IlfCampaignConfig) => ({ cpuMs: config.sandbox.cpuMs, wallMs: config.sandbox.wallMs, memoryMb: config.sandbox.memoryMb });

/** The test-split evaluation (MBPP_Test for MBPP) of a policy: iteration k's, or the starting policy's (k = 0). */
function ilfEvaluationInput(config: IlfCampaignConfig, policy: IlfIterationInput['policy'], k: number, taskQueues: IlfCampaignConfig['taskQueues']): EvaluationInput {
  return {
    ...datasetSelection(config.dataset.file, config.dataset.name, config.dataset.splits.test),
    split: 'test',
    maxTasks: config.dataset.maxTestTasks,
    policy,
    samplesPerTask: config.sampling.eval.n,
    ks: config.sampling.eval.ks,
    sampling: { ...config.sampling.eval, seed: config.seed * 1000 + 500 + k },
    limits: sandboxLimits(config),
    batchSize: config.sandbox.batchSize,
    taskQueues,
    timeouts: config.timeouts,
  };
}

export async function ilfIterationWorkflow(input: IlfIterationInput): Promise<IlfIterationResult> {
  const { campaignId: c, iteration: k, config } = input;
  const limits = sandboxLimits(config);
  const ilf = ilfActivities(config);

  const openRequests = new Map<string, string>(); // requestId -> taskId
  const answered = new Set<string>();
  let feedbackClosed = false;
  let requestsRegistered = false;
  const it = new IterationSkeleton<IlfPhase, IlfIterationCounts>({
    campaignId: c,
    iteration: k,
    algorithm: 'ilf',
    firstPhase: 'generate',
    policy: input.policy,
    config,
    // ILF iterations recorded before the kernel left a stopped iteration's row open.
    recordsStop: () => patched('ilf-records-stopped-iteration'),
    status: () => ({ openFeedbackRequests: openRequests.size, answeredFeedbackRequests: answered.size }),
  });
  const acts = it.acts;

  /** Why a submission cannot be accepted now, or undefined when it can. */
  const feedbackProblem = (s: FeedbackSubmission): string | undefined => {
    if (feedbackClosed) return `feedback for ${c} iteration ${k} is closed`;
    if (typeof s?.text !== 'string' || s.text.trim() === '') return 'feedback text is empty';
    if (s.requestId !== undefined) {
      if (answered.has(s.requestId)) return `request ${s.requestId} was already answered`;
      if (!openRequests.has(s.requestId)) return `unknown feedback request ${s.requestId}`;
      if (s.taskId !== undefined && openRequests.get(s.requestId) !== String(s.taskId)) return `request ${s.requestId} is not for task ${s.taskId}`;
      return undefined;
    }
    if (s.taskId === undefined) return 'name the request (requestId) or the task (taskId) the feedback is for';
    const forTask = [...openRequests].filter(([, t]) => t === String(s.taskId));
    if (forTask.length === 0) {
      return [...answered].some((id) => id.startsWith(`task-${s.taskId}-`)) ? `task ${s.taskId} has no open request: already answered` : `unknown task ${s.taskId}: no feedback request for it`;
    }
    if (forTask.length > 1) return `task ${s.taskId} has ${forTask.length} open requests: name one with requestId`;
    return undefined;
  };
  setHandler(
    submitFeedbackUpdate,
    async (s) => {
      // A request listed from the store a moment before this workflow registered it: wait for that.
      await condition(() => requestsRegistered);
      const problem = feedbackProblem(s);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'FeedbackRejected');
      const requestId = s.requestId ?? [...openRequests].find(([, t]) => t === String(s.taskId))![0];
      openRequests.delete(requestId);
      answered.add(requestId);
      await ilf.feedbackStore.recordHumanFeedback({ campaignId: c, iteration: k, requestId, text: s.text.trim(), author: s.author });
      return { requestId, answered: answered.size, open: openRequests.size };
    },
    {
      // Once the requests are known, a rejected submission never enters the history: the reason
      // goes back to the sender. Before that, the handler waits and checks.
      validator: (s) => {
        const problem = requestsRegistered || feedbackClosed ? feedbackProblem(s) : undefined;
        if (problem) throw new Error(problem);
      },
    },
  );
  const stopped = () => it.stopped({ nextPolicy: input.policy });

  await it.start();

  // 1-2. Generate programs for MBPP_Train and test them.
  const trainRun = ilfIds.trainSamples(c, k);
  const { generated } = await sampleAndTest(
    acts,
    {
      runId: trainRun,
      ...datasetSelection(config.dataset.file, config.dataset.name, config.dataset.splits.train),
      split: 'train',
      maxTasks: config.dataset.maxTrainTasks,
      policy: input.policy,
      samplesPerTask: config.sampling.train.n,
      ks: [1],
      sampling: { ...config.sampling.train, seed: config.seed * 1000 + k },
      limits,
      batchSize: config.sandbox.batchSize,
    },
    (p) => it.enter(p),
  );
  if (it.stopRequested) return stopped();

  // 3. Feedback on the failing programs.
  await it.enter('feedback');
  const fb = await ilf.feedback.openFeedbackRequests({
    campaignId: c,
    iteration: k,
    source: config.feedback.source,
    feedbackModel: config.models.feedback,
    ...(config.feedback.programs === 'shuffled' ? { programs: 'shuffled' as const } : {}),
  });
  for (const r of fb.open) openRequests.set(r.requestId, r.taskId);
  requestsRegistered = true;
  if (config.feedback.source === 'human' && fb.open.length > 0) {
    const policy = config.feedback.human!;
    const total = fb.open.length;
    const deadline = new Date(Date.now() + durationMs(policy.deadline)).toISOString();
    it.waitingFor = () => (feedbackClosed ? undefined : `human feedback: ${answered.size} of ${total} answered, deadline ${deadline}`);
    await condition(() => openRequests.size === 0, durationMs(policy.deadline));
    await condition(allHandlersFinished);
    feedbackClosed = true;
    if (openRequests.size > 0) {
      await ilf.feedbackStore.closeFeedbackRequests({ campaignId: c, iteration: k });
      const share = answered.size / total;
      if (share < policy.quorum && policy.onDeadline === 'fail') {
        await acts.campaignStore.finishIteration({ campaignId: c, iteration: k, status: 'failed' });
        throw ApplicationFailure.nonRetryable(
          `feedback deadline ${policy.deadline} passed with ${answered.size}/${total} requests answered, below the quorum of ${policy.quorum}`,
          'FeedbackQuorumNotMet',
        );
      }
    }
  }
  feedbackClosed = true;
  const counts = it.counts;
  counts.samples = generated.samples;
  counts.failing = fb.requested;
  counts.feedbackRequested = fb.requested;
  counts.feedbackReceived = config.feedback.source === 'human' ? answered.size : fb.received;
  if (it.stopRequested) return stopped();

  // 4. Refine the programs that received feedback.
  await it.enter('refine', { samples: counts.samples, failing: counts.failing, feedbackRequested: counts.feedbackRequested, feedbackReceived: counts.feedbackReceived });
  const refined = await ilf.refine.refinePrograms({
    campaignId: c,
    iteration: k,
    kind: config.refiner.kind,
    refiner: input.refiner ?? config.models.refiner,
    limits,
    batchSize: config.sandbox.batchSize,
    ...(config.refiner.feedback === 'shuffled' ? { feedback: 'shuffled' as const } : {}),
  });
  if (it.stopRequested) return stopped();

  // 5. Filter: keep the refinements that pass the unit tests.
  await it.enter('filter', { refinementsGenerated: refined.generated });
  // Histories recorded before the batches ran in a child scheduled each batch here.
  if (patched('ilf-filter-batches-in-child')) await runBatchesInChild({ kind: 'stored', batches: refined.batches }, acts.placement);
  else await runBatches(acts, refined.batchIds);
  const kept = await ilf.refineStore.markKeptRefinements({ campaignId: c, iteration: k, ...(config.refiner.filter !== 'tests' ? { filter: config.refiner.filter } : {}) });
  if (it.stopRequested) return stopped();

  // 6. Fine-tune the policy on the kept refinements.
  await it.enter('train', { refinementsKept: kept });
  const tuned = await ilf.fineTune.ilfFineTune({ campaignId: c, iteration: k, trainer: config.trainer, policy: input.policy });
  if (it.stopRequested) {
    // Recorded before the kernel too: a stop after training keeps the trained policy.
    if (!patched('ilf-records-stopped-iteration')) {
      await acts.campaignStore.finishIteration({ campaignId: c, iteration: k, status: 'stopped', nextPolicy: tuned.nextPolicy });
    }
    return it.stopped({ nextPolicy: tuned.nextPolicy });
  }

  // 7. Evaluate the new policy on MBPP_Test: pass@1 and pass@10 (unbiased).
  await it.enter('evaluate', { trainingExamples: tuned.examples });
  const evaluation = await executeChild(evaluationWorkflow, {
    ...campaignChildOptions({ campaignId: c, algorithm: 'ilf', iteration: k, workflowId: ilfIds.evaluation(c, k) }),
    // GPU work of the evaluation goes to the host that holds the new checkpoint.
    args: [ilfEvaluationInput(config, tuned.nextPolicy, k, onCheckpointHost(config.taskQueues, tuned.workerTaskQueue))],
  });
  await it.completed(evaluation.passAtK, tuned.nextPolicy);
  return { iteration: k, completed: true, lastPhase: 'evaluate', counts, passAtK: evaluation.passAtK, nextPolicy: tuned.nextPolicy };
}

const ilfCampaign: CampaignLoop<IlfCampaignConfig, IlfCarry, IlfIterationResult, typeof ilfIterationWorkflow> = {
  algorithm: 'ilf',
  metricName: 'pass@1',
  iterationWorkflow: ilfIterationWorkflow,
  initialCarry: (config) => ({ policy: config.models.policy, refiner: config.models.refiner }),
  legacyCarry: (s) => ({ policy: s.policy as IlfCarry['policy'], refiner: s.refiner as IlfCarry['refiner'], refinerTrained: s.refinerTrained as boolean | undefined }),
  async beforeFirstIteration({ campaignId, config, carry }) {
    if (!config.refiner.train || carry.refinerTrained) return carry;
    // pi_Refine is trained once, on the MBPP_Refine triples, before the first iteration.
    setPhase('train-refiner');
    const trained = await ilfActivities(config).refinerTraining.trainIlfRefiner({ campaignId, refineSplit: config.dataset.splits.refine, trainer: config.trainer, refiner: carry.refiner! });
    return { ...carry, refiner: trained.nextRefiner, refinerTrained: true };
  },
  iterationArgs: ({ campaignId, iteration, config, carry }) => [{ campaignId, iteration, config, policy: carry.policy, refiner: carry.refiner }],
  afterIteration: (carry, result) => ({ ...carry, policy: result.nextPolicy }),
  metric: (result) => result.passAtK?.['1'],
  target: (config) => config.stopping.targetPassAt1,
  startEvaluation: ({ config, carry }) => ({
    workflow: evaluationWorkflow,
    args: [ilfEvaluationInput(config, carry.policy, 0, config.taskQueues)],
    metric: (summary) => (summary as { passAtK: Record<string, number> }).passAtK['1'],
  }),
};

export async function ilfCampaignWorkflow(input: CampaignInput<IlfCampaignConfig, IlfCarry>) {
  return runCampaign(ilfCampaign, input);
}
