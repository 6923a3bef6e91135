import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { EvalSplit, PolicySpec } from '../../common/evaluation';
import { codeDataset, programSpec } from '../datasets/registry';
import { createEvalRun, listGenerationsPage } from './eval-runs';
import { createBatch } from './sandbox-batches';
import type { SandboxLimits } from '../sandbox/types';
import type { PlacementIntent, StepPlacement } from '../../common/task-queues';
import type { WorkerRef } from '../worker-deps';

/**
 * Merges a step's placement into eval_runs.placement[step], field by field: the workflow records
 * why a step went where it did, the activity that ran it names its worker, in either order.
 */
export async function recordStepPlacement(pool: pg.Pool, evalRunId: string, placement: Partial<StepPlacement> & { step: string }): Promise<void> {
  await pool.query(
    `update eval_runs set placement = jsonb_set(coalesce(placement, '{}'::jsonb), array[$2::text], coalesce(placement -> $2::text, '{}'::jsonb) || $3::jsonb) where id = $1`,
    [evalRunId, placement.step, JSON.stringify(placement)],
  );
}

/**
 * What the activity of a host-routed step records once its work is done: the placement it was
 * sent with, and the worker that ran it (the one whose completion counts: a retry elsewhere overwrites).
 */
export async function recordRanBy(pool: pg.Pool, evalRunId: string, intent: PlacementIntent | undefined, worker: WorkerRef | undefined): Promise<void> {
  if (!intent || !worker) return;
  await recordStepPlacement(pool, evalRunId, { ...intent, taskQueue: Context.current().info.taskQueue, worker: worker.identity, host: worker.hostId });
}

/** Store activities of the evaluation workflow (CPU queue). All are idempotent. */
export function createEvaluationStoreActivities(deps: { pool: pg.Pool }) {
  return {
    async createEvalRun(input: {
      evalRunId: string;
      dataset: string;
      split: EvalSplit;
      policy: PolicySpec;
      samplesPerTask: number;
      ks: number[];
    }): Promise<void> {
      const info = Context.current().info;
      await createEvalRun(deps.pool, {
        id: input.evalRunId,
        workflowId: info.workflowExecution?.workflowId ?? '',
        runId: info.workflowExecution?.runId ?? '',
        dataset: input.dataset,
        split: input.split,
        policy: input.policy,
        samplesPerTask: input.samplesPerTask,
        ks: input.ks,
      });
    },

    /** Records where a step of the run ran and why (preferred host or fallback); idempotent. */
    async recordPlacement(input: { evalRunId: string; placement: StepPlacement }): Promise<void> {
      await recordStepPlacement(deps.pool, input.evalRunId, input.placement);
    },

    /**
     * Splits the run's generations into stored sandbox batches; returns their ids only. Reads
     * one batch of generations at a time, so memory stays bounded however large the run.
     */
    async prepareTestBatches(input: { evalRunId: string; batchSize: number; limits?: Partial<SandboxLimits> }): Promise<string[]> {
      const { rows } = await deps.pool.query<{ dataset: string }>('select dataset from eval_runs where id = $1', [input.evalRunId]);
      if (!rows[0]) throw new Error(`no eval run ${input.evalRunId}`);
      const dataset = codeDataset(rows[0].dataset);
      const tasks = new Map(dataset.tasks().map((t) => [t.taskId, t]));
      const batchIds: string[] = [];
      for (let gens = await listGenerationsPage(deps.pool, input.evalRunId, undefined, input.batchSize); gens.length > 0; ) {
        const batchId = `${input.evalRunId}/tests-${batchIds.length}`;
        const items = gens.map((g) => {
          const task = tasks.get(g.taskId);
          if (!task) throw new Error(`generation ${g.id} names unknown ${dataset.name} task ${g.taskId}`);
          return { taskId: g.taskId, generationId: g.id, ...programSpec(dataset, task, g.program), limits: input.limits };
        });
        await createBatch(deps.pool, batchId, input.evalRunId, items);
        batchIds.push(batchId);
        gens = gens.length < input.batchSize ? [] : await listGenerationsPage(deps.pool, input.evalRunId, gens[gens.length - 1], input.batchSize);
      }
      return batchIds;
    },
  };
}
