import { NativeConnection, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import type pg from 'pg';
import { createCpuActivities } from './cpu-activities';
import { createGpuActivities } from './gpu-activities';
import { loadTrainerRegistry } from '../activities/training/trainer-registry';
import { CheckpointStore } from '../activities/training/checkpoint-store';
import { ModelBackendCache } from '../activities/models/index';
import { createSandboxRunner } from '../activities/sandbox/sandbox-runner';
import type { SandboxRunner } from '../activities/sandbox/types';
import { createPool } from '../infra/pool';
import { migrate } from '../infra/migrate';
import { createLogger, type Logger } from '../infra/logger';
import { WORKFLOWS_PATH } from '../infra/paths';
import { temporalConnectionOptions, tlsSettingsFromEnv } from '../infra/temporal-connection';
import type { WorkerOptions, WorkerRole } from './options';
import { GpuSlots } from './gpu-slots';
import { failureHostInterceptor } from './failure-host';
import { metricsInterceptor, sampleBacklog } from './metrics';
import { temporalLoggerFor } from './temporal-logger';
import { deploymentOptions, resolveVersion, type ResolvedVersion } from './versioning';

/**
 * Starts the workers of the given roles in this process:
 *  - workflow: runs workflow tasks (WORKFLOW_TASK_QUEUE);
 *  - cpu: sandbox, store and metrics activities (CPU_TASK_QUEUE);
 *  - gpu: generation, scoring and training activities (GPU_TASK_QUEUE), one slot per GPU.
 * SIGINT/SIGTERM shut all of them down, giving in-flight activities `shutdownGraceMs`.
 */
export interface RunningWorkers {
  workers: Worker[];
  /** the deployment version the workers joined; undefined without worker versioning */
  version?: { deploymentName: string; buildId: string };
  /** resolves when every worker has stopped and resources are released */
  done: Promise<void>;
  shutdown(): void;
}

/** The GPU host's own task queue, e.g. feedloop-gpu@gpu-node-7. */
export function hostQueue(opts: Pick<WorkerOptions, 'gpuQueue' | 'hostId'>): string {
  return `${opts.gpuQueue}@${opts.hostId}`;
}

let runtimeInstalled = false;

function installRuntime(log: Logger, metricsAddress: string | undefined): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: temporalLoggerFor(log),
      shutdownSignals: ['SIGINT', 'SIGTERM'],
      // the SDK's metrics and feedloop's (workers/metrics.ts), one Prometheus endpoint
      ...(metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } } : {}),
    });
  } catch {
    /* a Runtime already exists in this process (tests): keep it */
  }
}

export interface StartWorkersExtras {
  /** a pre-built workflow bundle (tests build it once) */
  workflowBundle?: WorkflowBundle;
  runner?: SandboxRunner;
  log?: Logger;
}

export async function startWorkers(roles: readonly WorkerRole[], opts: WorkerOptions, extras: StartWorkersExtras = {}): Promise<RunningWorkers> {
  const log = extras.log ?? createLogger('feedloop-worker');
  installRuntime(log, opts.metricsAddress);
  const connectionOptions = temporalConnectionOptions(opts.temporalAddress, opts.tls ?? tlsSettingsFromEnv());
  const connection = await NativeConnection.connect(connectionOptions);
  const needsDb = roles.includes('cpu') || roles.includes('gpu');
  let pool: pg.Pool | undefined;
  const runner = extras.runner ?? createSandboxRunner({ size: opts.sandboxConcurrency, log });
  // This host's checkpoint cache in front of the shared store (--blob-dir), when it has one.
  const checkpoints = opts.hostCache ? new CheckpointStore(opts.blobDir, opts.hostCache, opts.hostId) : undefined;
  const models = new ModelBackendCache(process.env, checkpoints);
  const workers: Worker[] = [];
  let version: ResolvedVersion | undefined;
  try {
    // Every worker of the process joins one deployment version (workers/versioning.ts).
    if (opts.versioning) version = await resolveVersion(opts.versioning, extras.workflowBundle);
    const workflowBundle = version?.bundle ?? extras.workflowBundle;
    if (needsDb) {
      pool = createPool(opts.databaseUrl, opts.cpuSlots + opts.gpus + 2);
      await migrate(pool);
    }
    const common = { connection, namespace: opts.namespace, shutdownGraceTime: opts.shutdownGraceMs, ...(version ? { workerDeploymentOptions: deploymentOptions(version) } : {}) };
    // The role in the identity makes the history say which kind of worker ran each task.
    const identity = (role: WorkerRole) => `${process.pid}@${opts.hostId}/${role}`;
    if (roles.includes('workflow')) {
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: opts.workflowQueue,
          identity: identity('workflow'),
          ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
        }),
      );
    }
    if (roles.includes('cpu')) {
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: opts.cpuQueue,
          identity: identity('cpu'),
          interceptors: { activity: [metricsInterceptor(), failureHostInterceptor(identity('cpu'))] },
          activities: createCpuActivities({ pool: pool!, runner, sandboxConcurrency: opts.sandboxConcurrency, models, temporal: { connection: connectionOptions, namespace: opts.namespace } }),
          maxConcurrentActivityTaskExecutions: opts.cpuSlots,
        }),
      );
    }
    if (roles.includes('gpu')) {
      const slots = new GpuSlots(opts.gpus);
      const activities = slots.wrap(
        createGpuActivities({
          pool: pool!,
          blobDir: opts.blobDir,
          hostTaskQueue: hostQueue(opts),
          models,
          trainers: opts.trainersFile ? loadTrainerRegistry(opts.trainersFile) : undefined,
          checkpoints,
          worker: { identity: identity('gpu'), hostId: opts.hostId },
        }),
      );
      // The shared GPU queue, and this host's own queue: work that must run where a checkpoint
      // was just written (evaluating the model trained here) is sent to the latter.
      for (const taskQueue of [opts.gpuQueue, hostQueue(opts)]) {
        workers.push(
          await Worker.create({
            ...common,
            taskQueue,
            identity: identity('gpu'),
            interceptors: { activity: [metricsInterceptor(), failureHostInterceptor(identity('gpu'))] },
            activities,
            maxConcurrentActivityTaskExecutions: opts.gpus,
          }),
        );
      }
    }
  } catch (err) {
    await pool?.end();
    await connection.close();
    throw err;
  }
  const versionFields = version ? { deployment: version.deploymentName, buildId: version.buildId } : {};
  log.info({ roles, queues: workers.map((w) => w.options.taskQueue), namespace: opts.namespace, gpus: opts.gpus, metrics: opts.metricsAddress, ...versionFields }, 'workers started');
  const stopSampling = opts.metricsAddress ? sampleBacklog(Runtime.instance().metricMeter, connection, opts.namespace, [...new Set(workers.map((w) => w.options.taskQueue))]) : undefined;
  const done = (async () => {
    try {
      await Promise.all(workers.map((w) => w.run()));
    } finally {
      stopSampling?.();
      await runner.close();
      await models.closeAll();
      await pool?.end();
      await connection.close();
      log.info({ roles }, 'workers stopped');
    }
  })();
  return {
    workers,
    ...(version ? { version: { deploymentName: version.deploymentName, buildId: version.buildId } } : {}),
    done,
    shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
