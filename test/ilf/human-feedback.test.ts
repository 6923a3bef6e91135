import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import { ilfIds } from '../../loops/ilf/types';
import { PROJECT_ROOT } from '../../infra/paths';
import { listOpenFeedbackRequests } from '../../cli/feedback';
import { withWorkers } from '../helpers/temporal';
import { campaignId, exampleConfig, query } from './helpers';

/**
 * The `human` feedback source: an iteration waits durably for people, who answer through the
 * CLI (a Temporal update); invalid answers are rejected with a reason; a deadline and a quorum
 * decide what happens to requests nobody answered.
 */
const ctx = withWorkers('ilf-human');

function humanConfig(human: Record<string, unknown>) {
  return exampleConfig('ilf-dry-run.yaml', ctx.queues, {
    // A weak simulated policy on tasks 311-314: most of its programs fail and need feedback.
    models: { policy: { backend: 'simulated', seed: 3, quality: { initial: 0.01, ceiling: 0.02, halfwayExamples: 100 } } },
    dataset: { maxTrainTasks: 4, maxTestTasks: 3 },
    sampling: { train: { n: 1 }, eval: { n: 1, ks: [1] } },
    feedback: { source: 'human', human },
    iterations: 1,
  });
}

function feedloopCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl') },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

async function waitForRequests(id: string) {
  for (let i = 0; i < 600; i++) {
    const open = await listOpenFeedbackRequests(inject('databaseUrl'), id, 1);
    if (open.length > 0) return open;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no feedback requests appeared');
}

describe('human feedback', () => {
  it('waits for people, rejects invalid submissions with reasons, and proceeds once all are answered', async () => {
    const id = campaignId('human');
    const handle = await ctx.client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config: humanConfig({ deadline: '1h' }) }] });
    const open = await waitForRequests(id);
    const listed = await feedloopCli(['feedback', 'list', '--campaign', id]);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(open[0]!.requestId);

    const base = ['feedback', 'submit', '--campaign', id, '--iteration', '1'];
    const empty = await feedloopCli([...base, '--request', open[0]!.requestId, '--text', '   ']);
    expect(empty.code).toBe(1);
    expect(empty.out).toMatch(/rejected: feedback text is empty/);
    const unknown = await feedloopCli([...base, '--task', '9999', '--text', 'looks wrong']);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toMatch(/rejected: unknown task 9999/);
    const first = await feedloopCli([...base, '--request', open[0]!.requestId, '--text', 'The loop stops one element early.', '--author', 'ann']);
    expect(first.out).toMatch(/accepted/);
    expect(first.code).toBe(0);
    const duplicate = await feedloopCli([...base, '--request', open[0]!.requestId, '--text', 'again']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.out).toMatch(/already answered/);

    // `campaign status` says the phase and what the iteration waits for.
    const status = await feedloopCli(['campaign', 'status', id]);
    expect(status.code).toBe(0);
    expect(status.out).toContain('phase feedback');
    expect(status.out).toMatch(new RegExp(`waiting for human feedback: 1 of ${open.length} answered, deadline \\d{4}-\\d\\d-\\d\\dT`));

    // Every workflow of the campaign carries its search attributes from its start.
    const listed1 = [];
    for await (const w of ctx.client.workflow.list({ query: `FeedloopCampaignId = '${id}'` })) listed1.push(w.workflowId);
    // (the sandbox batches run in children of their own: they are listed too)
    expect(listed1.sort()).toEqual(
      [id, ilfIds.evaluation(id, 0), `${ilfIds.evaluation(id, 0)}/tests-batches`, ilfIds.iterationWorkflow(id, 1), `${ilfIds.trainSamples(id, 1)}/tests-batches`].sort(),
    );

    // The rest through the update API directly (what the CLI sends).
    const iteration = ctx.client.workflow.getHandle(ilfIds.iterationWorkflow(id, 1));
    for (const r of open.slice(1)) await iteration.executeUpdate('submitFeedback', { args: [{ requestId: r.requestId, text: `Fix task ${r.taskId}.`, author: 'bob' }] });

    const result = await handle.result();
    // The evaluation child is findable by the campaign too (visibility catches up within moments).
    let found: string[] = [];
    for (let i = 0; i < 50 && !found.includes(ilfIds.evaluation(id, 1)); i++) {
      found = [];
      for await (const w of ctx.client.workflow.list({ query: `FeedloopCampaignId = '${id}'` })) found.push(w.workflowId);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toContain(ilfIds.evaluation(id, 1));
    expect(result.status).toBe('completed');
    expect(result.iterations[0]!.counts.feedbackReceived).toBe(open.length);
    const rows = await query<{ source: string; author: string; n: string }>(
      'select source, author, count(*) as n from feedback where campaign_id = $1 group by source, author order by author',
      [id],
    );
    expect(rows.map((r) => [r.source, r.author, Number(r.n)])).toEqual([['human', 'ann', 1], ...(open.length > 1 ? [['human', 'bob', open.length - 1]] : [])]);
    // Nothing rejected was stored.
    const texts = await query<{ text: string }>('select text from feedback where campaign_id = $1', [id]);
    expect(texts.map((t) => t.text)).not.toContain('again');
  });

  it('at the deadline with the quorum unmet and onDeadline "proceed", closes the rest and goes on', async () => {
    const id = campaignId('deadline-go');
    const handle = await ctx.client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config: humanConfig({ deadline: '4s', quorum: 1, onDeadline: 'proceed' }) }] });
    const open = await waitForRequests(id);
    await ctx.client.workflow.getHandle(ilfIds.iterationWorkflow(id, 1)).executeUpdate('submitFeedback', { args: [{ requestId: open[0]!.requestId, text: 'Off by one.' }] });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.iterations[0]!.counts.feedbackReceived).toBe(1);
    const statuses = await query<{ status: string; n: string }>('select status, count(*) as n from feedback_requests where campaign_id = $1 group by status order by status', [id]);
    expect(Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)]))).toEqual({ answered: 1, ...(open.length > 1 ? { closed: open.length - 1 } : {}) });
  });

  it('at the deadline with the quorum unmet and onDeadline "fail", fails the iteration saying why', async () => {
    const id = campaignId('deadline-fail');
    const handle = await ctx.client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config: humanConfig({ deadline: '3s', quorum: 0.5, onDeadline: 'fail' }) }] });
    await waitForRequests(id);
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const iterationErr = await ctx.client.workflow.getHandle(ilfIds.iterationWorkflow(id, 1)).result().catch((e: unknown) => e);
    expect(String((iterationErr as WorkflowFailedError).cause?.message)).toMatch(/deadline 3s passed with 0\/\d+ requests answered, below the quorum of 0.5/);
    const [it1] = await query<{ status: string }>('select status from campaign_iterations where campaign_id = $1', [id]);
    expect(it1!.status).toBe('failed');
    const [campaign] = await query<{ status: string }>('select status from campaigns where id = $1', [id]);
    expect(campaign!.status).toBe('failed');
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/iteration 1 of campaign .* failed: feedback deadline/);
  });
});
