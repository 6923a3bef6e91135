import { ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { CpuActivities } from '../activities/cpu';
import type { GpuActivities } from '../activities/gpu';
import type { EvaluationInput, EvaluationSummary } from '../common/evaluation';
import { PHASE } from '../common/search-attributes';
import { DEFAULT_TASK_QUEUES, type TaskQueues } from '../common/task-queues';

/**
 * Evaluates a policy on a dataset split: generate (GPU queue) -> test in the sandbox (CPU
 * queue, in batches) -> pass@k. Programs and results live in PostgreSQL; this history holds
 * only ids and counts, so it stays small whatever the number of tasks.
 */
const NON_RETRYABLE = ['InvalidConfig'];

/** Activity stubs routed to the configured queues (GPU work only ever goes to the GPU queue). */
function activitiesFor(queues: TaskQueues) {
  const store = proxyActivities<CpuActivities>({
    taskQueue: queues.cpu,
    startToCloseTimeout: '2 minutes',
    retry: { nonRetryableErrorTypes: NON_RETRYABLE },
  });
  const sandbox = proxyActivities<CpuActivities>({
    taskQueue: queues.cpu,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1 second', nonRetryableErrorTypes: NON_RETRYABLE },
  });
  const gpu = proxyActivities<GpuActivities>({
    taskQueue: queues.gpu,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '5 minutes',
    retry: { nonRetryableErrorTypes: NON_RETRYABLE },
  });
  return { store, sandbox, gpu };
}

/** Sandbox batches run at once per evaluation: bounds load on the CPU workers. */
const MAX_PARALLEL_BATCHES = 4;

function validate(input: EvaluationInput): void {
  const problems: string[] = [];
  if (!Number.isInteger(input.samplesPerTask) || input.samplesPerTask < 1) problems.push('samplesPerTask: must be an integer >= 1');
  if (!Array.isArray(input.ks) || input.ks.length === 0) problems.push('ks: must list at least one k');
  for (const k of input.ks ?? []) {
    if (!Number.isInteger(k) || k < 1 || k > input.samplesPerTask) problems.push(`ks: ${k} must be an integer in 1..samplesPerTask (${input.samplesPerTask})`);
  }
  if (input.batchSize !== undefined && (!Number.isInteger(input.batchSize) || input.batchSize < 1)) problems.push('batchSize: must be an integer >= 1');
  if (problems.length) throw ApplicationFailure.nonRetryable(`invalid evaluation input:\n  ${problems.join('\n  ')}`, 'InvalidConfig');
}

function setPhase(phase: string): void {
  upsertSearchAttributes([{ key: PHASE, value: phase }]);
}

export async function evaluationWorkflow(input: EvaluationInput): Promise<EvaluationSummary> {
  validate(input);
  const evalRunId = input.evalRunId ?? workflowInfo().workflowId;
  const { dataset, split, policy, samplesPerTask, ks } = input;
  const { store, sandbox, gpu } = activitiesFor({ ...DEFAULT_TASK_QUEUES, ...input.taskQueues });

  setPhase('generate');
  await store.createEvalRun({ evalRunId, dataset, split, policy, samplesPerTask, ks });
  const generated = await gpu.generateSamples({ evalRunId, dataset, split, policy, samplesPerTask });
  if (generated.samples === 0) {
    throw ApplicationFailure.nonRetryable(`policy produced no programs for mbpp/${split}`, 'InvalidConfig');
  }

  setPhase('test');
  const batchIds = await store.prepareTestBatches({ evalRunId, batchSize: input.batchSize ?? 100 });
  const queue = [...batchIds];
  await Promise.all(
    Array.from({ length: Math.min(MAX_PARALLEL_BATCHES, queue.length) }, async () => {
      for (let batchId = queue.shift(); batchId !== undefined; batchId = queue.shift()) {
        await sandbox.runTestsBatch({ batchId });
      }
    }),
  );

  setPhase('summarize');
  const summary = await store.summarizeEvalRun({ evalRunId, dataset, split, policy, ks, batchIds });
  setPhase('done');
  return summary;
}
