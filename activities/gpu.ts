import type pg from 'pg';
import { createAiFeedbackActivities } from './feedback/ai-feedback';
import type { ModelBackendCache } from './models/index';
import { createApiGenerationActivities } from './models/generate-api-samples';
import { createGenerationActivities } from './models/generate-samples';
import { createRolloutScoringActivities } from './models/score-rollouts';
import { createRefineActivities } from './models/refine';
import { createTrainingActivities } from './training/index';
import { createIlfFineTuneActivities } from './training/ilf-fine-tune';
import { createIlfRefinerActivities } from './training/ilf-refiner';
import { createRlaifTrainingActivities } from './training/rlaif-training';

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
    ...createIlfRefinerActivities({ ...deps, training }),
    // RLAIF: APIBench answers and AI feedback of local (onnx, simulated) models, reward scoring,
    // and the reward-model and policy-update jobs.
    ...createApiGenerationActivities(deps),
    ...createAiFeedbackActivities(deps),
    ...createRolloutScoringActivities(deps),
    ...createRlaifTrainingActivities({ ...deps, training }),
  };
}
export type GpuActivities = ReturnType<typeof createGpuActivities>;
