import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
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
import { campaignFileProblems } from '../activities/training/preflight';
import { withPool } from '../infra/pool';
import { databaseUrlOf } from '../infra/postgres';
import { endText } from '../audit/core';
import { ALGORITHM, CAMPAIGN_ID, ITERATION } from '../common/search-attributes';
import type pg from 'pg';
import { readRuns, type RunAudit, type StartedHow } from '../audit/runs';
import { runOfStoreId } from '../common/campaign';
import { forgetRun, nextRun, recordRun, recordTemporalRunId, resumePoint, type ResumePoint } from './campaign-runs';
import { formatRetryingStep, reconcileCampaign, retryingSteps, workflowEnd, type RetryingStep, type WorkflowEnd } from './campaign-end';

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

/**
 * Starts a campaign of any loop from a validated config: the config's `algorithm` picks the
 * workflow. It carries the campaign's search attributes from its start (the UI's campaign filter
 * finds it before its first workflow task runs), as every workflow it starts does.
 * `run.storeId`: the key of a later run of the id (`<id>~<n>`), under which the workflow stores
 * everything and names its children; `run.state`: where a resumed run starts.
 */
export async function startCampaignFromConfig(
  client: Client,
  campaignId: string,
  config: { algorithm: string; taskQueues: { workflow: string } },
  run: { storeId?: string; state?: unknown } = {},
): Promise<WorkflowHandle & { firstExecutionRunId: string }> {
  const loop = loopNamed(config.algorithm);
  const storeId = run.storeId ?? campaignId;
  const input = { campaignId: storeId, config, ...(run.state ? { state: run.state } : {}) };
  return client.workflow.start(loop.campaignWorkflow as (input: unknown) => Promise<unknown>, {
    workflowId: campaignId,
    taskQueue: config.taskQueues.workflow,
    args: [input],
    // the key the workflow itself upserts and its children carry
    typedSearchAttributes: [
      { key: CAMPAIGN_ID, value: storeId },
      { key: ALGORITHM, value: config.algorithm },
    ],
  });
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

/** What `campaign status` says of an ended campaign: how it ended (the store's words once reconciled), its last iteration. */
export interface EndedCampaignStatus {
  campaignId: string;
  algorithm: string | null;
  status: string;
  endReason: string | null;
  /** the last iteration it reached, and how many its config asked for (when the store has it) */
  iteration: number | null;
  iterations: number | null;
  closedAt: string | null;
  /** which run of the id this is, when it has more than one (`campaign start --resume` / `--new-run`) */
  run?: number;
}

/**
 * The status of a campaign whose workflow has closed. A closed workflow answers no query without
 * a worker to replay it, and a terminated or cancelled one never recorded its end: Temporal's
 * close event says how it ended, and the store is reconciled with it (when DATABASE_URL answers),
 * so that status, audit and report say the same.
 */
async function endedCampaignStatus(client: Client, campaignId: string, end: WorkflowEnd): Promise<EndedCampaignStatus> {
  const attr = (key: string) => (end.searchAttributes[key] as unknown[] | undefined)?.[0];
  const status: EndedCampaignStatus = {
    campaignId,
    algorithm: (attr(ALGORITHM.name) as string | undefined) ?? null,
    status: end.status,
    endReason: end.endReason,
    iteration: (attr(ITERATION.name) as number | undefined) ?? null,
    iterations: null,
    closedAt: end.closedAt?.toISOString() ?? null,
  };
  try {
    await withPool(databaseUrlOf(readEnv()), async (pool) => {
      // The latest run of the id: its own row (run N > 1 is stored under `<id>~<N>`).
      const runs = await readRuns(pool, campaignId);
      const storeId = runs.at(-1)?.storeId ?? campaignId;
      if (runs.length > 1) status.run = runs.at(-1)!.run;
      await reconcileCampaign(pool, client, storeId);
      const { rows } = await pool.query<{ algorithm: string; status: string; end_reason: string | null; iterations: number | null; reached: number | null }>(
        `select algorithm, status, to_jsonb(c)->>'end_reason' as end_reason, (config->>'iterations')::int as iterations,
           (select max(iteration) from campaign_iterations i where i.campaign_id = c.id) as reached
         from campaigns c where id = $1`,
        [storeId],
      );
      const row = rows[0];
      if (!row) return;
      Object.assign(status, { algorithm: row.algorithm, status: row.status, endReason: row.end_reason, iterations: row.iterations, iteration: row.reached ?? status.iteration });
    });
  } catch {
    /* no store to reconcile: Temporal's word alone */
  }
  return status;
}

export function formatEndedCampaignStatus(s: EndedCampaignStatus): string {
  const reached = s.iteration !== null ? `; reached iteration ${s.iteration}${s.iterations !== null ? `/${s.iterations}` : ''}` : '';
  return `${s.campaignId} (${s.algorithm ?? '?'}): ${endText(s)}${reached}${s.closedAt ? `; ended ${s.closedAt}` : ''}${s.run ? `; run ${s.run}` : ''}`;
}

export function formatCampaignStatus(s: { campaign: CampaignStatus; iteration?: IterationStatus; retrying?: RetryingStep[] }): string {
  const c = s.campaign;
  const state = c.finished ? (c.outcome ?? 'finished') : c.stopRequested ? 'stopping' : c.paused ? 'paused' : 'running';
  // A later run of an id answers with its store key (`<id>~<N>`): the id, and which run.
  const { campaignId, run } = runOfStoreId(c.campaignId);
  const lines = [`${campaignId} (${c.algorithm}): ${state}, iteration ${c.iteration}/${c.iterations}` + (c.currentIterationWorkflowId ? ` (${c.currentIterationWorkflowId})` : '') + (run > 1 ? `; run ${run}` : '')];
  if (s.iteration) {
    lines.push(`phase ${s.iteration.phase}${s.iteration.paused ? ' (paused)' : ''}` + (s.iteration.waitingFor ? `; waiting for ${s.iteration.waitingFor}` : ''));
  }
  for (const r of s.retrying ?? []) lines.push(formatRetryingStep(r));
  const rate = (p: number) => `${(100 * p).toFixed(1)}%`;
  if (c.metric.start !== undefined) lines.push(`${c.metric.name} of the starting policy (iteration 0): ${rate(c.metric.start)}`);
  if (c.metric.history.length) lines.push(`${c.metric.name} per iteration: ${c.metric.history.map(rate).join(', ')}`);
  return lines.join('\n');
}

/** The one-line refusal of a start on a running campaign id. */
const alreadyRunning = (campaignId: string) =>
  new ConfigError(`campaign "${campaignId}" is already running: follow it with \`npx feedloop campaign status ${campaignId}\`, or start another with a new --id`);

/**
 * `campaign start` with an id that is taken. A running campaign is steered, not started again.
 * An ended one keeps its audit: without --resume or --new-run the start is refused in one line
 * (a second run under the same id must never mix with the first). Returns the store's runs of
 * the id (empty: a fresh id, or no store to ask).
 */
async function checkStartId(client: Client, campaignId: string, how: StartedHow): Promise<RunAudit[]> {
  if (campaignId.includes('~')) throw new ConfigError(`--id "${campaignId}": a campaign id cannot contain "~" (it names a campaign's later runs, e.g. ${campaignId.split('~')[0]}~2)`);
  const end = await workflowEnd(client, campaignId);
  if (end?.status === 'running') throw alreadyRunning(campaignId);
  let runs: RunAudit[] = [];
  let storeError: string | undefined;
  try {
    runs = await withPool(databaseUrlOf(readEnv()), async (pool) => {
      const found = await readRuns(pool, campaignId);
      // The latest run's end, where Temporal knows more than its row (terminated, cancelled).
      if (found.length) await reconcileCampaign(pool, client, found.at(-1)!.storeId);
      return readRuns(pool, campaignId);
    });
  } catch (err) {
    storeError = (err as Error).message.split('\n')[0]; // no store to ask: Temporal's word alone
  }
  const latest = runs.at(-1);
  if (how === 'new') {
    if (end || latest) {
      const ended = end ? endText(end) : endText(latest!);
      throw new ConfigError(
        `campaign "${campaignId}" already ran (${ended.split('\n')[0]}) and its audit keeps that run: continue it with --resume, start it over under the same id with --new-run (the runs stay apart), or start a fresh campaign with a new --id`,
      );
    }
    return runs;
  }
  if (!latest) {
    if (storeError !== undefined) throw new ConfigError(`--${how} needs the store the campaign ran on (DATABASE_URL): ${storeError}`);
    throw new ConfigError(`campaign "${campaignId}" never ran: there is nothing to ${how === 'resume' ? 'resume' : 'start over'}; start it without --${how}`);
  }
  if (latest.status === 'running') throw alreadyRunning(campaignId); // the store still says it runs: Temporal has not closed it
  return runs;
}

/**
 * The offline checks beyond the schema: where the workers' trainers file is visible (--trainers,
 * FEEDLOOP_TRAINERS), a campaign naming another trainer is refused; the files the config names
 * that are here (a trainer's script, a model directory) must hold what a worker will look for.
 */
function checkOffline(config: unknown, configFile: string, trainers = process.env.FEEDLOOP_TRAINERS): void {
  if (trainers) checkCampaignTrainers(config, loadTrainerRegistry(trainers));
  const problems = campaignFileProblems(config);
  if (problems.length) throw new ConfigError(`${configFile}: ${problems.join('; ')}`);
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
      checkOffline(config, opts.config, opts.trainers);
      if (opts.json) console.log(JSON.stringify(config, null, 2));
      else console.log(`${opts.config}: valid ${loopNamed(config.algorithm).title} campaign, ${config.iterations} iteration(s)`);
    });

  campaign
    .command('start')
    .description('validate a campaign config and start the campaign (needs running workers)')
    .requiredOption('--config <file>', 'campaign config (YAML or JSON), see examples/')
    .requiredOption('--id <campaignId>', 'campaign id (also its workflow id)')
    .option('--wait', 'wait for the campaign to finish and print its result')
    .option('--resume', 'continue an ended campaign from its last completed iteration, as its next run (same config loop; `iterations` may be raised)')
    .option('--new-run', 'start an ended campaign over from iteration 1 under the same id, as its next run; the runs stay apart in the store and the audit')
    .option('--trainers <file>', "the workers' trainers file: every trainer the campaign names must be in it (env FEEDLOOP_TRAINERS)")
    .action(async (opts: { config: string; id: string; wait?: boolean; resume?: boolean; newRun?: boolean; trainers?: string }) => {
      if (opts.resume && opts.newRun) throw new ConfigError('--resume and --new-run cannot be given together: --resume continues the stored campaign, --new-run starts it over from iteration 1');
      // Validated before anything is contacted: a bad config never needs a server to be told so.
      const config = loadCampaignConfig(opts.config);
      checkOffline(config, opts.config, opts.trainers);
      const how: StartedHow = opts.resume ? 'resume' : opts.newRun ? 'new-run' : 'new';
      await withClient(async (client) => {
        const runs = await checkStartId(client, opts.id, how);
        const { run, storeId } = nextRun(opts.id, runs);
        let point: ResumePoint | undefined;
        const withStore = <T>(fn: (pool: pg.Pool) => Promise<T>) => withPool(databaseUrlOf(readEnv()), fn);
        if (how !== 'new') {
          const latest = runs.at(-1)!;
          if (latest.algorithm !== config.algorithm) {
            throw new ConfigError(`campaign "${opts.id}" runs the ${latest.algorithm} loop and ${opts.config} is ${config.algorithm}: --${how} runs the stored campaign's loop (start a fresh campaign with a new --id)`);
          }
          if (how === 'resume') {
            point = await withStore((pool) => resumePoint(pool, opts.id, runs, config as unknown as Parameters<typeof resumePoint>[3]));
            if (point.nextIteration > config.iterations) {
              throw new ConfigError(`campaign "${opts.id}" has nothing to resume: its ${point.nextIteration - 1} iteration(s) completed and ${opts.config} asks for ${config.iterations}; raise \`iterations\` to run more, or start it over with --new-run`);
            }
          }
          await withStore((pool) => recordRun(pool, { campaignId: opts.id, run, storeId, how, fromIteration: point?.nextIteration ?? 1, algorithm: config.algorithm, config }));
        }
        let handle;
        try {
          handle = await startCampaignFromConfig(client, opts.id, config, { storeId, state: point?.state });
        } catch (err) {
          if (how !== 'new') await withStore((pool) => forgetRun(pool, opts.id, run, storeId));
          // Started by someone else between the check and the start.
          if (err instanceof WorkflowExecutionAlreadyStartedError) throw alreadyRunning(opts.id);
          throw err;
        }
        const temporalRunId = handle.firstExecutionRunId;
        // Run 1 is recorded, with its Temporal run, when its workflow registers the campaign.
        if (how !== 'new') await withStore((pool) => recordTemporalRunId(pool, opts.id, run, temporalRunId));
        if (how === 'resume') {
          const kept = point!.keptFrom.length ? `; iteration(s) ${point!.keptFrom.map((k) => `${k.iteration} (run ${k.run})`).join(', ')} kept` : '; no iteration had completed';
          console.log(`resumed ${config.algorithm} campaign ${opts.id} as run ${run}, from iteration ${point!.nextIteration} of ${config.iterations}${kept} (temporal run ${temporalRunId})`);
        } else if (how === 'new-run') {
          console.log(`started ${config.algorithm} campaign ${opts.id} over as run ${run}, from iteration 1 (stored as ${storeId}, apart from the earlier runs) (temporal run ${temporalRunId})`);
        } else {
          console.log(`started ${config.algorithm} campaign ${opts.id} (run ${temporalRunId})`);
        }
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
        const end = await workflowEnd(client, id);
        if (!end) throw new WorkflowNotFoundError('not found', id, undefined);
        if (end.status !== 'running') {
          const ended = await endedCampaignStatus(client, id, end);
          console.log(opts.json ? JSON.stringify({ ended }, null, 2) : formatEndedCampaignStatus(ended));
          return;
        }
        const s = await campaignStatus(client, id);
        // A step Temporal keeps retrying (a crashing trainer): its attempt and last error.
        const retrying = s.campaign.currentIterationWorkflowId ? await retryingSteps(client, s.campaign.currentIterationWorkflowId) : [];
        console.log(opts.json ? JSON.stringify({ ...s, retrying }, null, 2) : formatCampaignStatus({ ...s, retrying }));
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
          // An ended campaign answers no update: say how it ended, not "no campaign".
          const end = await workflowEnd(client, id);
          if (end && end.status !== 'running') {
            console.error(`${id}: ${name} rejected: the campaign has ended: ${formatEndedCampaignStatus(await endedCampaignStatus(client, id, end))}`);
            process.exitCode = 1;
            return;
          }
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
