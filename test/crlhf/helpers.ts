import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../infra/paths';
import { annotationProgressQuery, type AnnotationProgress } from '../../loops/crlhf/annotation-protocol';
import { parseCrlhfCampaignConfig, type CrlhfCampaignConfig } from '../../loops/crlhf/config';
import { crlhfIds } from '../../loops/crlhf/types';
import type { TaskQueues } from '../../common/task-queues';
import { deepMerge, SIMULATED_TRAINER } from '../rlaif/helpers';

export function exampleCrlhfRaw(): Record<string, unknown> {
  return parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'crlhf-dry-run.yaml'), 'utf8')) as Record<string, unknown>;
}

/** The dry-run example with overrides (deep-merged; `crowd` replaced whole when given), routed to a test file's queues. */
export function crlhfConfig(queues: TaskQueues, overrides: Record<string, unknown> = {}): CrlhfCampaignConfig {
  const raw = deepMerge(exampleCrlhfRaw(), { trainer: { command: SIMULATED_TRAINER } }) as Record<string, unknown>;
  const { crowd, ...rest } = overrides;
  const merged = deepMerge(raw, rest) as Record<string, unknown>;
  return parseCrlhfCampaignConfig({ ...merged, ...(crowd ? { crowd } : {}), taskQueues: queues });
}

/** A small campaign for fast tests: few tasks, few samples, few honeypots, no iteration 0. */
export const SMALL: Record<string, unknown> = {
  iterations: 1,
  evaluateStart: false,
  dataset: { train: { dataset: 'mbpp', split: 'train', maxTasks: 3 }, eval: { humaneval: { maxTasks: 2 }, mbpp: { maxTasks: 2 } } },
  sampling: { rollout: { n: 1 }, eval: { n: 2, ks: [1] } },
  honeypots: { mutants: 2, gold: 1, maxChangedLines: 2 },
};

/** Waits until iteration k of the campaign has its items and annotation is open. */
export async function waitForAnnotation(client: Client, campaignId: string, k: number, timeoutMs = 60_000): Promise<AnnotationProgress> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const p = await client.workflow.getHandle(crlhfIds.iterationWorkflow(campaignId, k)).query(annotationProgressQuery);
      if (p.open) return p;
    } catch {
      /* the iteration has not started yet */
    }
    if (Date.now() > until) {
      const campaign = await client.workflow.getHandle(campaignId).describe();
      const status = await client.workflow.getHandle(crlhfIds.iterationWorkflow(campaignId, k)).query('status').catch((err: unknown) => String(err));
      throw new Error(`annotation of ${campaignId} iteration ${k} did not open in ${timeoutMs} ms: campaign ${campaign.status.name}, iteration ${JSON.stringify(status)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
