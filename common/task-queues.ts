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
}

export const DEFAULT_TASK_QUEUES: TaskQueues = {
  workflow: WORKFLOW_TASK_QUEUE,
  cpu: CPU_TASK_QUEUE,
  gpu: GPU_TASK_QUEUE,
};
