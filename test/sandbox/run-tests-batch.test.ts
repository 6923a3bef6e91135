import { randomUUID } from 'node:crypto';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Info } from '@temporalio/activity';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadMbpp, mbppTests } from '../../activities/datasets/mbpp';
import { createSandboxActivities, SANDBOX_INFRA_ERROR, type BatchProgress, type RunTestsBatchOutput } from '../../activities/sandbox/run-tests-batch';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS, type BatchItem, type ProgramSpec, type RunOptions, type RunResult, type SandboxLimits, type SandboxRunner } from '../../activities/sandbox/types';
import { migrate } from '../../infra/migrate';
import { createPool } from '../../infra/pool';
import { createBatch, type NewBatchItem } from '../../activities/store/sandbox-batches';
import { saveRunResults } from '../../activities/store/sandbox-results';

/** The sandbox activity against a real PostgreSQL, driven through Temporal's activity test environment. */
let pool: pg.Pool;
let runner: SandboxPoolRunner;

beforeAll(async () => {
  pool = createPool(inject('databaseUrl'));
  await migrate(pool);
  runner = createSandboxRunner({ size: 2 });
  await runner.warmUp();
});

afterAll(async () => {
  await runner.close();
  await pool.end();
});

/** The activity test environment, logging only errors (expected activity failures stay quiet). */
function mockEnv(info: Partial<Info> = {}): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
}

/** Wraps a runner to record which items it was asked to run, and to fail chosen ones as infrastructure. */
function recording(inner: SandboxPoolRunner, failAsInfra: (idx: number) => boolean = () => false) {
  const ran: number[] = [];
  const wrapped: SandboxRunner = {
    async run(spec: ProgramSpec, limits: SandboxLimits, options?: RunOptions): Promise<RunResult> {
      const idx = (spec as BatchItem).idx;
      ran.push(idx);
      if (failAsInfra(idx)) return { outcome: 'infra_error', durationMs: 0, stdout: '', stderr: '', limits, detail: 'injected' };
      return inner.run(spec, limits, options);
    },
    close: () => inner.close(),
    describe: () => inner.describe(),
  };
  return { runner: wrapped, ran };
}

function mbppItems(n: number, mutate = (i: number) => i % 4 === 3): NewBatchItem[] {
  return loadMbpp()
    .slice(0, n)
    .map((t, i) => ({ taskId: String(t.taskId), language: 'python', program: mutate(i) ? `${t.code}\n\ndef _broken():\n    pass\nassert False` : t.code, tests: mbppTests(t) }));
}

async function storedResults(batchId: string) {
  const { rows } = await pool.query<{ idx: number; outcome: string; attempt: number; evidence: Record<string, unknown> }>(
    'select idx, outcome, attempt, evidence from sandbox_results where batch_id = $1 order by idx',
    [batchId],
  );
  return rows;
}

describe('runTestsBatch', () => {
  it('runs a stored batch, stores one outcome per item with evidence, and records the host', async () => {
    const batchId = `batch-${randomUUID()}`;
    await createBatch(pool, batchId, 'test', mbppItems(12));
    const env = mockEnv();
    const beats: BatchProgress[] = [];
    env.on('heartbeat', (d: BatchProgress) => beats.push(d));
    const out = await env.run(createSandboxActivities({ pool, runner, concurrency: 2 }).runTestsBatch, { batchId });
    expect(out).toMatchObject({ batchId, total: 12, outcomes: { passed: 9, runtime_error: 3 }, resumedFrom: 0, ran: 12, attempt: 1 });
    const rows = await storedResults(batchId);
    expect(rows.map((r) => r.outcome)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 4 === 3 ? 'runtime_error' : 'passed')));
    expect(rows[3]!.evidence).toMatchObject({ detail: expect.stringContaining('AssertionError at program.py') as unknown, limits: { cpuMs: 10_000 } });
    expect(beats.at(-1)).toMatchObject({ stored: 12, total: 12, inFlight: [] });
    expect(Math.max(...beats.map((b) => b.inFlight.length))).toBeLessThanOrEqual(2);
    const { rows: batches } = await pool.query<{ status: string; host: Record<string, unknown> }>('select status, host from sandbox_batches where id = $1', [batchId]);
    expect(batches[0]!.status).toBe('completed');
    expect(batches[0]!.host).toMatchObject({ cpuModel: expect.any(String) as unknown, loadavgAtStart: expect.any(Array) as unknown, sandbox: { runner: 'fork-server', mode: 'root' } });
  });

  it('on retry resumes from the stored results and heartbeat details, re-running none of them', async () => {
    const batchId = `batch-${randomUUID()}`;
    await createBatch(pool, batchId, 'test', mbppItems(10));
    // Attempt 1 stored items 0..5 before its worker died; a marker shows they are never redone.
    const limits = DEFAULT_LIMITS;
    await saveRunResults(
      pool,
      batchId,
      [0, 1, 2, 3, 4, 5].map((idx) => ({ idx, attempt: 1, result: { outcome: 'passed' as const, durationMs: 1, stdout: '', stderr: '', limits, detail: 'attempt 1' } })),
    );
    const { runner: counting, ran } = recording(runner);
    const env = mockEnv({ attempt: 2, heartbeatDetails: { attempt: 1, stored: 6, total: 10, inFlight: [6, 7] } satisfies BatchProgress });
    const out = await env.run(createSandboxActivities({ pool, runner: counting, concurrency: 2 }).runTestsBatch, { batchId });
    expect(ran.sort((a, b) => a - b)).toEqual([6, 7, 8, 9]);
    expect(out).toMatchObject({ total: 10, resumedFrom: 6, ran: 4, attempt: 2 });
    const rows = await storedResults(batchId);
    expect(rows.slice(0, 6).every((r) => r.attempt === 1 && r.evidence.detail === 'attempt 1')).toBe(true);
    expect(rows.slice(6).map((r) => r.attempt)).toEqual([2, 2, 2, 2]);
  });

  it('never stores infra_error: it fails retryably after the others, and the retry runs only those', async () => {
    const batchId = `batch-${randomUUID()}`;
    await createBatch(pool, batchId, 'test', mbppItems(8));
    const { runner: flaky, ran } = recording(runner, (idx) => idx === 2 || idx === 5);
    const first = mockEnv();
    const err = await first.run(createSandboxActivities({ pool, runner: flaky, concurrency: 2, infraRetries: 2 }).runTestsBatch, { batchId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(SANDBOX_INFRA_ERROR);
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
    expect(ran.filter((i) => i === 2)).toHaveLength(3); // first try + 2 immediate re-runs
    expect((await storedResults(batchId)).map((r) => r.idx)).toEqual([0, 1, 3, 4, 6, 7]);
    const { runner: healthy, ran: ranOnRetry } = recording(runner);
    const retry = mockEnv({ attempt: 2 });
    const out: RunTestsBatchOutput = await retry.run(createSandboxActivities({ pool, runner: healthy, concurrency: 2 }).runTestsBatch, { batchId });
    expect(ranOnRetry.sort()).toEqual([2, 5]);
    expect(out.outcomes.infra_error).toBeUndefined();
    expect((await storedResults(batchId)).map((r) => r.outcome)).not.toContain('infra_error');
  });

  it('honours cancellation: kills the programs in flight at once and keeps what finished', async () => {
    const batchId = `batch-${randomUUID()}`;
    const items: NewBatchItem[] = [
      { taskId: 'quick-0', language: 'python', program: 'x = 1', tests: 'assert x == 1' },
      { taskId: 'quick-1', language: 'python', program: 'x = 1', tests: 'assert x == 1' },
      ...Array.from({ length: 6 }, (_, i) => ({ taskId: `sleepy-${i}`, language: 'python' as const, program: 'import time\ntime.sleep(30)', tests: '' })),
    ];
    await createBatch(pool, batchId, 'test', items);
    const env = mockEnv();
    const started = performance.now();
    const running = env.run(createSandboxActivities({ pool, runner, concurrency: 2, heartbeatIntervalMs: 100 }).runTestsBatch, { batchId });
    setTimeout(() => env.cancel(), 800);
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(performance.now() - started).toBeLessThan(5000);
    expect((await storedResults(batchId)).map((r) => r.idx)).toEqual([0, 1]);
    // The killed fork-servers are replaced on the next run.
    const after = await runner.run({ language: 'python', program: 'x = 2', tests: 'assert x == 2' }, DEFAULT_LIMITS);
    expect(after.outcome).toBe('passed');
  });
});
