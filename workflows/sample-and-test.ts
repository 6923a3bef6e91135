import type { SandboxLimits } from '../common/sandbox';
import type { GenerateSamplesOutput, PolicySpec, SamplingParams } from '../common/evaluation';
import type { TaskSelection } from '../common/datasets';
import { patched } from '@temporalio/workflow';
import { testBatchPrefix, type BatchRef } from '../common/sandbox-batches';
import type { KernelActivities } from './activities';
import { onHostOrFallback } from './host-fallback';
import { MAX_PARALLEL_BATCHES, runBatchesInChild } from './sandbox-batches';

/**
 * The step every code loop shares: sample programs from a policy for the tasks of any code
 * dataset (MBPP, HumanEval, MBJP, MathQA-Java; Python or Java), on the worker that runs the
 * policy, then test them in the sandbox in stored batches (CPU queue). Returns counts and the
 * batches by reference, never programs. The batches run in a child workflow
 * (workflows/sandbox-batches.ts), so the caller's history does not grow with the run.
 */

/** Runs stored batches, at most MAX_PARALLEL_BATCHES at once (bounds load on the CPU workers). */
export async function runBatches(acts: Pick<KernelActivities, 'sandbox'>, batchIds: readonly string[]): Promise<void> {
  const queue = [...batchIds];
  await Promise.all(
    Array.from({ length: Math.min(MAX_PARALLEL_BATCHES, queue.length) }, async () => {
      for (let batchId = queue.shift(); batchId !== undefined; batchId = queue.shift()) {
        await acts.sandbox.runTestsBatch({ batchId });
      }
    }),
  );
}

export interface SampleAndTestInput extends TaskSelection {
  runId: string;
  policy: PolicySpec;
  samplesPerTask: number;
  ks: number[];
  sampling?: SamplingParams;
  limits?: Partial<SandboxLimits>;
  batchSize: number;
  /** batches per run of the child workflow before it continues as new */
  batchesPerRun?: number;
}

export async function sampleAndTest(
  acts: KernelActivities,
  input: SampleAndTestInput,
  onPhase: (phase: 'generate' | 'test') => void | Promise<void> = () => undefined,
): Promise<{ generated: GenerateSamplesOutput; batches: BatchRef; batchIds?: string[] }> {
  const { runId, dataset, split, taskRange, maxTasks, policy, samplesPerTask, ks, sampling } = input;
  await onPhase('generate');
  await acts.evalStore.createEvalRun({ evalRunId: runId, dataset, split, policy, samplesPerTask, ks });
  const request = {
    evalRunId: runId,
    dataset,
    split,
    taskRange,
    maxTasks,
    ...(input.requireReference ? { requireReference: true } : {}),
    policy,
    samplesPerTask,
    sampling,
  };
  const onHost = policy.backend === 'openai' ? undefined : acts.hostGeneration();
  const generated = onHost ? await generateOnHostOrFallback(acts, onHost, request) : await acts.generation(policy).generateSamples(request);
  await onPhase('test');
  // Histories recorded before the batches ran in a child scheduled each batch here.
  if (!patched('sandbox-batches-in-child')) {
    const batchIds = await acts.evalStore.prepareTestBatches({ evalRunId: runId, batchSize: input.batchSize, limits: input.limits });
    await runBatches(acts, batchIds);
    return { generated, batches: { prefix: testBatchPrefix(runId), count: batchIds.length }, batchIds };
  }
  const tested = await runBatchesInChild(
    { kind: 'generations', evalRunId: runId, batchSize: input.batchSize, ...(input.limits ? { limits: input.limits } : {}) },
    { ...acts.placement, ...(input.batchesPerRun ? { batchesPerRun: input.batchesPerRun } : {}) },
  );
  return { generated, batches: tested.batches };
}

/**
 * Generation on the checkpoint's host, or, when no worker there starts it within the host
 * schedule-to-start timeout (the host is gone), on any GPU host; the eval run records which.
 */
async function generateOnHostOrFallback(
  acts: KernelActivities,
  onHost: NonNullable<ReturnType<KernelActivities['hostGeneration']>>,
  request: Parameters<ReturnType<KernelActivities['generation']>['generateSamples']>[0],
): Promise<GenerateSamplesOutput> {
  // The activity records the worker that ran it; this records why it went there (also for runs whose workers predate that).
  const { result, placement } = await onHostOrFallback(onHost, 'generate', (stubs, intent) => stubs.generateSamples({ ...request, placement: intent }));
  await acts.evalStore.recordPlacement({ evalRunId: request.evalRunId, placement });
  return result;
}
