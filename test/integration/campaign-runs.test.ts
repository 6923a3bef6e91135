import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, inject, it } from 'vitest';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import { pauseCampaignUpdate } from '../../workflows/control';
import type { RunAudit } from '../../audit/runs';
import { withWorkers } from '../helpers/temporal';
import { tempDir } from '../helpers/temp-dir';
import { feedloop } from '../helpers/cli';
import { PROJECT_ROOT } from '../../infra/paths';
import { campaignId, exampleConfig, query } from '../ilf/helpers';

/**
 * The runs of a campaign id: `campaign start` on an ended id refuses unless --resume (continue
 * the stored campaign as its next run) or --new-run (start it over under the same id); either
 * way the runs never mix in the store, the audit or the report. Real Temporal, real store, the
 * CLI as a user runs it, real ILF dry-run campaigns.
 */
const ctx = withWorkers('campaign-runs');
const dir = tempDir('campaign-runs');
const run = (args: string[]) => feedloop(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl'), FEEDLOOP_HOME: dir }, dir);

const small = (overrides: Record<string, unknown> = {}) =>
  exampleConfig('ilf-dry-run.yaml', ctx.queues, { dataset: { maxTrainTasks: 8, maxTestTasks: 6 }, evaluateStart: false, ...overrides });

function configFile(name: string, overrides: Record<string, unknown> = {}): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, stringify({ ...small(overrides), taskQueues: ctx.queues }));
  return file;
}

/** `feedloop campaign start ...`: exit 0 and its first line. */
async function startCli(args: string[]): Promise<string> {
  const r = await run(['campaign', 'start', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n')[0]!;
}

/** A one-line refusal, exit 2: the line. */
async function refused(args: string[]): Promise<string> {
  const r = await run(['campaign', 'start', ...args]);
  expect(r.code, r.stdout + r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0]!;
}

const finished = (id: string) => ctx.client.workflow.getHandle(id).result().catch(() => undefined);

async function auditJson(id: string): Promise<{ schemaVersion: number; campaign: { id: string; status: string }; iterations: Array<{ iteration: number }>; runs: RunAudit[] }> {
  const r = await run(['audit', id, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function waitRunning(workflowId: string): Promise<void> {
  for (const deadline = Date.now() + 90_000; ; await new Promise((r) => setTimeout(r, 100))) {
    const d = await ctx.client.workflow.getHandle(workflowId).describe().catch(() => undefined);
    if (d?.status.name === 'RUNNING') return;
    if (Date.now() > deadline) throw new Error(`${workflowId} never ran`);
  }
}

describe('the runs of a campaign id', () => {
  it('a completed campaign: start again refuses naming both flags; --new-run starts it over apart from run 1', async () => {
    const id = campaignId('again');
    const file = configFile('again', { iterations: 1 });
    expect(await startCli(['--config', file, '--id', id])).toMatch(new RegExp(`^started ilf campaign ${id} \\(run [0-9a-f-]+\\)$`));
    await finished(id);

    // (1) No flag: one line, exit 2, naming --resume and --new-run.
    expect(await refused(['--config', file, '--id', id])).toBe(
      `feedloop: campaign "${id}" already ran (completed) and its audit keeps that run: continue it with --resume, start it over under the same id with --new-run (the runs stay apart), or start a fresh campaign with a new --id`,
    );
    expect(await refused(['--config', file, '--id', id, '--resume', '--new-run'])).toBe('feedloop: --resume and --new-run cannot be given together: --resume continues the stored campaign, --new-run starts it over from iteration 1');
    // Everything completed: a resume has nothing to do unless `iterations` is raised.
    expect(await refused(['--config', file, '--id', id, '--resume'])).toBe(
      `feedloop: campaign "${id}" has nothing to resume: its 1 iteration(s) completed and ${file} asks for 1; raise \`iterations\` to run more, or start it over with --new-run`,
    );

    // (3) --new-run: run 2, from iteration 1, under its own store key.
    const line = await startCli(['--config', file, '--id', id, '--new-run']);
    expect(line).toMatch(new RegExp(`^started ilf campaign ${id} over as run 2, from iteration 1 \\(stored as ${id}~2, apart from the earlier runs\\) \\(temporal run [0-9a-f-]+\\)$`));
    await finished(id);

    const audit = await auditJson(id);
    expect(audit.schemaVersion).toBe(5);
    expect(audit.campaign).toMatchObject({ id: `${id}~2`, status: 'completed' });
    expect(audit.runs.map((r) => [r.run, r.storeId, r.startedHow, r.fromIteration, r.status])).toEqual([
      [1, id, 'new', 1, 'completed'],
      [2, `${id}~2`, 'new-run', 1, 'completed'],
    ]);
    const [r1, r2] = audit.runs as [RunAudit, RunAudit];
    expect(r1.iterations.map((i) => i.workflowId)).toEqual([`${id}/iteration-1`]);
    expect(r2.iterations.map((i) => i.workflowId)).toEqual([`${id}~2/iteration-1`]);
    expect(r1.temporalRunId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r2.temporalRunId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r2.temporalRunId).not.toBe(r1.temporalRunId);
    expect(r2.iterations[0]!.runId).not.toBe(r1.iterations[0]!.runId);
    // Neither run's times leak into the other: run 2 starts after run 1 finished.
    expect(Date.parse(r2.startedAt)).toBeGreaterThanOrEqual(Date.parse(r1.finishedAt!));
    expect(Date.parse(r2.iterations[0]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(r1.iterations[0]!.finishedAt!));
    // The eval runs and training jobs of each run are its own.
    const evals = await query<{ id: string }>(`select id from eval_runs where id like $1 || '/%' or id like $1 || '~2/%' order by id`, [id]);
    expect(evals.map((e) => e.id)).toEqual(expect.arrayContaining([`${id}/iteration-1/evaluation`, `${id}~2/iteration-1/evaluation`]));
    const [old, fresh] = await Promise.all([`${id}/iteration-1/evaluation`, `${id}~2/iteration-1/evaluation`].map((e) => query<{ workflow_id: string; run_id: string }>('select workflow_id, run_id from eval_runs where id = $1', [e])));
    expect(old![0]!.workflow_id.startsWith(`${id}/`)).toBe(true);
    expect(fresh![0]!.workflow_id.startsWith(`${id}~2/`)).toBe(true);
    const jobs = await query<{ campaign_id: string }>('select distinct campaign_id from training_jobs where campaign_id in ($1, $2) order by campaign_id', [id, `${id}~2`]);
    expect(jobs.map((j) => j.campaign_id)).toEqual([id, `${id}~2`]);

    // Run 1's details stay reachable; the text lists both runs.
    const text = await run(['audit', id]);
    expect(text.stdout).toContain(`campaign     ${id}~2 (ilf), completed; started`);
    expect(text.stdout).toContain(`runs         2; this audit shows run 2 (its store key ${id}~2); the others: npx feedloop audit ${id} --run 1`);
    expect(text.stdout).toMatch(new RegExp(`\\nrun 1        new, from iteration 1, iteration 1: completed; started \\S+, finished \\S+; temporal run ${r1.temporalRunId}\\n`));
    expect(text.stdout).toMatch(new RegExp(`\\nrun 2        new-run, from iteration 1, iteration 1: completed; started \\S+, finished \\S+; temporal run ${r2.temporalRunId}\\n`));
    const first = await run(['audit', id, '--run', '1']);
    expect(first.stdout).toContain(`campaign     ${id} (ilf), completed; started ${r1.startedAt}, finished ${r1.finishedAt}`);
    const none = await run(['audit', id, '--run', '3']);
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe(`feedloop audit: campaign "${id}" has no run 3 (it has 2 run(s))`);
    console.log(`new-run audit:\n${text.stdout.split('\n').slice(0, 8).join('\n')}`);
  });

  it('(2) an iteration failed: --resume keeps iteration 1, redoes iteration 2 as run 2, and the failed attempt stays under run 1', async () => {
    const id = campaignId('resume');
    const handle = await ctx.client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config: small({ iterations: 2 }) }] });
    await waitRunning(`${id}/iteration-2`);
    await handle.executeUpdate(pauseCampaignUpdate);
    await ctx.client.workflow.getHandle(`${id}/iteration-2`).terminate('an operator ended it');
    await finished(id);

    const file = configFile('resume', { iterations: 2 });
    const line = await startCli(['--config', file, '--id', id, '--resume']);
    expect(line).toMatch(new RegExp(`^resumed ilf campaign ${id} as run 2, from iteration 2 of 2; iteration\\(s\\) 1 \\(run 1\\) kept \\(temporal run [0-9a-f-]+\\)$`));
    const result = (await ctx.client.workflow.getHandle(id).result()) as { status: string; iterations: Array<{ iteration: number }> };
    expect(result.status).toBe('completed');
    expect(result.iterations.map((i) => i.iteration)).toEqual([2]);

    const audit = await auditJson(id);
    expect(audit.runs.map((r) => [r.run, r.startedHow, r.fromIteration, r.status, r.iterations.map((i) => `${i.iteration}:${i.status}`)])).toEqual([
      [1, 'new', 1, 'failed', ['1:completed', '2:terminated']],
      [2, 'resume', 2, 'completed', ['2:completed']],
    ]);
    expect(audit.runs[0]!.iterations[1]!.endReason).toBe('an operator ended it');
    // Run 1, started without the CLI, is recorded by the workflow's registration with its first Temporal run.
    expect(audit.runs[0]!.temporalRunId).toBe(handle.firstExecutionRunId);
    expect(audit.runs[0]!.endReason).toMatch(new RegExp(`^iteration 2 of campaign ${id} failed`));
    // The resumed iteration 2 started from iteration 1's next policy.
    const [it1] = await query<{ next_policy: unknown }>('select next_policy from campaign_iterations where campaign_id = $1 and iteration = 1', [id]);
    const [it2] = await query<{ policy: unknown }>('select policy from campaign_iterations where campaign_id = $1 and iteration = 2', [`${id}~2`]);
    expect(it2!.policy).toEqual(it1!.next_policy);

    // status, audit and report agree: completed, run 2.
    const status = await run(['campaign', 'status', id]);
    expect(status.stdout.trim()).toMatch(new RegExp(`^${id} \\(ilf\\): completed; reached iteration 2/2; ended \\S+; run 2$`));
    const text = await run(['audit', id]);
    expect(text.stdout).toContain(`campaign     ${id}~2 (ilf), completed; started`);
    expect(text.stdout).toContain(`run 1        new, from iteration 1, iterations 1-2: failed: iteration 2 of campaign ${id} failed`);
    expect(text.stdout).toContain(`             iteration 2: terminated: an operator ended it (started `);
    expect(text.stdout).toContain('run 2        resume, from iteration 2, iteration 2: completed; started ');
    const report = await run(['report', id]);
    expect(report.code, report.stderr).toBe(0);
    const page = fs.readFileSync(report.stdout.trim().replace(/^wrote /, ''), 'utf8');
    expect(page).toContain(`<h1>Campaign <code>${id}~2</code></h1><div>ilf · completed · 1 iteration(s) recorded · run 2 of 2</div>`);
    expect(page).toContain(`<h2>Runs of ${id}</h2>`);
    expect(page).toContain('terminated: an operator ended it');

    // stop on the ended campaign says how it ended, and which run.
    const stop = await run(['campaign', 'stop', id]);
    expect(stop.code).toBe(1);
    expect(stop.stderr.trim()).toBe(`${id}: stop rejected: the campaign has ended: ${status.stdout.trim()}`);
    console.log(`resume audit:\n${text.stdout.split('\n').slice(0, 10).join('\n')}`);
  });

  it('--resume on a completed campaign with `iterations` raised runs on from the next iteration; another loop\'s config is refused', async () => {
    const id = campaignId('more');
    expect(await startCli(['--config', configFile('more-1', { iterations: 1 }), '--id', id])).toContain(`started ilf campaign ${id}`);
    await finished(id);
    const rlcf = path.join(dir, 'rlcf.yaml');
    // The example's trainer script by its absolute path: the file is read from another folder.
    const example = fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'rlcf-dry-run.yaml'), 'utf8').replaceAll('trainers/simulated/trainer.mjs', path.join(PROJECT_ROOT, 'trainers/simulated/trainer.mjs'));
    fs.writeFileSync(rlcf, stringify({ ...(parse(example) as object), taskQueues: ctx.queues }));
    expect(await refused(['--config', rlcf, '--id', id, '--resume'])).toBe(
      `feedloop: campaign "${id}" runs the ilf loop and ${rlcf} is rlcf: --resume runs the stored campaign's loop (start a fresh campaign with a new --id)`,
    );

    const line = await startCli(['--config', configFile('more-2', { iterations: 2 }), '--id', id, '--resume']);
    expect(line).toMatch(new RegExp(`^resumed ilf campaign ${id} as run 2, from iteration 2 of 2; iteration\\(s\\) 1 \\(run 1\\) kept \\(temporal run [0-9a-f-]+\\)$`));
    await finished(id);
    const audit = await auditJson(id);
    expect(audit.runs.map((r) => [r.run, r.startedHow, r.status, r.iterations.map((i) => `${i.iteration}:${i.status}`)])).toEqual([
      [1, 'new', 'completed', ['1:completed']],
      [2, 'resume', 'completed', ['2:completed']],
    ]);
    // The resumed run trained from iteration 1's policy, and its config is the one given.
    const [it1] = await query<{ next_policy: unknown }>('select next_policy from campaign_iterations where campaign_id = $1 and iteration = 1', [id]);
    const [it2] = await query<{ policy: unknown }>('select policy from campaign_iterations where campaign_id = $1 and iteration = 2', [`${id}~2`]);
    expect(it2!.policy).toEqual(it1!.next_policy);
    const [c2] = await query<{ iterations: number; workflow_id: string }>(`select (config->>'iterations')::int as iterations, workflow_id from campaigns where id = $1`, [`${id}~2`]);
    expect(c2).toEqual({ iterations: 2, workflow_id: id });
  });

  it('(4) --resume on a running campaign and on an unknown id: one line, exit 2', async () => {
    const id = campaignId('busy');
    const handle = await ctx.client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config: small() }] });
    await waitRunning(`${id}/iteration-1`);
    await handle.executeUpdate(pauseCampaignUpdate);
    const file = configFile('busy');
    for (const flag of ['--resume', '--new-run']) {
      expect(await refused(['--config', file, '--id', id, flag])).toBe(`feedloop: campaign "${id}" is already running: follow it with \`npx feedloop campaign status ${id}\`, or start another with a new --id`);
    }
    await handle.terminate();
    const unknown = campaignId('never');
    expect(await refused(['--config', file, '--id', unknown, '--resume'])).toBe(`feedloop: campaign "${unknown}" never ran: there is nothing to resume; start it without --resume`);
    expect(await refused(['--config', file, '--id', `${unknown}~2`])).toBe(`feedloop: --id "${unknown}~2": a campaign id cannot contain "~" (it names a campaign's later runs, e.g. ${unknown}~2)`);
  });
});
