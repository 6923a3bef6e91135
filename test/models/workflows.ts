import { proxyActivities } from '@temporalio/workflow';
import type { ModelBackendConfigInput } from '../../common/model-config';
import type { GenerateRequest } from '../../activities/models/types';

/** Test workflow: one model call with Temporal retries (the client itself never retries). */
export interface GenerateOnceResult {
  texts: string[];
  attempt: number;
}

const { generateOnce } = proxyActivities<{
  generateOnce(config: ModelBackendConfigInput, request: GenerateRequest): Promise<GenerateOnceResult>;
}>({
  startToCloseTimeout: '30s',
  // A short fixed interval: the test checks that the server's Retry-After (2 s) wins over it.
  retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 4 },
});

export async function generateWithRetries(config: ModelBackendConfigInput, request: GenerateRequest): Promise<GenerateOnceResult> {
  return generateOnce(config, request);
}
