import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { EvalSplit, PolicySpec } from '../../common/evaluation';
import { codeDataset, programSpec } from '../datasets/registry';
import { createEvalRun, listGenerationsPage } from './eval-runs';
import { createBatch } from './sandbox-batches';
import type { SandboxLimits } from '../sandbox/types';
import type { StepPlacement } from '../../common/task-queues';

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
      await deps.pool.query(`update eval_runs set placement = coalesce(placement, '{}'::jsonb) || jsonb_build_object($2::text, $3::jsonb) where id = $1`, [
        input.evalRunId,
        input.placement.step,
        JSON.stringify(input.placement),
      ]);
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
