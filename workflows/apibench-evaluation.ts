import { ApplicationFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ApiBenchEvaluationInput, ApiBenchEvaluationSummary } from '../common/rlaif';
import { PHASE } from '../common/search-attributes';
import { DEFAULT_TASK_QUEUES } from '../common/task-queues';
import { activitiesFor, type LoopActivities } from './sample-and-test';

/**
 * Evaluates a policy on the APIBench eval questions with the RLAIF paper's metrics: answers are
 * sampled (GPU queue, or CPU for a remote policy), scored (CPU queue: AST match, CodeBLEU,
 * executability) and summarised. The history holds ids, counts and the metrics only.
 */
function setPhase(phase: string): void {
  upsertSearchAttributes([{ key: PHASE, value: phase }]);
}

/** A remote (OpenAI-compatible) model is called from CPU workers; local and simulated ones from GPU workers. */
export function modelWorker(acts: LoopActivities, backend: { backend: string }) {
  return backend.backend === 'openai' ? acts.longCpu : acts.gpu;
}

export async function apibenchEvaluationWorkflow(input: ApiBenchEvaluationInput): Promise<ApiBenchEvaluationSummary> {
  if (!Number.isInteger(input.samplesPerQuestion) || input.samplesPerQuestion < 1) {
    throw ApplicationFailure.nonRetryable('samplesPerQuestion: must be an integer >= 1', 'InvalidConfig');
  }
  const evalRunId = input.evalRunId ?? workflowInfo().workflowId;
  const acts = activitiesFor({ ...DEFAULT_TASK_QUEUES, ...input.taskQueues }, input.timeouts);
  setPhase('generate');
  await acts.store.createEvalRun({ evalRunId, dataset: 'apibench', split: 'test', policy: input.policy, samplesPerTask: input.samplesPerQuestion, ks: [] });
  const generated = await modelWorker(acts, input.policy).generateApiSamples({
    evalRunId,
    questions: { part: 'eval', hubs: input.hubs, heldOutFraction: input.heldOutFraction, maxPerHub: input.maxQuestionsPerHub },
    policy: input.policy,
    samplesPerQuestion: input.samplesPerQuestion,
    sampling: input.sampling,
  });
  if (generated.samples === 0) throw ApplicationFailure.nonRetryable('no APIBench eval questions selected: check dataset.hubs', 'InvalidConfig');
  setPhase('score');
  const { probe } = await acts.sandbox.scoreApiBenchRun({ evalRunId });
  setPhase('summarize');
  const summary = await acts.longCpu.summarizeApiBenchRun({ evalRunId, probe });
  setPhase('done');
  return summary;
}
