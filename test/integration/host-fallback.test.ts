import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { evaluationWorkflow } from '../../workflows/evaluation';
import type { StepPlacement } from '../../common/task-queues';
import { formatPlacement } from '../../audit/core';
import { withWorkers } from '../helpers/temporal';

/**
 * A checkpoint's host that never comes back: evaluation work sent to its own queue
 * (`<gpu>@<host>`) waits there at most the host schedule-to-start timeout, then runs on the
 * shared GPU queue; the eval run records where generation ran and why.
 */
const ctx = withWorkers('fallback');
let pool: pg.Pool;
beforeAll(() => void (pool = new pg.Pool({ connectionString: inject('databaseUrl') })));
afterAll(async () => pool?.end());

async function evaluateOn(gpu: string) {
  const evalRunId = `fallback-${randomUUID()}`;
  const started = Date.now();
  const summary = await ctx.client.workflow.execute(evaluationWorkflow, {
    args: [
      {
        evalRunId,
        dataset: 'mbpp',
        split: 'test',
        maxTasks: 3,
        policy: { backend: 'simulated', model: 'fallback-test', role: 'program', seed: 1, quality: { initial: 0.5, ceiling: 0.9, halfwayExamples: 10 }, trained: { steps: 0, examples: 0 } },
        samplesPerTask: 1,
        ks: [1],
        batchSize: 10,
        timeouts: { store: '1m', cpuHeartbeat: '1m', gpuHeartbeat: '1m', hostScheduleToStart: '3s' },
        taskQueues: { ...ctx.queues, gpu, gpuFallback: ctx.queues.gpu },
      },
    ],
    taskQueue: ctx.queues.workflow,
    workflowId: evalRunId,
  });
  const { rows } = await pool.query<{ placement: Record<string, StepPlacement> }>('select placement from eval_runs where id = $1', [evalRunId]);
  return { summary, placement: rows[0]!.placement, ms: Date.now() - started };
}

describe('evaluation on a checkpoint host', () => {
  it('runs on the host when it is there, and falls back to any GPU host after the timeout when it is gone', async () => {
    // the test's GPU worker serves the shared queue and its own host queue (<gpu>@<hostname>)
    const live = ctx.workers!.workers.map((w) => w.options.taskQueue).find((q) => q.startsWith(`${ctx.queues.gpu}@`))!;
    const here = await evaluateOn(live);
    expect(here.summary.samples).toBe(3);
    // the record names the worker that ran the step, not only the queue
    const worker = `${process.pid}@${live.slice(`${ctx.queues.gpu}@`.length)}/gpu`;
    expect(here.placement.generate).toEqual({ step: 'generate', taskQueue: live, reason: 'preferred-host', worker, host: live.slice(`${ctx.queues.gpu}@`.length) });

    const gone = `${ctx.queues.gpu}@preempted-host`;
    const away = await evaluateOn(gone);
    expect(away.summary.samples).toBe(3);
    expect(away.summary.tasks).toBe(here.summary.tasks);
    expect(away.placement.generate).toEqual({ step: 'generate', taskQueue: ctx.queues.gpu, reason: 'fallback', preferred: gone, after: '3s', worker, host: here.placement.generate!.host });
    expect(away.ms).toBeGreaterThanOrEqual(3000);
    expect(formatPlacement(away.placement)).toBe(`generate on ${ctx.queues.gpu} by ${worker} (fallback: ${gone} took nothing for 3s)`);
    expect(formatPlacement(here.placement)).toBe(`generate on ${live} by ${worker} (the checkpoint's host)`);
  });
});
