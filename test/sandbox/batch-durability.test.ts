import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadMbpp, mbppTests } from '../../activities/datasets/mbpp';
import { createSandboxActivities, type RunTestsBatchOutput } from '../../activities/sandbox/run-tests-batch';
import { createSandboxRunner } from '../../activities/sandbox/sandbox-runner';
import { resolveLimits, type Outcome } from '../../activities/sandbox/types';
import { migrate } from '../../infra/migrate';
import { createPool } from '../../infra/pool';
import { createBatch, type NewBatchItem } from '../../activities/store/sandbox-batches';
import type { SandboxBatchInput } from './fixtures/batch-workflow';
import { tempDir } from '../helpers/temp-dir';

/**
 * The batch activity on a real Temporal server: injected infrastructure failures are retried
 * and change no outcome; a worker killed midway is resumed by another without redoing stored work.
 */
let pool: pg.Pool;
let client: Client;
let connection: Connection;
let bundle: WorkflowBundle;

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* installed by another test in this process */
  }
  pool = createPool(inject('databaseUrl'));
  await migrate(pool);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  bundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'fixtures', 'batch-workflow.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
});

afterAll(async () => {
  await connection?.close();
  await pool?.end();
});

/** Runs `body` while a workflow worker (and optionally a CPU worker) polls the given queues. */
async function withWorkers<T>(workers: Worker[], body: () => Promise<T>): Promise<T> {
  const runs = workers.map((w) => w.run());
  try {
    return await body();
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(runs);
  }
}

async function workflowWorker(nativeConnection: NativeConnection, taskQueue: string): Promise<Worker> {
  return Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: bundle });
}

async function storedOutcomes(batchId: string): Promise<Map<number, Outcome>> {
  const { rows } = await pool.query<{ idx: number; outcome: Outcome }>('select idx, outcome from sandbox_results where batch_id = $1', [batchId]);
  return new Map(rows.map((r) => [r.idx, r.outcome]));
}

/** A batch with every kind of verdict: passes, failures, runtime and compile errors, timeouts. */
function mixedItems(): NewBatchItem[] {
  const tasks = loadMbpp().slice(10, 50);
  const items: NewBatchItem[] = tasks.map((t, i) => ({
    taskId: String(t.taskId),
    language: 'python',
    program: i % 5 === 1 ? t.code.replace(/return /, 'return 1 + ') : t.code,
    tests: mbppTests(t),
  }));
  items.push(
    { taskId: 'syntax', language: 'python', program: 'def f(:\n  pass', tests: 'assert f() is None' },
    { taskId: 'raises', language: 'python', program: 'def f():\n    return {}[1]', tests: 'assert f() == 1' },
    { taskId: 'loops', language: 'python', program: 'while True:\n    pass', tests: '', limits: { cpuMs: 300, wallMs: 3000 } },
    { taskId: 'exits', language: 'python', program: 'import os\nos._exit(0)', tests: 'assert False' },
  );
  return items;
}

describe('sandbox batches on Temporal', () => {
  it('completes a batch under injected infrastructure failures with the outcomes of a clean run', async () => {
    const items = mixedItems();
    const clean = createSandboxRunner({ size: 2 });
    const expected = await Promise.all(items.map(async (item) => (await clean.run(item, resolveLimits(item.limits))).outcome));
    await clean.close();
    expect(new Set(expected)).toEqual(new Set(['passed', 'failed', 'runtime_error', 'compile_error', 'timeout']));

    const batchId = `flaky-${randomUUID()}`;
    await createBatch(pool, batchId, 'test', items);
    const queue = `sandbox-flaky-${randomUUID().slice(0, 8)}`;
    // 30% of spawns fail (seeded); no immediate re-runs, so Temporal's retries must do the work.
    const flaky = createSandboxRunner({ size: 2, faults: { rate: 0.3, seed: 42 } });
    const nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    try {
      const cpu = await Worker.create({
        connection: nativeConnection,
        taskQueue: `${queue}-cpu`,
        activities: createSandboxActivities({ pool, runner: flaky, concurrency: 2, infraRetries: 0 }),
      });
      const out = await withWorkers([await workflowWorker(nativeConnection, queue), cpu], () =>
        client.workflow.execute('sandboxBatchWorkflow', {
          taskQueue: queue,
          workflowId: `flaky-${batchId}`,
          args: [{ batchId, cpuQueue: `${queue}-cpu`, heartbeatTimeoutMs: 10_000 } satisfies SandboxBatchInput],
        }),
      ) as RunTestsBatchOutput;
      expect(out.attempt).toBeGreaterThan(1);
      expect(flaky.stats().serverFailures).toBeGreaterThan(0);
      const stored = await storedOutcomes(batchId);
      expect(stored.size).toBe(items.length);
      expect(items.map((_, i) => stored.get(i))).toEqual(expected);
      expect([...stored.values()]).not.toContain('infra_error');
    } finally {
      await flaky.close();
      await nativeConnection.close();
    }
  });

  it('resumes a batch whose worker was killed midway, re-running only the programs in flight', async () => {
    const items: NewBatchItem[] = loadMbpp()
      .slice(0, 40)
      .map((t) => ({ taskId: String(t.taskId), language: 'python', program: `import time\ntime.sleep(0.1)\n${t.code}`, tests: mbppTests(t) }));
    const batchId = `killed-${randomUUID()}`;
    await createBatch(pool, batchId, 'test', items);
    const queue = `sandbox-kill-${randomUUID().slice(0, 8)}`;
    const logs = tempDir('kill-test');
    const nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    try {
      const out = await withWorkers([await workflowWorker(nativeConnection, queue)], async () => {
        const handle = await client.workflow.start('sandboxBatchWorkflow', {
          taskQueue: queue,
          workflowId: `killed-${batchId}`,
          args: [{ batchId, cpuQueue: `${queue}-cpu`, heartbeatTimeoutMs: 2000 } satisfies SandboxBatchInput],
        });
        const first = await startWorkerProcess(`${queue}-cpu`, path.join(logs, 'first.log'));
        await waitFor(async () => (await storedOutcomes(batchId)).size >= 12, 60_000);
        const sandboxProcesses = descendants(first.pid!);
        expect(sandboxProcesses.length).toBeGreaterThan(0);
        await killAndWait(first);
        const storedAtKill = new Set((await storedOutcomes(batchId)).keys());
        // The dead worker's fork-servers and programs go with it.
        await waitFor(async () => sandboxProcesses.every((pid) => !fs.existsSync(`/proc/${pid}`)), 10_000);

        const second = await startWorkerProcess(`${queue}-cpu`, path.join(logs, 'second.log'));
        try {
          const result = (await handle.result()) as RunTestsBatchOutput;
          const startedFirst = readStarted(path.join(logs, 'first.log'));
          const startedSecond = readStarted(path.join(logs, 'second.log'));
          const missingAtKill = items.map((_, i) => i).filter((i) => !storedAtKill.has(i));
          // Nothing stored is ever run again; everything missing is run once more.
          expect([...startedSecond].sort((a, b) => a - b)).toEqual(missingAtKill);
          // What the first worker started but had not stored when it died: the programs in flight
          // (2 at once) and results queued for the database.
          const inFlight = [...startedFirst].filter((i) => !storedAtKill.has(i));
          expect(inFlight.length).toBeLessThanOrEqual(4);
          const rerun = [...startedSecond].filter((i) => startedFirst.has(i));
          expect(rerun.sort()).toEqual(inFlight.sort());
          return result;
        } finally {
          await killAndWait(second);
        }
      });
      expect(out).toMatchObject({ total: 40, outcomes: { passed: 40 } });
      expect(out.attempt).toBeGreaterThanOrEqual(2);
      expect(out.resumedFrom).toBeGreaterThanOrEqual(12);
    } finally {
      await nativeConnection.close();
      fs.rmSync(logs, { recursive: true, force: true });
    }
  });
});

function readStarted(file: string): Set<number> {
  if (!fs.existsSync(file)) return new Set();
  return new Set(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number),
  );
}

async function startWorkerProcess(taskQueue: string, startedLog: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'sandbox-worker.ts')], {
    env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: inject('temporalAddress'), TEST_DATABASE_URL: inject('databaseUrl'), TASK_QUEUE: taskQueue, STARTED_LOG: startedLog },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
  return child;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** All processes below `pid` (the worker's unshare wrappers, fork-servers and programs). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = Number(fs.readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
