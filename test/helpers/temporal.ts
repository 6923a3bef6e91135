import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { createLogger } from '../../infra/logger';
import { startWorkers, type RunningWorkers } from '../../workers/run-workers';
import type { WorkerRole } from '../../workers/options';
import { WORKFLOWS_PATH } from '../../infra/paths';
import { resolveWorkerOptions, type WorkerOptions } from '../../workers/options';

/** Per-test-file helpers: unique task queues on the suite's shared Temporal server. */
export function uniqueQueues(prefix: string) {
  const id = randomUUID().slice(0, 8);
  return { workflow: `${prefix}-wf-${id}`, cpu: `${prefix}-cpu-${id}`, gpu: `${prefix}-gpu-${id}` };
}

export function testWorkerOptions(queues: ReturnType<typeof uniqueQueues>, overrides: Partial<WorkerOptions> = {}): WorkerOptions {
  return resolveWorkerOptions({
    temporalAddress: inject('temporalAddress'),
    databaseUrl: inject('databaseUrl'),
    workflowQueue: queues.workflow,
    cpuQueue: queues.cpu,
    gpuQueue: queues.gpu,
    gpus: 1,
    shutdownGraceMs: 2000,
    ...overrides,
  });
}

export async function testClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  return { client: new Client({ connection }), close: () => connection.close() };
}

let bundle: Promise<WorkflowBundle> | undefined;
/** The workflow bundle, built once per test file (webpack takes a few seconds). */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  return bundle;
}

/**
 * Runs workers of every role for the test file on its own queues, and a client: registers
 * beforeAll/afterAll hooks, so call it at the top level of a test file.
 */
export function withWorkers(prefix: string, roles: readonly WorkerRole[] = ['workflow', 'cpu', 'gpu']) {
  let workers: RunningWorkers | undefined;
  let close: (() => Promise<void>) | undefined;
  const start = async () => {
    workers = ctx.workers = await startWorkers(roles, testWorkerOptions(ctx.queues), { workflowBundle: await workflowBundle(), log: createLogger('test', 'warn') });
  };
  const ctx = {
    queues: uniqueQueues(prefix),
    client: undefined as unknown as Client,
    workers: undefined as RunningWorkers | undefined,
    /** Stops the workers (in-flight activities are cut off, cached workflows dropped) and starts fresh ones. */
    async restartWorkers(): Promise<void> {
      workers?.shutdown();
      await workers?.done;
      await start();
    },
  };
  beforeAll(async () => {
    await start();
    ({ client: ctx.client, close } = await testClient());
  });
  afterAll(async () => {
    workers?.shutdown();
    await workers?.done;
    await close?.();
  });
  return ctx;
}
