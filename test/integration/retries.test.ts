import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/ports';
import { rootCause } from '../../workflows/campaign';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import { withWorkers } from '../helpers/temporal';
import { campaignId, exampleConfig, query } from '../ilf/helpers';

/**
 * Retries that end: a step that keeps failing for a reason worth retrying (here, a model server
 * that is not there) is tried `timeouts.maxAttempts` times, then the campaign fails with a
 * message naming the iteration, the step, the worker it last ran on and the last error, and the
 * audit shows the campaign failed.
 */
const ctx = withWorkers('retries');

describe('retry caps', () => {
  it('fails the campaign after maxAttempts, naming the step, the host and the last error', async () => {
    const id = campaignId('retries');
    const config = exampleConfig('ilf-dry-run.yaml', ctx.queues, {
      models: { policy: { backend: 'openai', baseUrl: `http://127.0.0.1:${await closedPort()}/v1`, model: 'nobody-home', timeoutMs: 1000 } },
      trainer: { kind: 'none' },
      dataset: { maxTrainTasks: 2, maxTestTasks: 1 },
      iterations: 1,
      timeouts: { maxAttempts: 2 },
    });
    const handle = await ctx.client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = rootCause(err);
    // Iteration 0, the starting policy's evaluation, is the first step that samples the policy.
    expect(message).toMatch(/^iteration 0 of campaign retries-\w+ failed in activity generateSamples \(retries exhausted\): /);
    expect(message).toMatch(/\(on \d+@[^/]+\/cpu\)$/);
    const [campaign] = await query<{ status: string }>('select status from campaigns where id = $1', [id]);
    expect(campaign!.status).toBe('failed');
  });
});
