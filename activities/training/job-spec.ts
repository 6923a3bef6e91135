import { z } from 'zod';

/**
 * A training job as the workflow asks for it, and the job spec file a trainer reads
 * (protocol version 1, documented in trainers/PROTOCOL.md).
 */

export const TRAINING_KINDS = ['sft', 'reward_model', 'policy_update'] as const;
export type TrainingKind = (typeof TRAINING_KINDS)[number];

/** ids become directory and file names: keep them portable */
const jobId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, ".", "_" and "-", at most 128');

const jobFields = {
  jobId,
  kind: z.enum(TRAINING_KINDS),
  /** a model directory (local, or on shared storage) or a provider model name */
  baseModel: z.string().min(1),
  /** JSONL, one example per line */
  datasetPath: z.string().min(1),
  evalDatasetPath: z.string().min(1).optional(),
  hyperparameters: z.record(z.string(), z.unknown()).default({}),
};

export const commandTrainerSchema = z
  .object({
    type: z.literal('command'),
    /** argv; an element "{spec}" is replaced by the spec path, else the path is appended (workers without a trainers file) */
    argv: z.array(z.string().min(1)).min(1).optional(),
    /** a trainer registered on the worker (its trainers file, trainer-registry.ts), which supplies argv and env */
    name: z.string().min(1).optional(),
    /** extra environment for the trainer (no secrets: this travels in the workflow history) */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    cwd: z.string().min(1).optional(),
    /** SIGTERM -> this long -> SIGKILL, on cancellation or a stall */
    cancelGraceMs: z.int().min(0).default(30_000),
    /** a trainer silent on stdout this long is killed and the attempt fails (retryably) */
    stallTimeoutMs: z.int().min(1000).default(30 * 60_000),
    /** how long to wait for a live lock on the job (another copy running) before failing retryably */
    lockWaitMs: z.int().min(0).default(60_000),
    /** a lock from another host not refreshed for this long is taken over */
    lockStaleAfterMs: z.int().min(1000).default(5 * 60_000),
  })
  .strict();

export const commandTrainingJobSchema = z
  .object({
    ...jobFields,
    /** where checkpoints, logs, the lock and the final model go; must be the same path on every GPU host that may retry */
    outputDir: z.string().min(1),
    trainer: commandTrainerSchema,
  })
  .strict();

export type CommandTrainingJobInput = z.input<typeof commandTrainingJobSchema>;

/** The job's `trainer` for a campaign's trainer config (`command` or a registered `name`). */
export function commandTrainerOf(t: { command?: readonly string[]; name?: string }): { type: 'command'; argv?: string[]; name?: string } {
  return { type: 'command', ...(t.command ? { argv: [...t.command] } : {}), ...(t.name !== undefined ? { name: t.name } : {}) };
}
export type CommandTrainingJob = z.output<typeof commandTrainingJobSchema>;

/** The file the activity writes for the trainer (outputDir/job-spec.json). */
export interface TrainerJobSpec {
  protocol: 1;
  jobId: string;
  kind: TrainingKind;
  baseModel: string;
  datasetPath: string;
  evalDatasetPath: string | null;
  outputDir: string;
  /** a complete checkpoint directory to resume from, or null to start fresh */
  resumeFromCheckpoint: string | null;
  resumeFromStep: number;
  hyperparameters: Record<string, unknown>;
  attempt: number;
}

export interface TrainingJobResult {
  jobId: string;
  /** the final model: the trainer's output directory */
  modelPath: string;
  steps: number;
  metrics: Record<string, number>;
  durationMs: number;
  host: string;
  /** the worker-specific task queue of the host holding the model, when the worker has one */
  taskQueue?: string;
  /** the checkpoint this attempt resumed from, if any */
  resumedFrom: string | null;
  attempt: number;
  /** the trainer's ONNX export of the model (the `export` of its done event): an `onnx` policy's modelDir */
  exportPath?: string;
}
