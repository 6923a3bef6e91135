import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { ActivityTimeoutsInput } from '../common/campaign-schema';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUTS } from '../common/campaign-schema';
import type { TaskQueues } from '../common/task-queues';
import type { createGenerationActivities } from '../activities/models/generate-samples';
import type { createEvaluationMetricsActivities } from '../activities/metrics/evaluation-summary';
import type { createSandboxActivities } from '../activities/sandbox/run-tests-batch';
import type { createCampaignStoreActivities } from '../activities/store/campaigns';
import type { createEvaluationStoreActivities } from '../activities/store/evaluation-activities';
import type { createPolicyUpdateActivities } from '../activities/rewards/policy-update';
import { DEFAULT_HOST_SCHEDULE_TO_START, modelPlacement, type ActivityPlacement } from './routing';
import type { HostRoute } from './host-fallback';

/**
 * Activity stubs, one per capability, each typed by that capability's own factory and given the
 * timeouts its work needs: a 1-minute store call cannot be pointed at a 6-hour sandbox batch.
 * Every retry policy is capped (`timeouts.maxAttempts`): a step that keeps failing fails the
 * campaign with its last error instead of retrying forever.
 */
export const NON_RETRYABLE = ['InvalidConfig'];

/** How long each kind of activity may run and stay silent. */
export type ActivityKind = 'store' | 'sandbox' | 'longCpu' | 'gpu' | 'training';

function activityOptions(kind: ActivityKind, taskQueue: string, timeouts: ActivityTimeoutsInput): ActivityOptions {
  const retry = { initialInterval: '1 second', nonRetryableErrorTypes: NON_RETRYABLE, maximumAttempts: timeouts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS };
  switch (kind) {
    case 'store':
      return { taskQueue, startToCloseTimeout: timeouts.store, retry };
    case 'sandbox':
      return { taskQueue, startToCloseTimeout: '6 hours', heartbeatTimeout: timeouts.cpuHeartbeat, retry };
    // Feedback from an LLM or people, refinement, remote models: long, heartbeating, resumable.
    case 'longCpu':
      return { taskQueue, startToCloseTimeout: '12 hours', heartbeatTimeout: timeouts.cpuHeartbeat, retry };
    case 'gpu':
      return { taskQueue, startToCloseTimeout: '12 hours', heartbeatTimeout: timeouts.gpuHeartbeat, retry };
    // Training runs for days; it heartbeats progress and resumes from its last checkpoint.
    case 'training':
      return { taskQueue, startToCloseTimeout: '14 days', heartbeatTimeout: timeouts.gpuHeartbeat, retry };
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any activity factory
type Factory = (...args: any[]) => object;

/** A stub for one capability's activities (the factory's return type), placed on a queue. */
export function capability<F extends Factory>(kind: ActivityKind, taskQueue: string, timeouts: ActivityTimeoutsInput = DEFAULT_TIMEOUTS, extra: Pick<ActivityOptions, 'scheduleToStartTimeout'> = {}) {
  return proxyActivities<ReturnType<F>>({ ...activityOptions(kind, taskQueue, timeouts), ...extra });
}

/** A stub for a model-backed capability, on the worker that runs that model (see routing.ts). */
export function modelCapability<F extends Factory>(placement: ActivityPlacement, timeouts: ActivityTimeoutsInput = DEFAULT_TIMEOUTS) {
  return capability<F>(placement.kind, placement.taskQueue, timeouts);
}

/**
 * One capability's stubs on the checkpoint host's queue `queues.gpu` (failing fast there when no
 * worker starts the work within the host schedule-to-start timeout) and on the shared GPU queue
 * `queues.gpuFallback` to fall back to (workflows/host-fallback.ts); undefined when `queues.gpu`
 * is not a host's queue.
 */
export function hostRoute<F extends Factory>(kind: ActivityKind, queues: TaskQueues, timeouts: ActivityTimeoutsInput = DEFAULT_TIMEOUTS): HostRoute<ReturnType<typeof capability<F>>> | undefined {
  if (queues.gpuFallback === undefined) return undefined;
  const after = timeouts.hostScheduleToStart ?? DEFAULT_HOST_SCHEDULE_TO_START;
  return {
    host: capability<F>(kind, queues.gpu, timeouts, { scheduleToStartTimeout: after }),
    fallback: capability<F>(kind, queues.gpuFallback, timeouts),
    hostQueue: queues.gpu,
    fallbackQueue: queues.gpuFallback,
    after,
  };
}

/** The capabilities every loop's steps use. */
export function kernelActivities(queues: TaskQueues, timeouts: ActivityTimeoutsInput = DEFAULT_TIMEOUTS) {
  return {
    /** the queues and timeouts these stubs use, for a child workflow that runs the same steps */
    placement: { taskQueues: queues, timeouts },
    campaignStore: capability<typeof createCampaignStoreActivities>('store', queues.cpu, timeouts),
    evalStore: capability<typeof createEvaluationStoreActivities>('store', queues.cpu, timeouts),
    evalMetrics: capability<typeof createEvaluationMetricsActivities>('store', queues.cpu, timeouts),
    sandbox: capability<typeof createSandboxActivities>('sandbox', queues.cpu, timeouts),
    /** sampling programs from a policy, on the worker that runs it */
    generation: (policy: { backend: string }) => modelCapability<typeof createGenerationActivities>(modelPlacement(queues, policy), timeouts),
    /**
     * sampling from a GPU policy on the host queue `queues.gpu` when `queues.gpuFallback` is set
     * (workflows/routing.ts): failing fast there if no worker starts it in time, and the same
     * activities on the shared GPU queue to fall back to
     */
    hostGeneration: () => hostRoute<typeof createGenerationActivities>('gpu', queues, timeouts),
    /** the shared policy-update step of the RL loops, on the rewards any reward source wrote */
    policyUpdate: capability<typeof createPolicyUpdateActivities>('training', queues.gpu, timeouts),
  };
}
export type KernelActivities = ReturnType<typeof kernelActivities>;
