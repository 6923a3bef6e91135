import { ApplicationFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { EvaluationInput, EvaluationSummary } from '../common/evaluation';
import { PHASE } from '../common/search-attributes';
import { DEFAULT_TASK_QUEUES } from '../common/task-queues';
import { kernelActivities } from './activities';
import { sampleAndTest } from './sample-and-test';

/**
 * Evaluates a policy on a split of any code dataset: generate (on the policy's worker) -> test
 * in the sandbox (CPU queue, in batches) -> pass@k. Programs and results live in PostgreSQL;
 * this history holds only ids and counts, so it stays small whatever the number of tasks.
 */
function validate(input: EvaluationInput): void {
  const problems: string[] = [];
  if (!Number.isInteger(input.samplesPerTask) || input.samplesPerTask < 1) problems.push('samplesPerTask: must be an integer >= 1');
  if (!Array.isArray(input.ks) || input.ks.length === 0) problems.push('ks: must list at least one k');
  for (const k of input.ks ?? []) {
    if (!Number.isInteger(k) || k < 1 || k > input.samplesPerTask) problems.push(`ks: ${k} must be an integer in 1..samplesPerTask (${input.samplesPerTask})`);
  }
  if (input.batchSize !== undefined && (!Number.isInteger(input.batchSize) || input.batchSize < 1)) problems.push('batchSize: must be an integer >= 1');
  if (input.batchesPerRun !== undefined && (!Number.isInteger(input.batchesPerRun) || input.batchesPerRun < 1)) problems.push('batchesPerRun: must be an integer >= 1');
  if (problems.length) throw ApplicationFailure.nonRetryable(`invalid evaluation input:\n  ${problems.join('\n  ')}`, 'InvalidConfig');
}

export function setPhase(phase: string): void {
  upsertSearchAttributes([{ key: PHASE, value: phase }]);
}

export async function evaluationWorkflow(input: EvaluationInput): Promise<EvaluationSummary> {
  validate(input);
  const evalRunId = input.evalRunId ?? workflowInfo().workflowId;
  const acts = kernelActivities({ ...DEFAULT_TASK_QUEUES, ...input.taskQueues }, input.timeouts);
  const { generated, batches, batchIds } = await sampleAndTest(acts, { ...input, runId: evalRunId, batchSize: input.batchSize ?? 100 }, setPhase);
  if (generated.samples === 0) {
    throw ApplicationFailure.nonRetryable(`policy produced no programs for ${input.dataset}/${input.split}`, 'InvalidConfig');
  }
  setPhase('summarize');
  const summary = await acts.evalMetrics.summarizeEvalRun({
    evalRunId,
    dataset: input.dataset,
    split: input.split,
    policy: input.policy,
    ks: input.ks,
    // The batches by reference; histories recorded before the child passed their ids.
    ...(batchIds ? { batchIds } : { batches }),
  });
  setPhase('done');
  return summary;
}
