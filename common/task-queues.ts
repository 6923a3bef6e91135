/**
 * Task queue names, in one place. Workflows, workers and the CLI all import from here, so a
 * rename can never leave a worker polling a queue that nothing dispatches to.
 *
 * GPU-heavy activities (local generation, reward scoring, training) are registered only by
 * GPU workers on GPU_TASK_QUEUE; everything else (sandbox, store, metrics, remote APIs) runs
 * on CPU workers. Workflow tasks run on WORKFLOW_TASK_QUEUE, served by the CPU worker.
 */
export const WORKFLOW_TASK_QUEUE = 'feedloop-workflows';
export const CPU_TASK_QUEUE = 'feedloop-cpu';
export const GPU_TASK_QUEUE = 'feedloop-gpu';

export interface TaskQueues {
  workflow: string;
  cpu: string;
  gpu: string;
  /**
   * Set when `gpu` is one host's own queue (work on the checkpoint that host holds): the shared
   * GPU queue to fall back to when no worker takes the work there within the host
   * schedule-to-start timeout (a preempted host that does not return). See workflows/routing.ts.
   */
  gpuFallback?: string;
}

export const DEFAULT_TASK_QUEUES: TaskQueues = {
  workflow: WORKFLOW_TASK_QUEUE,
  cpu: CPU_TASK_QUEUE,
  gpu: GPU_TASK_QUEUE,
};

/** Where a step ran, and why: the audit's answer to "which host, and was it the one preferred". */
export interface StepPlacement {
  step: string;
  taskQueue: string;
  reason: 'preferred-host' | 'fallback';
  /** the host queue preferred, when the step fell back */
  preferred?: string;
  /** the schedule-to-start timeout that ran out on it */
  after?: string;
  /** the worker that ran it (pid@host/role), recorded by the activity itself */
  worker?: string;
  /** that worker's host id */
  host?: string;
}

/** What a host-routed step's activity is told, so that it records where it ran and why. */
export type PlacementIntent = Omit<StepPlacement, 'worker' | 'host'>;
