import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { EvalSplit, PolicySpec } from '../../common/evaluation';
import { codeDataset, programSpec } from '../datasets/registry';
import { createEvalRun, listGenerationsPage } from './eval-runs';
import { createBatch } from './sandbox-batches';
import type { SandboxLimits } from '../sandbox/types';
import type { PlacementIntent, StepPlacement } from '../../common/task-queues';
import { batchId, batchIdsOf, testBatchPrefix, type PrepareTestBatchPageInput, type PrepareTestBatchPageOutput } from '../../common/sandbox-batches';
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
      const page = await prepareTestBatchPage(deps.pool, { ...input, first: 0, maxBatches: Infinity });
      return batchIdsOf({ prefix: testBatchPrefix(input.evalRunId), count: page.batches });
    },

    /**
     * The next few batches of the run's generations, from where the last page stopped (the
     * sandbox-batches workflow makes them as it tests them). The same batches as
     * prepareTestBatches, and idempotent: a retry from the same place makes the same ids.
     */
    async prepareTestBatchPage(input: PrepareTestBatchPageInput): Promise<PrepareTestBatchPageOutput> {
      return prepareTestBatchPage(deps.pool, input);
    },
  };
}

/** Batches `first`, `first + 1`, ... of the run's generations after `after`, in (task, sample) order. */
async function prepareTestBatchPage(pool: pg.Pool, input: PrepareTestBatchPageInput): Promise<PrepareTestBatchPageOutput> {
  const { rows } = await pool.query<{ dataset: string }>('select dataset from eval_runs where id = $1', [input.evalRunId]);
  if (!rows[0]) throw new Error(`no eval run ${input.evalRunId}`);
  const dataset = codeDataset(rows[0].dataset);
  const tasks = new Map(dataset.tasks().map((t) => [t.taskId, t]));
  const prefix = testBatchPrefix(input.evalRunId);
  let after = input.after;
  let batches = 0;
  while (batches < input.maxBatches) {
    const gens = await listGenerationsPage(pool, input.evalRunId, after, input.batchSize);
    if (gens.length === 0) return { batches, after, done: true };
    const items = gens.map((g) => {
      const task = tasks.get(g.taskId);
      if (!task) throw new Error(`generation ${g.id} names unknown ${dataset.name} task ${g.taskId}`);
      // a dataset file's per-task limits (cpuMs, memoryMb, wallMs) over the run's
      return { taskId: g.taskId, generationId: g.id, ...programSpec(dataset, task, g.program), limits: task.limits ? { ...input.limits, ...task.limits } : input.limits };
    });
    await createBatch(pool, batchId(prefix, input.first + batches), input.evalRunId, items);
    batches += 1;
    const last = gens[gens.length - 1]!;
    after = { taskId: last.taskId, sampleIndex: last.sampleIndex };
    if (gens.length < input.batchSize) return { batches, after, done: true };
  }
  // A page that ends on the run's last generation says so: no run is left to find an empty page.
  const more = await listGenerationsPage(pool, input.evalRunId, after, 1);
  return { batches, after, done: more.length === 0 };
}
