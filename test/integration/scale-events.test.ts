import { afterAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { evaluationWorkflow } from '../../workflows';
import type { EvaluationInput } from '../../common/evaluation';
import { withWorkers } from '../helpers/temporal';
import { CLAIM_CHECK_LIMIT_BYTES, largestPayload } from '../../bench/local-stack';

/**
 * The reduced form of `npm run bench:scale`: an evaluation's history holds ids and counts only,
 * so its event count does not grow with the number of tasks (while the programs fit one sandbox
 * batch) and no payload comes near the claim-check limit, however many programs it tested.
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

describe('evaluation at scale: history size', () => {
  it('has the same event count for 10 and 40 tasks, and no payload above the claim-check limit', { timeout: 60_000 }, async () => {
    const figures: Array<{ tasks: number; events: number; largest: number; samples: number; outcomes: number }> = [];
    for (const tasks of [10, 40]) {
      const workflowId = `scale-events-${tasks}-${randomUUID().slice(0, 8)}`;
      const summary = await ctx.client.workflow.execute(evaluationWorkflow, {
        args: [{ dataset: 'mbpp', split: 'all', maxTasks: tasks, policy, samplesPerTask: 2, ks: [1, 2], batchSize: 100, taskQueues: ctx.queues }],
        taskQueue: ctx.queues.workflow,
        workflowId,
      });
      const events = (await ctx.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      figures.push({
        tasks,
        events: events.length,
        largest: largestPayload(events),
        samples: summary.samples,
        outcomes: Object.values(summary.outcomes).reduce((a, n) => a + n, 0),
      });
    }
    const [few, many] = figures as [(typeof figures)[0], (typeof figures)[0]];
    // Every program was tested and scored: four times the programs went through the same history.
    expect(few).toMatchObject({ samples: 20, outcomes: 20 });
    expect(many).toMatchObject({ samples: 80, outcomes: 80 });
    expect(many.events).toBe(few.events);
    expect(few.events).toBeGreaterThan(0);
    for (const f of figures) expect(f.largest, `${f.tasks} tasks`).toBeLessThan(CLAIM_CHECK_LIMIT_BYTES);
    // Payloads hold ids and counts: four times the programs add no more than a few bytes.
    expect(many.largest - few.largest).toBeLessThan(64);
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
       where i.batch_id like $1 order by i.batch_id, i.idx`,
      [`${workflowId}/tests-%`],
    );
    expect(new Set(rows.map((r) => r.batch_id))).toEqual(new Set([0, 1, 2].map((n) => `${workflowId}/tests-${n}`)));
    expect(new Set(rows.map((r) => r.generation_id)).size).toBe(30);
    const keys = rows.map((r) => `${r.task_id}\u0000${String(r.sample_index).padStart(4, '0')}`);
    expect(keys).toEqual([...keys].sort());
  });
});
