import type pg from 'pg';
import { createAiFeedbackActivities } from './feedback/ai-feedback';
import { createFeedbackActivities } from './feedback/feedback-activities';
import { createApiBenchMetricsActivities } from './metrics/apibench-evaluation';
import { createApiGenerationActivities } from './models/generate-api-samples';
import { createGenerationActivities } from './models/generate-samples';
import type { ModelBackendCache } from './models/index';
import { createEvaluationMetricsActivities } from './metrics/evaluation-summary';
import { createRefineActivities } from './models/refine';
import { createSandboxActivities } from './sandbox/run-tests-batch';
import type { SandboxRunner } from './sandbox/types';
import { createCampaignStoreActivities } from './store/campaigns';
import { createEvaluationStoreActivities } from './store/evaluation-activities';

/** Everything the CPU worker registers on CPU_TASK_QUEUE: sandbox, store, feedback, metrics. */
export interface CpuActivityDeps {
  pool: pg.Pool;
  runner: SandboxRunner;
  sandboxConcurrency: number;
  /** model backends of this process, kept across activities (ONNX sessions load once) */
  models: ModelBackendCache;
}

export function createCpuActivities(deps: CpuActivityDeps) {
  return {
    ...createEvaluationStoreActivities(deps),
    ...createCampaignStoreActivities(deps),
    ...createSandboxActivities({ pool: deps.pool, runner: deps.runner, concurrency: deps.sandboxConcurrency }),
    ...createEvaluationMetricsActivities(deps),
    ...createFeedbackActivities(deps),
    // Refinement with the dataset or a remote (OpenAI-compatible) refiner runs on CPU workers,
    // and so does sampling from a remote policy: no GPU slot is held while waiting on an API.
    ...createRefineActivities(deps),
    ...createGenerationActivities(deps),
    // RLAIF: APIBench answers of a remote policy, AI feedback from a remote judge, the paper's metrics.
    ...createApiGenerationActivities(deps),
    ...createAiFeedbackActivities(deps),
    ...createApiBenchMetricsActivities(deps),
  };
}
export type CpuActivities = ReturnType<typeof createCpuActivities>;
