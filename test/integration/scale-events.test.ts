import { afterAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { evaluationWorkflow } from '../../workflows';
import type { EvaluationInput, EvaluationSummary } from '../../common/evaluation';
import { sandboxBatchesWorkflowId } from '../../workflows/sandbox-batches';
import { testBatchPrefix } from '../../common/sandbox-batches';
import { withWorkers } from '../helpers/temporal';
import { maybeRecordHistory } from '../helpers/history';
import { CLAIM_CHECK_LIMIT_BYTES, workflowTreeRuns, type RunFigures } from '../../bench/local-stack';

/**
 * The reduced form of `npm run bench:scale`: an evaluation's history holds ids and counts only,
 * and its sandbox batches run in a child workflow that continues as new every few batches, so
 * the evaluation's event count is the same for 10 and 100 tasks, each child run schedules at
 * most `batchesPerRun` batches, and no payload comes near the claim-check limit.
 */
const ctx = withWorkers('scale-events');
const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
afterAll(() => pool.end());

// SIMULATED policy: gold programs or mutants, a mix of outcomes.
const policy: EvaluationInput['policy'] = {
  backend: 'simulated',
  role: 'program',
  model: 'scale-events',
  seed: 3,
  trained: { steps: 0, examples: 0 },
  quality: { initial: 0.5, ceiling: 0.5, halfwayExamples: 1 },
};
const BATCH_SIZE = 10;
const BATCHES_PER_RUN = 4;
// Short timeouts: an activity cut off by the worker restart below is retried within seconds.
const timeouts = { store: '10s', cpuHeartbeat: '5s', gpuHeartbeat: '12s' };
const evaluation = (tasks: number): EvaluationInput => ({
  dataset: 'mbpp',
  split: 'all',
  maxTasks: tasks,
  policy,
  samplesPerTask: 2,
  ks: [1, 2],
  batchSize: BATCH_SIZE,
  batchesPerRun: BATCHES_PER_RUN,
  taskQueues: ctx.queues,
  timeouts,
});

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, n) => a + n, 0);
/** The child's runs (each holds only its own batches' events). */
const childRuns = (runs: RunFigures[], workflowId: string) => runs.filter((r) => r.workflowId === sandboxBatchesWorkflowId(testBatchPrefix(workflowId)));

const PARENT_FIXTURE = 'evaluation-sandbox-batches-child';
const summaries = new Map<number, EvaluationSummary>();

describe('evaluation at scale: history size', () => {
  it('has the same event count for 10 and 100 tasks; child runs stay bounded; no payload above the claim-check limit', { timeout: 90_000 }, async () => {
    const figures: Array<{ tasks: number; workflowId: string; runs: RunFigures[]; summary: EvaluationSummary }> = [];
    for (const tasks of [10, 100]) {
      // Recording replay fixtures, the 100-task run takes the fixture's name: replay runs it under that id.
      const workflowId = tasks === 100 && process.env.FEEDLOOP_RECORD_HISTORIES ? PARENT_FIXTURE : `scale-events-${tasks}-${randomUUID().slice(0, 8)}`;
      const summary = await ctx.client.workflow.execute(evaluationWorkflow, { args: [evaluation(tasks)], taskQueue: ctx.queues.workflow, workflowId });
      summaries.set(tasks, summary);
      figures.push({ tasks, workflowId, runs: await workflowTreeRuns(ctx.client, workflowId), summary });
      if (tasks === 100) {
        // Replay fixtures of the evaluation with its child, and of the child's last run (after four continue-as-new).
        await maybeRecordHistory(ctx.client, workflowId, PARENT_FIXTURE);
        await maybeRecordHistory(ctx.client, sandboxBatchesWorkflowId(testBatchPrefix(workflowId)), 'sandbox-batches-last-run');
      }
    }
    const [few, many] = figures as [(typeof figures)[0], (typeof figures)[0]];
    for (const f of figures) {
      const programs = f.tasks * 2;
      const batches = programs / BATCH_SIZE;
      // Every program was tested and scored once.
      expect(f.summary).toMatchObject({ tasks: f.tasks, samples: programs, scored: programs });
      expect(sum(f.summary.outcomes)).toBe(programs);
      const [own, ...others] = f.runs;
      // The evaluation itself: three activities and one child, whatever the number of programs.
      expect(own!.activities).toEqual({ createEvalRun: 1, generateSamples: 1, summarizeEvalRun: 1 });
      expect(own!.children).toHaveLength(1);
      // The child: ceil(batches / per run) runs, each running at most BATCHES_PER_RUN batches, all batches once.
      const child = childRuns(others, f.workflowId);
      expect(child).toHaveLength(others.length);
      expect(child).toHaveLength(Math.ceil(batches / BATCHES_PER_RUN));
      expect(child.map((r) => r.activities.runTestsBatch ?? 0)).toEqual(Array.from({ length: child.length }, (_, i) => Math.min(BATCHES_PER_RUN, batches - i * BATCHES_PER_RUN)));
      for (const r of child) expect(r.events, `${f.tasks} tasks, child run ${r.runId}`).toBeLessThan(120);
      for (const r of f.runs) expect(r.largestPayload, `${f.tasks} tasks, ${r.workflowId}`).toBeLessThan(CLAIM_CHECK_LIMIT_BYTES);
    }
    // Ten times the programs, ten times the batches: the same evaluation history, event for event.
    expect(many.runs[0]!.events).toBe(few.runs[0]!.events);
    expect(few.runs[0]!.events).toBeGreaterThan(0);
    // Payloads hold ids and counts: ten times the programs add no more than a few bytes.
    expect(many.runs[0]!.largestPayload - few.runs[0]!.largestPayload).toBeLessThan(64);
  });

  it('resumes after its workers stop mid-child without testing or counting a program twice', { timeout: 90_000 }, async () => {
    const workflowId = `scale-restart-${randomUUID().slice(0, 8)}`;
    const handle = await ctx.client.workflow.start(evaluationWorkflow, { args: [evaluation(100)], taskQueue: ctx.queues.workflow, workflowId });
    // Stop every worker once the child is past its first run and some results are stored.
    const prefix = testBatchPrefix(workflowId);
    for (;;) {
      const runs = await workflowTreeRuns(ctx.client, workflowId).catch(() => []);
      if (childRuns(runs, workflowId).length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const child = await ctx.client.workflow.getHandle(sandboxBatchesWorkflowId(prefix)).describe();
    await ctx.restartWorkers();
    // The restart came while the child was still testing (20 batches, 4 per run).
    expect(child.status.name).toBe('RUNNING');
    const summary = await handle.result();
    const { rows } = await pool.query<{ results: string; items: string }>(
      `select (select count(*) from sandbox_results where starts_with(batch_id, $1)) as results,
              (select count(*) from sandbox_items where starts_with(batch_id, $1)) as items`,
      [prefix],
    );
    expect(rows[0]).toEqual({ results: '200', items: '200' });
    // The same numbers as the undisturbed run of the same policy and seed above.
    expect({ ...summary, evalRunId: '' }).toEqual({ ...summaries.get(100), evalRunId: '' });
  });

  it('splits a run into batches page by page: every program once, in (task, sample) order', { timeout: 60_000 }, async () => {
    // 30 programs in batches of 10: an exact multiple, so the last page read is empty.
    const workflowId = `scale-pages-${randomUUID().slice(0, 8)}`;
    const summary = await ctx.client.workflow.execute(evaluationWorkflow, {
      args: [{ dataset: 'mbpp', split: 'all', maxTasks: 10, policy, samplesPerTask: 3, ks: [1], batchSize: 10, taskQueues: ctx.queues }],
      taskQueue: ctx.queues.workflow,
      workflowId,
    });
    expect(summary.samples).toBe(30);
    const { rows } = await pool.query<{ batch_id: string; generation_id: string; task_id: string; sample_index: number }>(
      `select i.batch_id, i.generation_id, g.task_id, g.sample_index from sandbox_items i join generations g on g.id = i.generation_id
       where starts_with(i.batch_id, $1) order by i.batch_id, i.idx`,
      [testBatchPrefix(workflowId)],
    );
    expect(new Set(rows.map((r) => r.batch_id))).toEqual(new Set([0, 1, 2].map((n) => `${workflowId}/tests-${n}`)));
    expect(new Set(rows.map((r) => r.generation_id)).size).toBe(30);
    const keys = rows.map((r) => `${r.task_id}\u0000${String(r.sample_index).padStart(4, '0')}`);
    expect(keys).toEqual([...keys].sort());
  });
});
