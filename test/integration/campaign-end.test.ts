import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, inject, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import { pauseCampaignUpdate } from '../../workflows/control';
import { withWorkers } from '../helpers/temporal';
import { tempDir } from '../helpers/temp-dir';
import { feedloop } from '../helpers/cli';
import { startCampaignFromConfig } from '../../cli/campaign';
import { campaignId, exampleConfig, query } from '../ilf/helpers';

/**
 * Close-out: a campaign's end, however it came (an iteration terminated, the campaign cancelled,
 * a stop, a step that exhausted its retries), is what `campaign status`, `audit` and `report`
 * all say, in the same words; an ended campaign refuses steering by saying how it ended; a taken
 * id refuses `campaign start` in one line. Real Temporal, real store, the CLI as a user runs it.
 */
const ctx = withWorkers('campaign-end');
const dir = tempDir('campaign-end');
const run = (args: string[]) => feedloop(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl'), FEEDLOOP_HOME: dir }, dir);

const small = (overrides: Record<string, unknown> = {}) =>
  exampleConfig('ilf-dry-run.yaml', ctx.queues, { dataset: { maxTrainTasks: 8, maxTestTasks: 6 }, evaluateStart: false, ...overrides });

async function start(id: string, overrides: Record<string, unknown> = {}): Promise<WorkflowHandle> {
  return ctx.client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config: small(overrides) }] });
}

/** Waits until iteration 1's workflow runs, and pauses the campaign there (its next phase waits). */
async function pausedInIteration1(id: string, handle: WorkflowHandle): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const d = await ctx.client.workflow.getHandle(`${id}/iteration-1`).describe().catch(() => undefined);
    if (d?.status.name === 'RUNNING') break;
    if (Date.now() > deadline) throw new Error(`${id}/iteration-1 never ran`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await handle.executeUpdate(pauseCampaignUpdate);
}

async function closed(handle: WorkflowHandle): Promise<void> {
  await handle.result().catch(() => undefined);
}

/** The store's words for the campaign's end, after status/audit reconciled it. */
async function storedEnd(id: string): Promise<{ status: string; text: string }> {
  const [row] = await query<{ status: string; end_reason: string | null }>('select status, end_reason from campaigns where id = $1', [id]);
  return { status: row!.status, text: row!.end_reason ? `${row!.status}: ${row!.end_reason.split('\n')[0]}` : row!.status };
}

/** status, audit and report of an ended campaign: each says `text`; returns the status line. */
async function expectSameEnd(id: string, statusWord: string): Promise<string> {
  const status = await run(['campaign', 'status', id]);
  expect(status.code, status.stderr).toBe(0);
  const end = await storedEnd(id);
  expect(end.status).toBe(statusWord);
  expect(status.stdout.trim()).toMatch(new RegExp(`^${id} \\(ilf\\): ${escape(end.text)}; reached iteration \\d+/\\d+; ended `));
  const audit = await run(['audit', id]);
  expect(audit.code, audit.stderr).toBe(0);
  expect(audit.stdout).toContain(`campaign     ${id} (ilf), ${end.text}; started`);
  const report = await run(['report', id]);
  expect(report.code, report.stderr).toBe(0);
  const file = report.stdout.trim().replace(/^wrote /, '');
  // Under FEEDLOOP_HOME's reports/ by default, not the working directory.
  expect(file).toBe(path.join(dir, 'reports', `${id}.report.html`));
  expect(fs.readFileSync(file, 'utf8')).toContain(`<dd>${htmlEscape(end.text)}; started`);
  return status.stdout.trim();
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const htmlEscape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

describe('how a campaign ended: status, audit and report agree', () => {
  it('an iteration terminated: the campaign failed, with the reason, and the iteration row says terminated', async () => {
    const id = campaignId('term');
    const handle = await start(id);
    await pausedInIteration1(id, handle);
    await ctx.client.workflow.getHandle(`${id}/iteration-1`).terminate('an operator ended it');
    await closed(handle);
    const line = await expectSameEnd(id, 'failed');
    expect(line).toMatch(new RegExp(`^${id} \\(ilf\\): failed: iteration 1 of campaign ${id} failed: `));
    const [it1] = await query<{ status: string; end_reason: string | null }>('select status, end_reason from campaign_iterations where campaign_id = $1 and iteration = 1', [id]);
    expect(it1).toEqual({ status: 'terminated', end_reason: 'an operator ended it' });
    expect((await run(['audit', id])).stdout).toContain('── iteration 1: terminated: an operator ended it (phase');
    console.log(`terminate: ${line}`);

    // The id is taken: a second start refuses in one line, exit 2, naming --resume and --new-run.
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, stringify({ ...small(), taskQueues: ctx.queues }));
    const again = await run(['campaign', 'start', '--config', file, '--id', id]);
    expect(again.code).toBe(2);
    const lines = again.stderr.trim().split('\n');
    expect(lines, again.stderr).toHaveLength(1);
    expect(lines[0]).toBe(`feedloop: campaign "${id}" already ran (${(await storedEnd(id)).text}) and its audit keeps that run: continue it with --resume, start it over under the same id with --new-run (the runs stay apart), or start a fresh campaign with a new --id`);
  });

  it('a campaign cancelled: status, audit and report say cancelled; stop and resume say how it ended', async () => {
    const id = campaignId('cancel');
    const handle = await start(id);
    await pausedInIteration1(id, handle);
    await handle.cancel();
    await closed(handle);
    const line = await expectSameEnd(id, 'cancelled');
    console.log(`cancel: ${line}`);
    for (const verb of ['stop', 'resume']) {
      const r = await run(['campaign', verb, id]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`${id}: ${verb} rejected: the campaign has ended: ${line}`);
    }
  });

  it('a stop mid-run: status says stopped (not finished), as the audit does; pause then says how it ended', async () => {
    const id = campaignId('stop');
    const handle = await start(id, { iterations: 3 });
    await pausedInIteration1(id, handle);
    const stop = await run(['campaign', 'stop', id]);
    expect(stop.code, stop.stderr).toBe(0);
    await closed(handle);
    const line = await expectSameEnd(id, 'stopped');
    expect(line).toMatch(new RegExp(`^${id} \\(ilf\\): stopped; reached iteration 1/3`));
    const pause = await run(['campaign', 'pause', id]);
    expect(pause.code).toBe(1);
    expect(pause.stderr.trim()).toBe(`${id}: pause rejected: the campaign has ended: ${line}`);
  });

  it('a start with the id of a running campaign is refused in one line, exit 2, no stack trace', async () => {
    const id = campaignId('busy');
    const handle = await start(id);
    await pausedInIteration1(id, handle);
    const file = path.join(dir, 'busy.yaml');
    fs.writeFileSync(file, stringify({ ...small(), taskQueues: ctx.queues }));
    const r = await run(['campaign', 'start', '--config', file, '--id', id]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`feedloop: campaign "${id}" is already running: follow it with \`npx feedloop campaign status ${id}\`, or start another with a new --id`);
    await handle.terminate();
  });

  it('every workflow the campaign starts, at any depth and in every run, carries its search attributes from its start', async () => {
    const id = campaignId('found');
    await (await startCampaignFromConfig(ctx.client, id, small({ iterations: 1, evaluateStart: true }))).result();
    // Every execution (continued-as-new runs too) whose id is the campaign's or under it.
    const executions = async () => {
      const found: { workflowId: string; runId: string }[] = [];
      for await (const w of ctx.client.workflow.list({ query: `WorkflowId STARTS_WITH '${id}'` })) {
        if (w.workflowId === id || w.workflowId.startsWith(`${id}/`)) found.push({ workflowId: w.workflowId, runId: w.runId });
      }
      return found;
    };
    // Visibility trails the workflows a little.
    let all: { workflowId: string; runId: string }[] = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
      all = await executions();
      if (all.some((w) => w.workflowId.endsWith('batches')) && all.some((w) => w.workflowId === `${id}/iteration-1/evaluation`)) break;
    }
    const ids = all.map((w) => w.workflowId);
    expect(ids).toContain(id);
    expect(ids).toContain(`${id}/iteration-0/evaluation`);
    expect(ids).toContain(`${id}/iteration-1`);
    expect(ids).toContain(`${id}/iteration-1/evaluation`);
    // the deepest: the evaluation's sandbox batches (campaign > iteration > evaluation > batches)
    expect(ids.filter((w) => w.endsWith('batches')).length, ids.join(', ')).toBeGreaterThanOrEqual(2);
    // From its start: the attributes are in each execution's first event, not upserted later.
    const started = async (w: { workflowId: string; runId: string }) => {
      const history = await ctx.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      const fields = history.events?.[0]?.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields ?? {};
      const value = (name: string) => (fields[name]?.data ? JSON.parse(Buffer.from(fields[name]!.data!).toString()) : undefined);
      return { workflowId: w.workflowId, campaign: value('FeedloopCampaignId'), algorithm: value('FeedloopAlgorithm') };
    };
    const starts = await Promise.all(all.map(started));
    expect(starts.filter((s) => s.campaign !== id || s.algorithm !== 'ilf')).toEqual([]);
    // ... so the UI's campaign filter lists every one of them.
    const filtered: string[] = [];
    for await (const w of ctx.client.workflow.list({ query: `FeedloopCampaignId = '${id}'` })) filtered.push(w.runId);
    expect(new Set(filtered)).toEqual(new Set(all.map((w) => w.runId)));
  });
});
