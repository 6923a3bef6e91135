import { proxyActivities } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { CpuActivities } from '../activities/cpu';
import type { GpuActivities } from '../activities/gpu';
import type { SandboxLimits } from '../activities/sandbox/types';
import type { GenerateSamplesOutput, PolicySpec, SamplingParams, TaskSelection } from '../common/evaluation';
import type { TaskQueues } from '../common/task-queues';

/**
 * The step every loop shares: sample programs from a policy (GPU queue), then test them in the
 * sandbox in stored batches (CPU queue). Returns counts and batch ids, never programs.
 */
export const NON_RETRYABLE = ['InvalidConfig'];

export interface ActivityTimeouts {
  store: Duration;
  cpuHeartbeat: Duration;
  gpuHeartbeat: Duration;
}
export const DEFAULT_TIMEOUTS: ActivityTimeouts = { store: '1m', cpuHeartbeat: '1m', gpuHeartbeat: '10m' };

/** Activity stubs routed to the configured queues (GPU work only ever goes to the GPU queue). */
export function activitiesFor(queues: TaskQueues, timeouts: ActivityTimeouts = DEFAULT_TIMEOUTS) {
  const retry = { initialInterval: '1 second', nonRetryableErrorTypes: NON_RETRYABLE };
  const store = proxyActivities<CpuActivities>({ taskQueue: queues.cpu, startToCloseTimeout: timeouts.store, retry });
  const sandbox = proxyActivities<CpuActivities>({
    taskQueue: queues.cpu,
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: timeouts.cpuHeartbeat,
    retry,
  });
  // Feedback from an LLM or people, refinement: long, heartbeating, resumable.
  const longCpu = proxyActivities<CpuActivities>({
    taskQueue: queues.cpu,
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: timeouts.cpuHeartbeat,
    retry,
  });
  const gpu = proxyActivities<GpuActivities>({
    taskQueue: queues.gpu,
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: timeouts.gpuHeartbeat,
    retry,
  });
  // Training runs for days; it heartbeats progress and resumes from its last checkpoint.
  const training = proxyActivities<GpuActivities>({
    taskQueue: queues.gpu,
    startToCloseTimeout: '14 days',
    heartbeatTimeout: timeouts.gpuHeartbeat,
    retry,
  });
  return { store, sandbox, longCpu, gpu, training };
}
export type LoopActivities = ReturnType<typeof activitiesFor>;

/** Sandbox batches run at once per step: bounds load on the CPU workers. */
const MAX_PARALLEL_BATCHES = 4;

export async function runBatches(acts: LoopActivities, batchIds: readonly string[]): Promise<void> {
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
}

export async function sampleAndTest(
  acts: LoopActivities,
  input: SampleAndTestInput,
  onPhase: (phase: 'generate' | 'test') => void | Promise<void> = () => undefined,
): Promise<{ generated: GenerateSamplesOutput; batchIds: string[] }> {
  const { runId, dataset, split, taskRange, maxTasks, policy, samplesPerTask, ks, sampling } = input;
  await onPhase('generate');
  await acts.store.createEvalRun({ evalRunId: runId, dataset, split, policy, samplesPerTask, ks });
  // A remote (OpenAI-compatible) policy is sampled from CPU workers; local and replayed ones on GPU workers.
  const generator = policy.backend === 'openai' ? acts.longCpu : acts.gpu;
  const generated = await generator.generateSamples({ evalRunId: runId, dataset, split, taskRange, maxTasks, policy, samplesPerTask, sampling });
  await onPhase('test');
  const batchIds = await acts.store.prepareTestBatches({ evalRunId: runId, batchSize: input.batchSize, limits: input.limits });
  await runBatches(acts, batchIds);
  return { generated, batchIds };
}
