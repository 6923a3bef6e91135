import type pg from 'pg';
import { createGenerationActivities } from './models/generate-samples';

/** Everything the GPU worker registers on GPU_TASK_QUEUE: local generation, scoring, training. */
export interface GpuActivityDeps {
  pool: pg.Pool;
}

export function createGpuActivities(deps: GpuActivityDeps) {
  return {
    ...createGenerationActivities(deps),
  };
}
export type GpuActivities = ReturnType<typeof createGpuActivities>;
