import { patched } from '@temporalio/workflow';
import type { TaskQueues } from '../common/task-queues';

/**
 * Where work runs, decided in one place:
 *  - a model behind a remote API (openai) is called from CPU workers, so no GPU slot waits on a
 *    network; local models (onnx), simulated ones and replayed programs run on GPU workers;
 *  - work that needs a checkpoint a training job just wrote goes to the queue of the host that
 *    wrote it (`feedloop-gpu@<host>`), which the training activity returns; if no worker takes it
 *    there within the host schedule-to-start timeout (`timeouts.hostScheduleToStart`), it goes to
 *    the shared GPU queue, whose hosts read the checkpoint from the shared blob store.
 */
export const HOST_FALLBACK_PATCH = 'gpu-host-fallback';
export const DEFAULT_HOST_SCHEDULE_TO_START = '10m';
export type ActivityPlacement = { taskQueue: string; kind: 'longCpu' | 'gpu' };

export function modelPlacement(queues: TaskQueues, backend: { backend: string } | undefined): ActivityPlacement {
  return backend === undefined || backend.backend === 'openai' ? { taskQueue: queues.cpu, kind: 'longCpu' } : { taskQueue: queues.gpu, kind: 'gpu' };
}

/** The queues to use for work on the checkpoint held by the host behind `hostTaskQueue` (in workflow code). */
export function onCheckpointHost(queues: TaskQueues, hostTaskQueue: string): TaskQueues {
  // Histories from before the fallback replay without it.
  if (hostTaskQueue !== queues.gpu && patched(HOST_FALLBACK_PATCH)) return { ...queues, gpu: hostTaskQueue, gpuFallback: queues.gpu };
  return { ...queues, gpu: hostTaskQueue };
}
