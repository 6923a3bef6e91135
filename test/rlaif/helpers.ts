import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../infra/paths';
import { parseRlaifCampaignConfig, type RlaifCampaignConfig } from '../../loops/rlaif/config';
import type { TaskQueues } from '../../common/task-queues';

/** Plain objects merge key by key; anything else (arrays, and whole model backends) is replaced. */
export function deepMerge(base: unknown, over: unknown): unknown {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(base) || !isObj(over) || 'backend' in over) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/** The protocol trainer run by this Node (no reliance on `node` being on PATH). */
export const SIMULATED_TRAINER = [process.execPath, path.join(PROJECT_ROOT, 'trainers', 'simulated', 'trainer.mjs')];

/** An example RLAIF config with overrides (deep-merged), routed to a test file's queues. */
export function rlaifConfig(queues: TaskQueues, overrides: Record<string, unknown> = {}, name = 'rlaif-dry-run.yaml'): RlaifCampaignConfig {
  const raw = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', name), 'utf8')) as Record<string, unknown>;
  const withTrainer = deepMerge(raw, { trainer: { command: SIMULATED_TRAINER } });
  return parseRlaifCampaignConfig({ ...(deepMerge(withTrainer, overrides) as Record<string, unknown>), taskQueues: queues });
}
