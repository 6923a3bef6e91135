import type pg from 'pg';
import type { EvaluationSummary, EvalSplit, PolicySpec } from '../../common/evaluation';
import { passAtK, type TaskSampleCounts } from '../../common/pass-at-k';
import type { Outcome } from '../sandbox/types';
import { finishEvalRun } from '../store/eval-runs';
import { batchIdsOf, type BatchRef } from '../../common/sandbox-batches';

/**
 * Scores an evaluation run from the stored sandbox results. Infrastructure errors are never
 * scored: they are excluded from n rather than counted as failures.
 */
export function createEvaluationMetricsActivities(deps: { pool: pg.Pool }) {
  return {
    async summarizeEvalRun(input: {
      evalRunId: string;
      dataset: string;
      split: EvalSplit;
      policy: PolicySpec;
      ks: number[];
      /** the run's batches: by reference, or (histories before the reference) their ids */
      batches?: BatchRef;
      batchIds?: string[];
    }): Promise<EvaluationSummary> {
      const batchIds = input.batches ? batchIdsOf(input.batches) : (input.batchIds ?? []);
      const perTask = await deps.pool.query<{ task_id: string; samples: string; n: string; c: string }>(
        `select i.task_id,
                count(*) as samples,
                count(*) filter (where r.outcome <> 'infra_error') as n,
                count(*) filter (where r.outcome = 'passed') as c
         from sandbox_items i join sandbox_results r on r.batch_id = i.batch_id and r.idx = i.idx
         where i.batch_id = any($1)
         group by i.task_id
         -- A canonical order: the mean is then summed the same way however the results came in.
         order by i.task_id`,
        [batchIds],
      );
      const outcomeRows = await deps.pool.query<{ outcome: Outcome; n: string }>(
        `select outcome, count(*) as n from sandbox_results where batch_id = any($1) group by outcome order by outcome`,
        [batchIds],
      );
      const counts: TaskSampleCounts[] = perTask.rows.filter((r) => Number(r.n) > 0).map((r) => ({ n: Number(r.n), c: Number(r.c) }));
      const passAtKByK: Record<string, number> = {};
      for (const k of input.ks) if (counts.length > 0) passAtKByK[String(k)] = passAtK(counts, k);
      const summary: EvaluationSummary = {
        evalRunId: input.evalRunId,
        dataset: input.dataset,
        split: input.split,
        policy: input.policy,
        tasks: perTask.rows.length,
        samples: perTask.rows.reduce((a, r) => a + Number(r.samples), 0),
        scored: counts.reduce((a, t) => a + t.n, 0),
        outcomes: Object.fromEntries(outcomeRows.rows.map((r) => [r.outcome, Number(r.n)])),
        passAtK: passAtKByK,
      };
      await finishEvalRun(deps.pool, input.evalRunId, summary);
      return summary;
    },
  };
}
