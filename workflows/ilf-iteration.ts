import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PolicyBackend } from '../common/campaign-config';
import {
  ilfIds,
  type FeedbackSubmission,
  type IlfIterationCounts,
  type IlfIterationInput,
  type IlfIterationResult,
  type IlfPhase,
  type IterationStatus,
} from '../common/ilf';
import { ALGORITHM, CAMPAIGN_ID, ITERATION, PHASE } from '../common/search-attributes';
import { evaluationWorkflow } from './evaluation';
import { activitiesFor, runBatches, sampleAndTest } from './sample-and-test';

/**
 * One ILF iteration (Chen, Scheurer et al. 2023), as its own workflow so that its history is
 * bounded and replayable on its own:
 *   generate -> test -> feedback -> refine -> filter -> train -> evaluate.
 * Between steps it honours pause and stop (stop = end after the current step).
 */
export const pauseIterationSignal = defineSignal('pause');
export const resumeIterationSignal = defineSignal('resume');
export const stopIterationSignal = defineSignal('stop');
export const submitFeedbackUpdate = defineUpdate<{ requestId: string; answered: number; open: number }, [FeedbackSubmission]>('submitFeedback');
export const iterationStatusQuery = defineQuery<IterationStatus>('status');

/** Local models (onnx, simulated) run on GPU workers; remote APIs and the dataset on CPU workers. */
function runsOnGpu(backend: PolicyBackend | undefined): boolean {
  return backend?.backend === 'onnx' || backend?.backend === 'simulated';
}

/** "72h" -> milliseconds */
function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw ApplicationFailure.nonRetryable(`bad duration ${d}`, 'InvalidConfig');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

export async function ilfIterationWorkflow(input: IlfIterationInput): Promise<IlfIterationResult> {
  const { campaignId: c, iteration: k, config } = input;
  const limits = { cpuMs: config.sandbox.cpuMs, wallMs: config.sandbox.wallMs, memoryMb: config.sandbox.memoryMb };
  const acts = activitiesFor(config.taskQueues, config.timeouts);
  const refineOnGpu = runsOnGpu(config.models.refiner) && config.refiner.kind === 'model';
  const refiner = refineOnGpu ? acts.gpu : acts.longCpu;

  let phase: IlfPhase = 'generate';
  let paused = false;
  let stopRequested = false;
  const counts: IlfIterationCounts = {};
  const openRequests = new Map<string, string>(); // requestId -> taskId
  const answered = new Set<string>();
  let feedbackClosed = false;
  let requestsRegistered = false;

  setHandler(pauseIterationSignal, () => void (paused = true));
  setHandler(resumeIterationSignal, () => void (paused = false));
  setHandler(stopIterationSignal, () => void (stopRequested = true));
  setHandler(iterationStatusQuery, () => ({
    iteration: k,
    phase,
    paused,
    stopRequested,
    openFeedbackRequests: openRequests.size,
    answeredFeedbackRequests: answered.size,
  }));
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
      await acts.store.recordHumanFeedback({ campaignId: c, iteration: k, requestId, text: s.text.trim(), author: s.author });
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

  const enter = async (next: IlfPhase, phaseCounts?: IlfIterationCounts) => {
    Object.assign(counts, phaseCounts);
    await condition(() => !paused || stopRequested);
    phase = next;
    upsertSearchAttributes([{ key: PHASE, value: next }]);
    await acts.store.recordPhase({ campaignId: c, iteration: k, phase: next, counts: phaseCounts });
  };
  const stopped = (): IlfIterationResult => ({ iteration: k, completed: false, lastPhase: phase, counts, nextPolicy: input.policy });

  upsertSearchAttributes([
    { key: CAMPAIGN_ID, value: c },
    { key: ALGORITHM, value: 'ilf' },
    { key: ITERATION, value: k },
    { key: PHASE, value: 'generate' },
  ]);
  await acts.store.startIteration({ campaignId: c, iteration: k, policy: input.policy });

  // 1-2. Generate programs for MBPP_Train and test them.
  const trainRun = ilfIds.trainSamples(c, k);
  const { generated } = await sampleAndTest(acts, {
    runId: trainRun,
    dataset: 'mbpp',
    split: 'train',
    taskRange: config.dataset.splits.train,
    maxTasks: config.dataset.maxTrainTasks,
    policy: input.policy,
    samplesPerTask: config.sampling.train.n,
    ks: [1],
    sampling: { ...config.sampling.train, seed: config.seed * 1000 + k },
    limits,
    batchSize: config.sandbox.batchSize,
  }, (p) => enter(p));
  if (stopRequested) return stopped();

  // 3. Feedback on the failing programs.
  await enter('feedback');
  const fb = await acts.longCpu.openFeedbackRequests({
    campaignId: c,
    iteration: k,
    source: config.feedback.source,
    feedbackModel: config.models.feedback,
  });
  for (const r of fb.open) openRequests.set(r.requestId, r.taskId);
  requestsRegistered = true;
  if (config.feedback.source === 'human' && fb.open.length > 0) {
    const policy = config.feedback.human!;
    const total = fb.open.length;
    await condition(() => openRequests.size === 0, durationMs(policy.deadline));
    await condition(allHandlersFinished);
    feedbackClosed = true;
    if (openRequests.size > 0) {
      await acts.store.closeFeedbackRequests({ campaignId: c, iteration: k });
      const share = answered.size / total;
      if (share < policy.quorum && policy.onDeadline === 'fail') {
        await acts.store.finishIteration({ campaignId: c, iteration: k, status: 'failed' });
        throw ApplicationFailure.nonRetryable(
          `feedback deadline ${policy.deadline} passed with ${answered.size}/${total} requests answered, below the quorum of ${policy.quorum}`,
          'FeedbackQuorumNotMet',
        );
      }
    }
  }
  feedbackClosed = true;
  counts.samples = generated.samples;
  counts.failing = fb.requested;
  counts.feedbackRequested = fb.requested;
  counts.feedbackReceived = config.feedback.source === 'human' ? answered.size : fb.received;
  if (stopRequested) return stopped();

  // 4. Refine the programs that received feedback.
  await enter('refine', { samples: counts.samples, failing: counts.failing, feedbackRequested: counts.feedbackRequested, feedbackReceived: counts.feedbackReceived });
  const refined = await refiner.refinePrograms({
    campaignId: c,
    iteration: k,
    kind: config.refiner.kind,
    refiner: input.refiner ?? config.models.refiner,
    limits,
    batchSize: config.sandbox.batchSize,
  });
  if (stopRequested) return stopped();

  // 5. Filter: keep the refinements that pass the unit tests.
  await enter('filter', { refinementsGenerated: refined.generated });
  await runBatches(acts, refined.batchIds);
  const kept = await acts.store.markKeptRefinements({ campaignId: c, iteration: k });
  if (stopRequested) return stopped();

  // 6. Fine-tune the policy on the kept refinements.
  await enter('train', { refinementsKept: kept });
  const tuned = await acts.training.ilfFineTune({ campaignId: c, iteration: k, trainer: config.trainer, policy: input.policy });
  if (stopRequested) {
    await acts.store.finishIteration({ campaignId: c, iteration: k, status: 'stopped', nextPolicy: tuned.nextPolicy });
    return { ...stopped(), nextPolicy: tuned.nextPolicy };
  }

  // 7. Evaluate the new policy on MBPP_Test: pass@1 and pass@10 (unbiased).
  await enter('evaluate', { trainingExamples: tuned.examples });
  const evaluation = await executeChild(evaluationWorkflow, {
    workflowId: ilfIds.evaluation(c, k),
    args: [
      {
        dataset: 'mbpp',
        split: 'test',
        taskRange: config.dataset.splits.test,
        maxTasks: config.dataset.maxTestTasks,
        policy: tuned.nextPolicy,
        samplesPerTask: config.sampling.eval.n,
        ks: config.sampling.eval.ks,
        sampling: { ...config.sampling.eval, seed: config.seed * 1000 + 500 + k },
        limits,
        batchSize: config.sandbox.batchSize,
        // GPU work of the evaluation goes to the host that holds the new checkpoint.
        taskQueues: { ...config.taskQueues, gpu: tuned.workerTaskQueue },
        timeouts: config.timeouts,
      },
    ],
  });
  await acts.store.finishIteration({ campaignId: c, iteration: k, status: 'completed', metrics: evaluation.passAtK, nextPolicy: tuned.nextPolicy });
  return { iteration: k, completed: true, lastPhase: 'evaluate', counts, passAtK: evaluation.passAtK, nextPolicy: tuned.nextPolicy };
}
