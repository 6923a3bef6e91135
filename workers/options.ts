import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { readEnv, statePaths } from '../infra/env';
import { ConfigError } from '../common/config-error';
import { DEFAULT_TASK_QUEUES } from '../common/task-queues';
import { databaseUrlOf } from '../infra/postgres';
import { loadTrainerRegistry } from '../activities/training/trainer-registry';
import { temporalConnectionOptions, tlsSettingsFromEnv, type TemporalTlsSettings } from '../infra/temporal-connection';
import { versioningFrom, type VersioningSettings } from './versioning';

/**
 * Worker configuration: flags override environment, environment overrides defaults. Validated
 * with zod so that a bad value fails at start-up with the flag's name.
 */
export type WorkerRole = 'workflow' | 'cpu' | 'gpu';

const schema = z.object({
  temporalAddress: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port'),
  namespace: z.string().min(1),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  workflowQueue: z.string().min(1),
  cpuQueue: z.string().min(1),
  gpuQueue: z.string().min(1),
  /** sandbox programs run at once per sandbox activity */
  sandboxConcurrency: z.coerce.number().int().min(1).max(256),
  /** CPU activities at once per worker */
  cpuSlots: z.coerce.number().int().min(1).max(1024),
  /** one GPU activity slot per GPU */
  gpus: z.coerce.number().int().min(1).max(64),
  /** time in-flight activities get to finish after SIGTERM */
  shutdownGraceMs: z.coerce.number().int().min(0),
  /** training sets and checkpoints: the durable store, the same path on every GPU host */
  blobDir: z.string().min(1),
  /** this GPU host's own checkpoint cache (activities/training/checkpoint-store.ts); unset: none, trainers write in the store */
  hostCache: z.string().min(1).optional(),
  /** names this host's own GPU queue (<gpu-queue>@<host-id>); stable across restarts */
  hostId: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only'),
  /** the trainers this GPU worker runs (activities/training/trainer-registry.ts); unset: a campaign's own command runs */
  trainersFile: z.string().min(1).optional(),
  /** host:port of the Prometheus endpoint (SDK and feedloop metrics at /metrics); unset: none */
  metricsAddress: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port, e.g. 0.0.0.0:9464').optional(),
  /** the Worker Deployment this process's workers join (workers/versioning.ts); with buildId unset too: no versioning */
  deploymentName: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only').max(200).optional(),
  /** the deployment version's build id; unset with a deployment: derived from the workflow code */
  buildId: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only').max(200).optional(),
});
export type WorkerOptions = z.infer<typeof schema> & {
  /** TLS, mTLS and API key for the Temporal connection (flags over TEMPORAL_TLS_* / TEMPORAL_API_KEY) */
  tls?: TemporalTlsSettings;
  /** worker versioning: set when a deployment or build id is configured */
  versioning?: VersioningSettings;
};
type WorkerFlags = Partial<Record<keyof z.infer<typeof schema> | 'tlsCert' | 'tlsKey' | 'tlsCa' | 'tlsServerName', string | number>>;

/** GPUs visible to this host: CUDA_VISIBLE_DEVICES, else `nvidia-smi -L`, else 1. */
export function detectGpuCount(env: NodeJS.ProcessEnv = process.env): number {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && visible.trim() !== '') return visible.split(',').filter((s) => s.trim()).length || 1;
  try {
    const n = execFileSync('nvidia-smi', ['-L'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('GPU ')).length;
    return n || 1;
  } catch {
    return 1;
  }
}

const FLAG_NAMES: Record<keyof z.infer<typeof schema>, string> = {
  temporalAddress: '--temporal-address / TEMPORAL_ADDRESS',
  namespace: '--namespace / TEMPORAL_NAMESPACE',
  databaseUrl: '--database-url / DATABASE_URL',
  workflowQueue: '--workflow-queue',
  cpuQueue: '--cpu-queue',
  gpuQueue: '--gpu-queue',
  sandboxConcurrency: '--sandbox-concurrency / FEEDLOOP_SANDBOX_CONCURRENCY',
  cpuSlots: '--cpu-slots / FEEDLOOP_CPU_SLOTS',
  gpus: '--gpus / FEEDLOOP_GPUS',
  shutdownGraceMs: '--shutdown-grace-ms / FEEDLOOP_SHUTDOWN_GRACE_MS',
  blobDir: '--blob-dir (default FEEDLOOP_HOME/blobs)',
  hostCache: '--host-cache / FEEDLOOP_HOST_CACHE',
  hostId: '--host-id / FEEDLOOP_HOST_ID',
  trainersFile: '--trainers / FEEDLOOP_TRAINERS',
  metricsAddress: '--metrics-address / FEEDLOOP_METRICS_ADDRESS',
  deploymentName: '--deployment-name / FEEDLOOP_DEPLOYMENT',
  buildId: '--build-id / FEEDLOOP_BUILD_ID',
};

export function resolveWorkerOptions(flags: WorkerFlags, env: NodeJS.ProcessEnv = process.env): WorkerOptions {
  const base = readEnv(env);
  const raw = {
    temporalAddress: flags.temporalAddress ?? base.TEMPORAL_ADDRESS,
    namespace: flags.namespace ?? base.TEMPORAL_NAMESPACE,
    databaseUrl: flags.databaseUrl ?? databaseUrlOf(base),
    workflowQueue: flags.workflowQueue ?? DEFAULT_TASK_QUEUES.workflow,
    cpuQueue: flags.cpuQueue ?? DEFAULT_TASK_QUEUES.cpu,
    gpuQueue: flags.gpuQueue ?? DEFAULT_TASK_QUEUES.gpu,
    sandboxConcurrency: flags.sandboxConcurrency ?? env.FEEDLOOP_SANDBOX_CONCURRENCY ?? os.availableParallelism(),
    cpuSlots: flags.cpuSlots ?? env.FEEDLOOP_CPU_SLOTS ?? 8,
    gpus: flags.gpus ?? env.FEEDLOOP_GPUS ?? detectGpuCount(env),
    shutdownGraceMs: flags.shutdownGraceMs ?? env.FEEDLOOP_SHUTDOWN_GRACE_MS ?? 30_000,
    blobDir: flags.blobDir ?? statePaths(base.FEEDLOOP_HOME).blobs,
    hostCache: flags.hostCache ?? (env.FEEDLOOP_HOST_CACHE || undefined),
    hostId: flags.hostId ?? env.FEEDLOOP_HOST_ID ?? os.hostname(),
    trainersFile: flags.trainersFile ?? (env.FEEDLOOP_TRAINERS || undefined),
    metricsAddress: flags.metricsAddress ?? (env.FEEDLOOP_METRICS_ADDRESS || undefined),
    deploymentName: flags.deploymentName ?? (env.FEEDLOOP_DEPLOYMENT || undefined),
    buildId: flags.buildId ?? (env.FEEDLOOP_BUILD_ID || undefined),
  };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]) as keyof z.infer<typeof schema>;
      return `  ${FLAG_NAMES[key] ?? key}: ${i.message}`;
    });
    throw new ConfigError(`invalid worker configuration:\n${lines.join('\n')}`);
  }
  const fromEnv = tlsSettingsFromEnv(env);
  const tls: TemporalTlsSettings = {
    ...fromEnv,
    ...(flags.tlsCert !== undefined ? { certFile: String(flags.tlsCert) } : {}),
    ...(flags.tlsKey !== undefined ? { keyFile: String(flags.tlsKey) } : {}),
    ...(flags.tlsCa !== undefined ? { caFile: String(flags.tlsCa) } : {}),
    ...(flags.tlsServerName !== undefined ? { serverName: String(flags.tlsServerName) } : {}),
  };
  // fails here, with the variable's name, rather than when the worker connects
  temporalConnectionOptions(parsed.data.temporalAddress, tls);
  if (parsed.data.trainersFile) loadTrainerRegistry(parsed.data.trainersFile);
  const versioning = versioningFrom(parsed.data.deploymentName, parsed.data.buildId);
  return { ...parsed.data, tls, ...(versioning ? { versioning } : {}) };
}

/** The flags every worker entry point accepts. */
export function workerCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .addOption(new Option('--temporal-address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS)'))
    .addOption(new Option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE)'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL; default: the embedded server)'))
    .addOption(new Option('--workflow-queue <name>', `workflow task queue (default ${DEFAULT_TASK_QUEUES.workflow})`))
    .addOption(new Option('--cpu-queue <name>', `CPU activity task queue (default ${DEFAULT_TASK_QUEUES.cpu})`))
    .addOption(new Option('--gpu-queue <name>', `GPU activity task queue (default ${DEFAULT_TASK_QUEUES.gpu})`))
    .addOption(new Option('--sandbox-concurrency <n>', 'programs run at once per sandbox activity (env FEEDLOOP_SANDBOX_CONCURRENCY)'))
    .addOption(new Option('--cpu-slots <n>', 'CPU activities at once (env FEEDLOOP_CPU_SLOTS, default 8)'))
    .addOption(new Option('--gpus <n>', 'GPUs on this host = GPU activity slots (env FEEDLOOP_GPUS; default: detected)'))
    .addOption(new Option('--shutdown-grace-ms <ms>', 'grace for in-flight activities on SIGTERM (default 30000)'))
    .addOption(new Option('--blob-dir <dir>', 'training sets and checkpoints: the shared store, the same path on every GPU host (default FEEDLOOP_HOME/blobs)'))
    .addOption(new Option('--host-cache <dir>', "this GPU host's own checkpoint cache: trainers write here, then publish to --blob-dir (env FEEDLOOP_HOST_CACHE)"))
    .addOption(new Option('--metrics-address <host:port>', 'serve Prometheus metrics (SDK and feedloop) at http://<host:port>/metrics (env FEEDLOOP_METRICS_ADDRESS)'))
    .addOption(new Option('--trainers <file>', 'the trainers this GPU worker runs, by name (env FEEDLOOP_TRAINERS); unset: campaigns give commands'))
    .addOption(new Option('--tls-cert <file>', 'client certificate for mTLS (env TEMPORAL_TLS_CERT)'))
    .addOption(new Option('--tls-key <file>', 'client key for mTLS (env TEMPORAL_TLS_KEY)'))
    .addOption(new Option('--tls-ca <file>', "CA of the server's certificate (env TEMPORAL_TLS_CA); API key: env TEMPORAL_API_KEY only"))
    .addOption(new Option('--tls-server-name <name>', "name in the server's certificate (env TEMPORAL_TLS_SERVER_NAME)"))
    .addOption(new Option('--deployment-name <name>', 'join this Temporal Worker Deployment (env FEEDLOOP_DEPLOYMENT; default feedloop when --build-id is set; unset with no build id: no worker versioning)'))
    .addOption(new Option('--build-id <id>', 'the deployment version (env FEEDLOOP_BUILD_ID; default <package version>-<hash of the workflow bundle>)'))
    .addOption(new Option('--host-id <id>', "names this GPU host's own queue <gpu-queue>@<id> (env FEEDLOOP_HOST_ID, default hostname)"))
    .showHelpAfterError();
}

