import type { TaskQueues } from '../common/task-queues';

/**
 * Where work runs, decided in one place:
 *  - a model behind a remote API (openai) is called from CPU workers, so no GPU slot waits on a
 *    network; local models (onnx), simulated ones and replayed programs run on GPU workers;
 *  - work that needs a checkpoint a training job just wrote goes to the queue of the host that
 *    wrote it (`feedloop-gpu@<host>`), which the training activity returns.
 */
export type ActivityPlacement = { taskQueue: string; kind: 'longCpu' | 'gpu' };

export function modelPlacement(queues: TaskQueues, backend: { backend: string } | undefined): ActivityPlacement {
  return backend === undefined || backend.backend === 'openai' ? { taskQueue: queues.cpu, kind: 'longCpu' } : { taskQueue: queues.gpu, kind: 'gpu' };
}

/** The queues to use for work on the checkpoint held by the host behind `hostTaskQueue`. */
export function onCheckpointHost(queues: TaskQueues, hostTaskQueue: string): TaskQueues {
  return { ...queues, gpu: hostTaskQueue };
}
