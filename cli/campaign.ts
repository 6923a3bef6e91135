import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { loadIlfCampaignConfig } from '../common/campaign-config';
import { loadCampaignConfig } from '../common/campaign-file';
import { readEnv } from '../common/config';
import type { CampaignStatus } from '../common/ilf';
import { campaignStatusQuery, ilfCampaignWorkflow, pauseCampaignUpdate, resumeCampaignUpdate, stopCampaignUpdate } from '../workflows/ilf-campaign';
import { rlaifCampaignWorkflow } from '../workflows/rlaif-campaign';
import { connectClient } from './evaluate';

/** `feedloop campaign start|status|pause|resume|stop`: drive campaigns through Temporal (any loop). */

/** What the "status" query of any loop's campaign answers (ILF: pass@1 history; RLAIF: executability history). */
type AnyCampaignStatus = Omit<CampaignStatus, 'passAt1History'> & { passAt1History?: number[]; executabilityHistory?: number[] };

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const env = readEnv();
  const { client, close } = await connectClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
  try {
    return await fn(client);
  } finally {
    await close();
  }
}

/** An update the workflow rejected: print its reason and exit 1, changing nothing. */
export function rejectionReason(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
  return undefined;
}

export async function startIlfCampaign(client: Client, campaignId: string, configFile: string) {
  const config = loadIlfCampaignConfig(configFile);
  return client.workflow.start(ilfCampaignWorkflow, {
    workflowId: campaignId,
    taskQueue: config.taskQueues.workflow,
    args: [{ campaignId, config }],
  });
}

/** Starts a campaign of any loop: the file's `algorithm` picks the workflow. */
export async function startCampaign(client: Client, campaignId: string, configFile: string) {
  const config = loadCampaignConfig(configFile);
  if (config.algorithm === 'rlaif') {
    return client.workflow.start(rlaifCampaignWorkflow, { workflowId: campaignId, taskQueue: config.taskQueues.workflow, args: [{ campaignId, config }] });
  }
  return client.workflow.start(ilfCampaignWorkflow, { workflowId: campaignId, taskQueue: config.taskQueues.workflow, args: [{ campaignId, config }] });
}

export function registerCampaignCommands(program: Command): void {
  const campaign = program.command('campaign').description('start and steer training campaigns');

  campaign
    .command('start')
    .description('validate a campaign config and start the campaign (needs running workers)')
    .requiredOption('--config <file>', 'campaign config (YAML or JSON; algorithm ilf or rlaif), see examples/')
    .requiredOption('--id <campaignId>', 'campaign id (also its workflow id)')
    .option('--wait', 'wait for the campaign to finish and print its result')
    .action(async (opts: { config: string; id: string; wait?: boolean }) => {
      await withClient(async (client) => {
        const handle = await startCampaign(client, opts.id, opts.config);
        console.log(`started campaign ${opts.id} (run ${handle.firstExecutionRunId})`);
        console.log(`follow it: npx feedloop campaign status ${opts.id}; audit: npx feedloop audit ${opts.id}`);
        if (opts.wait) console.log(JSON.stringify(await handle.result(), null, 2));
      });
    });

  campaign
    .command('status <campaignId>')
    .description('live status of a campaign')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        // Every loop's campaign answers the same "status" query; RLAIF's carries executability instead of pass@1.
        const s: AnyCampaignStatus = await client.workflow.getHandle(id).query(campaignStatusQuery);
        if (opts.json) return console.log(JSON.stringify(s, null, 2));
        const state = s.finished ? 'finished' : s.stopRequested ? 'stopping' : s.paused ? 'paused' : 'running';
        console.log(`${s.campaignId}: ${state}, iteration ${s.iteration}/${s.iterations}` + (s.currentIterationWorkflowId ? ` (${s.currentIterationWorkflowId})` : ''));
        if (s.passAt1History?.length) console.log(`pass@1 per iteration: ${s.passAt1History.map((p) => `${(100 * p).toFixed(1)}%`).join(', ')}`);
        if (s.executabilityHistory?.length) console.log(`executability per iteration: ${s.executabilityHistory.map((p) => `${(100 * p).toFixed(1)}%`).join(', ')}`);
      });
    });

  const steer = [
    ['pause', 'stop starting new work; running activities finish', pauseCampaignUpdate],
    ['resume', 'resume a paused campaign', resumeCampaignUpdate],
    ['stop', 'finish the current step cleanly, then end the campaign', stopCampaignUpdate],
  ] as const;
  for (const [name, description, update] of steer) {
    campaign
      .command(`${name} <campaignId>`)
      .description(description)
      .action(async (id: string) => {
        await withClient(async (client) => {
          try {
            const s = await client.workflow.getHandle(id).executeUpdate(update);
            console.log(`${id}: ${name} accepted (paused=${s.paused}, stopping=${s.stopRequested}, iteration ${s.iteration})`);
          } catch (err) {
            const reason = rejectionReason(err);
            if (reason === undefined) throw err;
            console.error(`${id}: ${name} rejected: ${reason}`);
            process.exitCode = 1;
          }
        });
      });
  }
}
