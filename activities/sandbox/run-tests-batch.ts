import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { finishBatch, loadBatchItems, saveResults, countOutcomes } from '../store/sandbox-batches';
import { DEFAULT_LIMITS, type Outcome, type SandboxRunner } from './types';
import os from 'node:os';

export interface RunTestsBatchInput {
  batchId: string;
}

export interface RunTestsBatchOutput {
  batchId: string;
  total: number;
  outcomes: Partial<Record<Outcome, number>>;
}

export interface SandboxActivityDeps {
  pool: pg.Pool;
  runner: SandboxRunner;
  /** programs run at once by one activity */
  concurrency: number;
}

/**
 * Sandbox activities. `runTestsBatch` reads a stored batch, runs the programs that have no
 * stored result yet (so a retry resumes instead of re-running), and writes each outcome.
 */
export function createSandboxActivities(deps: SandboxActivityDeps) {
  return {
    async runTestsBatch({ batchId }: RunTestsBatchInput): Promise<RunTestsBatchOutput> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const pending = await loadBatchItems(deps.pool, batchId, { pendingOnly: true });
      let next = 0;
      let done = 0;
      const worker = async () => {
        while (next < pending.length) {
          ctx.cancellationSignal.throwIfAborted();
          const item = pending[next++]!;
          const limits = { ...DEFAULT_LIMITS, ...item.limits };
          const result = await deps.runner.run(item, limits);
          await saveResults(deps.pool, batchId, [{ idx: item.idx, result, attempt }]);
          ctx.heartbeat({ done: ++done, pending: pending.length });
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, deps.concurrency) }, worker));
      await finishBatch(deps.pool, batchId, { hostname: os.hostname(), cpu: os.cpus()[0]?.model, loadavg: os.loadavg() });
      const outcomes = await countOutcomes(deps.pool, batchId);
      const total = Object.values(outcomes).reduce((a, b) => a + (b ?? 0), 0);
      return { batchId, total, outcomes };
    },
  };
}
