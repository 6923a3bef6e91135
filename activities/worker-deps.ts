import type { TemporalConnectionOptions } from '../infra/temporal-connection';
import type pg from 'pg';
import type { ModelBackendCache } from './models/index';
import type { SandboxRunner } from './sandbox/types';
import type { createTrainingActivities } from './training/index';
import type { TrainerRegistry } from './training/trainer-registry';
import type { CheckpointStore } from './training/checkpoint-store';

/** What a CPU worker's activities are made from: the store, the sandbox, this process's models. */
export interface CpuActivityDeps {
  pool: pg.Pool;
  runner: SandboxRunner;
  sandboxConcurrency: number;
  /** model backends of this process, kept across activities (ONNX sessions load once) */
  models: ModelBackendCache;
  /** the Temporal server this worker polls, for activities that message workflows (cRLHF's SIMULATED crowd) */
  temporal?: { connection: TemporalConnectionOptions; namespace: string };
}

/** What a GPU worker's activities are made from. */
export interface GpuActivityDeps {
  pool: pg.Pool;
  /** where training sets and checkpoints are written on this host */
  blobDir: string;
  /** this host's own task queue, returned by training so evaluation runs where the checkpoint is */
  hostTaskQueue: string;
  /** model backends of this process, kept across activities (ONNX sessions load once) */
  models: ModelBackendCache;
  /** the trainers this host runs (its trainers file); unset: a campaign's own command runs */
  trainers?: TrainerRegistry;
  /** this host's cache in front of the shared store (blobDir); unset: checkpoints are written and read in blobDir */
  checkpoints?: CheckpointStore;
  /** the worker running these activities, named in the placement records of host-routed steps */
  worker?: WorkerRef;
}

/** A worker as placement records name it: its identity (pid@host/role) and its host id. */
export interface WorkerRef {
  identity: string;
  hostId: string;
}

/** A GPU worker's deps plus the trainer protocol, which loops' training activities run jobs through. */
export type GpuLoopActivityDeps = GpuActivityDeps & { training: ReturnType<typeof createTrainingActivities> };
