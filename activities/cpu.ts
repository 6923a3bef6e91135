import type pg from 'pg';
import { createEvaluationMetricsActivities } from './metrics/evaluation-summary';
import { createSandboxActivities } from './sandbox/run-tests-batch';
import type { SandboxRunner } from './sandbox/types';
import { createEvaluationStoreActivities } from './store/evaluation-activities';

/** Everything the CPU worker registers on CPU_TASK_QUEUE: sandbox, store, metrics. */
export interface CpuActivityDeps {
  pool: pg.Pool;
  runner: SandboxRunner;
  sandboxConcurrency: number;
}

export function createCpuActivities(deps: CpuActivityDeps) {
  return {
    ...createEvaluationStoreActivities(deps),
    ...createSandboxActivities({ pool: deps.pool, runner: deps.runner, concurrency: deps.sandboxConcurrency }),
    ...createEvaluationMetricsActivities(deps),
  };
}
export type CpuActivities = ReturnType<typeof createCpuActivities>;
