import fs from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createGpuActivities } from '../../workers/gpu-activities';
import { ModelBackendCache } from '../../activities/models/index';
import type { WorkerRef } from '../../activities/worker-deps';
import { tempDir } from './temp-dir';

/**
 * A GPU worker on the shared GPU queue that reports the models it trains on
 * `<gpu>@preempted-host`, a queue no worker polls, as a host preempted for good right after
 * training would leave them: work sent there must fall back to the shared queue, run by `survivor`.
 */
export function preemptedGpuHost(name: string, gpuQueue: () => string, survivor: WorkerRef): { pool: () => pg.Pool; goneQueue: () => string } {
  let pool: pg.Pool | undefined;
  let gpu: { worker: Worker; running: Promise<void>; connection: NativeConnection; models: ModelBackendCache; blobDir: string } | undefined;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const models = new ModelBackendCache();
    const blobDir = tempDir(name);
    const worker = await Worker.create({
      connection,
      taskQueue: gpuQueue(),
      activities: createGpuActivities({ pool, blobDir, hostTaskQueue: `${gpuQueue()}@preempted-host`, models, worker: survivor }),
      maxConcurrentActivityTaskExecutions: 1,
    });
    gpu = { worker, running: worker.run(), connection, models, blobDir };
  });
  afterAll(async () => {
    if (gpu) {
      gpu.worker.shutdown();
      await gpu.running;
      await gpu.models.closeAll();
      await gpu.connection.close();
      fs.rmSync(gpu.blobDir, { recursive: true, force: true });
    }
    await pool?.end();
  });
  return { pool: () => pool!, goneQueue: () => `${gpuQueue()}@preempted-host` };
}
