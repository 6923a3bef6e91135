import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../infra/paths';
import { parseRlcfCampaignConfig, type RlcfCampaignConfig } from '../../loops/rlcf/config';
import type { TaskQueues } from '../../common/task-queues';
import { deepMerge, SIMULATED_TRAINER } from '../rlaif/helpers';

/**
 * The example RLCF dry-run config with overrides (deep-merged; a discriminator, like a model
 * backend, is replaced whole), routed to a test file's queues.
 */
export function rlcfConfig(queues: TaskQueues, overrides: Record<string, unknown> = {}, name = 'rlcf-dry-run.yaml'): RlcfCampaignConfig {
  const raw = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', name), 'utf8')) as Record<string, unknown> & { grounding: Record<string, unknown> };
  const discriminator = (overrides.grounding as { discriminator?: unknown } | undefined)?.discriminator;
  if (discriminator) raw.grounding.discriminator = discriminator;
  const withTrainer = deepMerge(raw, { trainer: { command: SIMULATED_TRAINER } });
  return parseRlcfCampaignConfig({ ...(deepMerge(withTrainer, overrides) as Record<string, unknown>), taskQueues: queues });
}
