import { LOOPS } from '../loops/registry';
import { createGenerationActivities } from '../activities/models/generate-samples';
import { createEvaluationMetricsActivities } from '../activities/metrics/evaluation-summary';
import { createSandboxActivities } from '../activities/sandbox/run-tests-batch';
import { createCampaignStoreActivities } from '../activities/store/campaigns';
import { createEvaluationStoreActivities } from '../activities/store/evaluation-activities';
import type { CpuActivityDeps } from '../activities/worker-deps';

export type { CpuActivityDeps };

/**
 * Everything the CPU worker registers on CPU_TASK_QUEUE: the kernel's capabilities (store,
 * sandbox, evaluation metrics, sampling from remote policies) and each registered loop's CPU
 * activities (loops/registry.ts).
 */
export function createCpuActivities(deps: CpuActivityDeps) {
  const kernel = {
    ...createEvaluationStoreActivities(deps),
    ...createCampaignStoreActivities(deps),
    ...createSandboxActivities({ pool: deps.pool, runner: deps.runner, concurrency: deps.sandboxConcurrency }),
    ...createEvaluationMetricsActivities(deps),
    // Sampling from a remote (OpenAI-compatible) policy: no GPU slot is held while waiting on an API.
    ...createGenerationActivities(deps),
  };
  return Object.assign({}, kernel, ...LOOPS.map((loop) => loop.activities.cpu(deps))) as typeof kernel & Record<string, (...args: never[]) => Promise<unknown>>;
}
export type CpuActivities = ReturnType<typeof createCpuActivities>;
