import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import os from 'node:os';
import type pg from 'pg';
import { countOutcomes, finishBatch, loadBatchItems } from '../store/sandbox-batches';
import { storedResultIndexes } from '../store/sandbox-results';
import { ResultWriter } from './result-writer';
import { runMany } from '../../common/run-many';
import { resolveLimits, type BatchItem, type Outcome, type RunResult, type SandboxRunner } from './types';

export interface RunTestsBatchInput {
  batchId: string;
}

export interface RunTestsBatchOutput {
  batchId: string;
  total: number;
  outcomes: Partial<Record<Outcome, number>>;
  /** this activity attempt */
  attempt: number;
  /** results already stored when this attempt started: what it resumed from */
  resumedFrom: number;
  /** programs this attempt ran */
  ran: number;
}

/** Heartbeat details: on retry, the next attempt reads them back (activityInfo().heartbeatDetails). */
export interface BatchProgress {
  attempt: number;
  /** results durably stored */
  stored: number;
  total: number;
  /** items running when the heartbeat was sent: at most these are re-run after a crash */
  inFlight: number[];
}

export interface SandboxActivityDeps {
  pool: pg.Pool;
  runner: SandboxRunner;
  /** programs run at once by one activity */
  concurrency: number;
  /** immediate re-runs of a program that hit an infra_error before leaving it to Temporal's retry */
  infraRetries?: number;
  heartbeatIntervalMs?: number;
}

export const SANDBOX_INFRA_ERROR = 'SandboxInfraError';

/**
 * Sandbox activities. `runTestsBatch` reads a stored batch, runs the programs that have no
 * stored result yet (so a retry resumes instead of re-running), and stores each outcome as it
 * comes. infra_error is never stored: such programs are re-run at once a few times, and if
 * the sandbox keeps failing the activity fails retryably after finishing the others, so the
 * next attempt runs only what is missing. Cancellation kills the programs in flight.
 */
export function createSandboxActivities(deps: SandboxActivityDeps) {
  const infraRetries = deps.infraRetries ?? 2;
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 5_000;

  async function runWithInfraRetries(item: BatchItem, signal: AbortSignal): Promise<RunResult> {
    const limits = resolveLimits(item.limits);
    let result = await deps.runner.run(item, limits, { signal });
    for (let retry = 1; retry <= infraRetries && result.outcome === 'infra_error'; retry++) {
      await new Promise((resolve) => setTimeout(resolve, 50 * 4 ** (retry - 1)));
      signal.throwIfAborted();
      result = await deps.runner.run(item, limits, { signal });
    }
    return result;
  }

  return {
    async runTestsBatch({ batchId }: RunTestsBatchInput): Promise<RunTestsBatchOutput> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const signal = ctx.cancellationSignal;
      const previous = ctx.info.heartbeatDetails as BatchProgress | undefined;
      const pending = await loadBatchItems(deps.pool, batchId, { pendingOnly: true });
      const resumedFrom = (await storedResultIndexes(deps.pool, batchId)).length;
      const total = resumedFrom + pending.length;
      if (previous) {
        ctx.log.info('resuming sandbox batch', { batchId, attempt, storedBefore: previous.stored, stored: resumedFrom, rerun: previous.inFlight.length });
      }
      const loadAtStart = os.loadavg();
      const writer = new ResultWriter(deps.pool, batchId);
      const inFlight = new Set<number>();
      const infraFailures: { idx: number; detail: string }[] = [];
      const heartbeat = () => ctx.heartbeat({ attempt, stored: resumedFrom + writer.saved, total, inFlight: [...inFlight] } satisfies BatchProgress);
      heartbeat();
      const timer = setInterval(heartbeat, heartbeatIntervalMs);
      try {
        await runMany(
          pending,
          deps.concurrency,
          async (item) => {
            inFlight.add(item.idx);
            const result = await runWithInfraRetries(item, signal);
            inFlight.delete(item.idx);
            if (result.outcome === 'infra_error') infraFailures.push({ idx: item.idx, detail: result.detail ?? '' });
            else writer.add({ idx: item.idx, result, attempt });
            heartbeat();
          },
          signal,
        );
        await writer.flush();
      } catch (err) {
        // Whatever finished is kept: the next attempt (or a re-run after cancellation) skips it.
        await writer.flush().catch(() => undefined);
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledFailure('sandbox batch cancelled');
        throw err;
      } finally {
        clearInterval(timer);
      }
      heartbeat();
      if (infraFailures.length > 0) {
        throw ApplicationFailure.retryable(
          `${infraFailures.length} of ${pending.length} programs hit sandbox infrastructure errors (not scored); the retry runs only those`,
          SANDBOX_INFRA_ERROR,
          infraFailures.slice(0, 5),
        );
      }
      await finishBatch(deps.pool, batchId, {
        hostname: os.hostname(),
        cpuModel: os.cpus()[0]?.model,
        cpus: os.availableParallelism(),
        loadavgAtStart: loadAtStart,
        loadavgAtEnd: os.loadavg(),
        attempt,
        sandbox: deps.runner.describe?.() ?? { runner: 'unknown' },
      });
      const outcomes = await countOutcomes(deps.pool, batchId);
      return { batchId, total, outcomes, attempt, resumedFrom, ran: pending.length };
    },
  };
}
