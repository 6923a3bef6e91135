import os from 'node:os';
import type { Logger } from '../../infra/logger';
import { runCommandTrainingJob } from './command-trainer';
import type { CommandTrainingJobInput, OpenAIFineTuningJobInput, TrainingJobResult } from './job-spec';
import { runOpenAIFineTuningJob } from './openai-trainer';
import type { TrainerRegistry } from './trainer-registry';
import type { CheckpointStore } from './checkpoint-store';

export * from './job-spec';
export { TRAINING_FAILURE } from './failures';
export { CHECKPOINT_MARKER, RESULT_FILE, completeCheckpoints, type CheckpointRef } from './checkpoints';
export { LOCK_FILE } from './lock';
export { loadTrainerRegistry, type TrainerRegistry } from './trainer-registry';
export { CheckpointStore, PUBLISHED_MARKER } from './checkpoint-store';
export type { TrainingHeartbeat } from './command-trainer';
export type { FineTuningHeartbeat } from './openai-trainer';

export interface TrainingActivityDeps {
  /** this worker's own task queue, returned with results so follow-up work can be pinned to the host holding the model */
  workerTaskQueue?: string;
  /** defaults to os.hostname() */
  host?: string;
  logger?: Logger;
  /** minimum heartbeat (and lock refresh) rate while a trainer runs; default 5 s. Keep it under the activity's heartbeatTimeout. */
  heartbeatIntervalMs?: number;
  /** where the openai trainer reads API keys and base URLs; default process.env */
  env?: NodeJS.ProcessEnv;
  /** the trainers this worker runs (its trainers file); unset: a job's own argv runs */
  registry?: TrainerRegistry;
  /** this host's cache in front of the shared store: trainers write there and publish (checkpoint-store.ts) */
  store?: CheckpointStore;
}

/**
 * Training activities. `runTrainingJob` runs a command trainer (register it on GPU workers);
 * `runOpenAIFineTuningJob` drives a provider's fine-tuning API (any worker; it only polls).
 * Both must be called with a heartbeatTimeout: heartbeats carry the resume point.
 */
export function createTrainingActivities(deps: TrainingActivityDeps = {}) {
  const host = deps.host ?? os.hostname();
  return {
    runTrainingJob(input: CommandTrainingJobInput): Promise<TrainingJobResult> {
      return runCommandTrainingJob(input, {
        host,
        workerTaskQueue: deps.workerTaskQueue,
        logger: deps.logger,
        heartbeatIntervalMs: deps.heartbeatIntervalMs ?? 5000,
        registry: deps.registry,
        store: deps.store,
      });
    },
    runOpenAIFineTuningJob(input: OpenAIFineTuningJobInput): Promise<TrainingJobResult> {
      return runOpenAIFineTuningJob(input, { host, workerTaskQueue: deps.workerTaskQueue, env: deps.env });
    },
  };
}
