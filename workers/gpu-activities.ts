import { LOOPS } from '../loops/registry';
import { createGenerationActivities } from '../activities/models/generate-samples';
import { createPolicyUpdateActivities } from '../activities/rewards/policy-update';
import { createTrainingActivities } from '../activities/training/index';
import type { GpuActivityDeps } from '../activities/worker-deps';

export type { GpuActivityDeps };

/**
 * Everything the GPU worker registers on GPU_TASK_QUEUE: local generation, the trainer protocol
 * and the shared policy update, and each registered loop's GPU activities (loops/registry.ts).
 */
export function createGpuActivities(deps: GpuActivityDeps) {
  // The trainer protocol: returns this host's queue so evaluation runs where the checkpoint is.
  const training = createTrainingActivities({ workerTaskQueue: deps.hostTaskQueue, registry: deps.trainers, host: deps.worker?.hostId, store: deps.checkpoints });
  const kernel = {
    ...createGenerationActivities(deps),
    ...training,
    ...createPolicyUpdateActivities({ ...deps, training }),
  };
  return Object.assign({}, kernel, ...LOOPS.map((loop) => loop.activities.gpu({ ...deps, training }))) as typeof kernel & Record<string, (...args: never[]) => Promise<unknown>>;
}
export type GpuActivities = ReturnType<typeof createGpuActivities>;
