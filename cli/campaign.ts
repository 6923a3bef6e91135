import { WorkflowNotFoundError } from '@temporalio/common';
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import type { CampaignStatus, IterationStatus } from '../common/campaign';
import { ConfigError } from '../common/config-error';
import { readEnv } from '../infra/env';
import { loadCampaignConfig } from '../loops/config-file';
import { loopNamed } from '../loops/registry';
import { campaignStatusQuery, iterationStatusQuery, pauseCampaignUpdate, resumeCampaignUpdate, stopCampaignUpdate } from '../workflows/control';
import { connectClient } from './evaluate';
import { checkCampaignTrainers, loadTrainerRegistry } from '../activities/training/trainer-registry';

/**
 * `feedloop campaign validate|start|status|pause|resume|stop`: drive campaigns of any loop through
 * Temporal. The config's `algorithm` picks the loop (loops/registry.ts); every campaign answers
 * the same updates and queries (workflows/control.ts), so steering never asks which loop it is.
 */

/** Connects to Temporal; an unreachable server is a one-line user error saying how to get one. */
export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const env = readEnv();
  let connection;
  try {
    connection = await connectClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
  } catch (err) {
    throw new ConfigError(
      `cannot reach the Temporal server at ${env.TEMPORAL_ADDRESS} (${(err as Error).message.split('\n')[0]}): start one with \`npx feedloop dev up\`, or set TEMPORAL_ADDRESS`,
    );
  }
  try {
    return await fn(connection.client);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ConfigError(`no campaign ${JSON.stringify(err.workflowId)} on ${env.TEMPORAL_ADDRESS} (namespace ${env.TEMPORAL_NAMESPACE})`);
    throw err;
  } finally {
    await connection.close();
  }
}

/** An update the workflow rejected: print its reason and exit 1, changing nothing. */
export function rejectionReason(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
  return undefined;
}

/** Starts a campaign of any loop from a validated config: the config's `algorithm` picks the workflow. */
export async function startCampaignFromConfig(client: Client, campaignId: string, config: { algorithm: string; taskQueues: { workflow: string } }): Promise<WorkflowHandle & { firstExecutionRunId: string }> {
  const loop = loopNamed(config.algorithm);
  return client.workflow.start(loop.campaignWorkflow as (input: unknown) => Promise<unknown>, { workflowId: campaignId, taskQueue: config.taskQueues.workflow, args: [{ campaignId, config }] });
}

/** Validates the file (nothing is contacted), then starts its campaign. */
export async function startCampaign(client: Client, campaignId: string, configFile: string): Promise<WorkflowHandle & { firstExecutionRunId: string }> {
  return startCampaignFromConfig(client, campaignId, loadCampaignConfig(configFile));
}

/** A campaign's status with its running iteration's phase and what it waits for. */
export async function campaignStatus(client: Client, campaignId: string): Promise<{ campaign: CampaignStatus; iteration?: IterationStatus }> {
  const campaign = await client.workflow.getHandle(campaignId).query(campaignStatusQuery);
  if (!campaign.currentIterationWorkflowId) return { campaign };
  const iteration = await client.workflow
    .getHandle(campaign.currentIterationWorkflowId)
    .query(iterationStatusQuery)
    .catch(() => undefined); // the iteration can be closing as we ask
  return { campaign, iteration };
}

export function formatCampaignStatus(s: { campaign: CampaignStatus; iteration?: IterationStatus }): string {
  const c = s.campaign;
  const state = c.finished ? 'finished' : c.stopRequested ? 'stopping' : c.paused ? 'paused' : 'running';
  const lines = [`${c.campaignId} (${c.algorithm}): ${state}, iteration ${c.iteration}/${c.iterations}` + (c.currentIterationWorkflowId ? ` (${c.currentIterationWorkflowId})` : '')];
  if (s.iteration) {
    lines.push(`phase ${s.iteration.phase}${s.iteration.paused ? ' (paused)' : ''}` + (s.iteration.waitingFor ? `; waiting for ${s.iteration.waitingFor}` : ''));
  }
  const rate = (p: number) => `${(100 * p).toFixed(1)}%`;
  if (c.metric.start !== undefined) lines.push(`${c.metric.name} of the starting policy (iteration 0): ${rate(c.metric.start)}`);
  if (c.metric.history.length) lines.push(`${c.metric.name} per iteration: ${c.metric.history.map(rate).join(', ')}`);
  return lines.join('\n');
}

/** Where the workers' trainers file is visible (--trainers, FEEDLOOP_TRAINERS), a campaign naming another trainer is refused here. */
function checkTrainersIfKnown(config: unknown, file = process.env.FEEDLOOP_TRAINERS): void {
  if (file) checkCampaignTrainers(config, loadTrainerRegistry(file));
}

export function registerCampaignCommands(program: Command): void {
  const campaign = program.command('campaign').description('validate, start and steer training campaigns (any loop)');

  campaign
    .command('validate')
    .description('check a campaign config offline: every bad field is named; nothing is contacted')
    .requiredOption('--config <file>', 'campaign config (YAML or JSON), see examples/')
    .option('--json', 'print the validated config, defaults filled in, as JSON')
    .option('--trainers <file>', "the workers' trainers file: every trainer the campaign names must be in it (env FEEDLOOP_TRAINERS)")
    .action((opts: { config: string; json?: boolean; trainers?: string }) => {
      const config = loadCampaignConfig(opts.config);
      checkTrainersIfKnown(config, opts.trainers);
      if (opts.json) console.log(JSON.stringify(config, null, 2));
      else console.log(`${opts.config}: valid ${loopNamed(config.algorithm).title} campaign, ${config.iterations} iteration(s)`);
    });

  campaign
    .command('start')
    .description('validate a campaign config and start the campaign (needs running workers)')
    .requiredOption('--config <file>', 'campaign config (YAML or JSON), see examples/')
    .requiredOption('--id <campaignId>', 'campaign id (also its workflow id)')
    .option('--wait', 'wait for the campaign to finish and print its result')
    .option('--trainers <file>', "the workers' trainers file: every trainer the campaign names must be in it (env FEEDLOOP_TRAINERS)")
    .action(async (opts: { config: string; id: string; wait?: boolean; trainers?: string }) => {
      // Validated before anything is contacted: a bad config never needs a server to be told so.
      const config = loadCampaignConfig(opts.config);
      checkTrainersIfKnown(config, opts.trainers);
      await withClient(async (client) => {
        const handle = await startCampaignFromConfig(client, opts.id, config);
        console.log(`started ${config.algorithm} campaign ${opts.id} (run ${handle.firstExecutionRunId})`);
        console.log(`follow it: npx feedloop campaign status ${opts.id}; audit: npx feedloop audit ${opts.id}`);
        if (opts.wait) console.log(JSON.stringify(await handle.result(), null, 2));
      });
    });

  campaign
    .command('status <campaignId>')
    .description('live status of a campaign: iteration, phase, and what the iteration waits for')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const s = await campaignStatus(client, id);
        console.log(opts.json ? JSON.stringify(s, null, 2) : formatCampaignStatus(s));
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
