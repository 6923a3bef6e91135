import type pg from 'pg';
import type { ModelBackendCache } from './models/index';
import { createGenerationActivities } from './models/generate-samples';
import { createRefineActivities } from './models/refine';
import { createTrainingActivities } from './training/index';
import { createIlfFineTuneActivities } from './training/ilf-fine-tune';

/** Everything the GPU worker registers on GPU_TASK_QUEUE: local generation, scoring, training. */
export interface GpuActivityDeps {
  pool: pg.Pool;
  /** where training sets and checkpoints are written on this host */
  blobDir: string;
  /** this host's own task queue, returned by training so evaluation runs where the checkpoint is */
  hostTaskQueue: string;
  /** model backends of this process, kept across activities (ONNX sessions load once) */
  models: ModelBackendCache;
}

export function createGpuActivities(deps: GpuActivityDeps) {
  // The trainer protocol: returns this host's queue so evaluation runs where the checkpoint is.
  const training = createTrainingActivities({ workerTaskQueue: deps.hostTaskQueue });
  return {
    ...createGenerationActivities(deps),
    // Refinement with a local (onnx) or simulated refiner model is GPU work.
    ...createRefineActivities(deps),
    ...training,
    ...createIlfFineTuneActivities({ ...deps, training }),
  };
}
export type GpuActivities = ReturnType<typeof createGpuActivities>;
