import os from 'node:os';
import type { Logger } from '../../infra/logger';
import { runCommandTrainingJob } from './command-trainer';
import type { CommandTrainingJobInput, TrainingJobResult } from './job-spec';
import type { TrainerRegistry } from './trainer-registry';
import type { CheckpointStore } from './checkpoint-store';

export * from './job-spec';
export { TRAINING_FAILURE } from './failures';
export { CHECKPOINT_MARKER, RESULT_FILE, completeCheckpoints, type CheckpointRef } from './checkpoints';
export { LOCK_FILE } from './lock';
export { loadTrainerRegistry, type TrainerRegistry } from './trainer-registry';
export { CheckpointStore, PUBLISHED_MARKER } from './checkpoint-store';
export type { TrainingHeartbeat } from './command-trainer';

export interface TrainingActivityDeps {
  /** this worker's own task queue, returned with results so follow-up work can be pinned to the host holding the model */
  workerTaskQueue?: string;
  /** defaults to os.hostname() */
  host?: string;
  logger?: Logger;
  /** minimum heartbeat (and lock refresh) rate while a trainer runs; default 5 s. Keep it under the activity's heartbeatTimeout. */
  heartbeatIntervalMs?: number;
  /** the trainers this worker runs (its trainers file); unset: a job's own argv runs */
  registry?: TrainerRegistry;
  /** this host's cache in front of the shared store: trainers write there and publish (checkpoint-store.ts) */
  store?: CheckpointStore;
}

/**
 * Training activities. `runTrainingJob` runs a command trainer (register it on GPU workers); call
 * it with a heartbeatTimeout: heartbeats carry the resume point.
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
  };
}
