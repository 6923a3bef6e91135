/**
 * Types shared by the evaluation workflow and its activities. Only ids, counts and small
 * summaries cross the workflow boundary; programs and results stay in PostgreSQL.
 */
import type { TaskSelection } from './datasets';
import type { PlacementIntent } from './task-queues';
import type { Outcome, SandboxLimits } from './sandbox';
import type { ActivityTimeoutsInput, PolicyBackend } from './campaign-schema';
import type { TaskQueues } from './task-queues';

/** A policy served from recorded programs: CodeGen-Mono 6.1B's (ILF data) or MBPP's gold ones. */
export interface ReplayPolicy {
  backend: 'replay';
  source: 'ilf-codegen' | 'gold';
}
/** Any policy: replayed programs or a model backend (openai, onnx, simulated). */
export type PolicySpec = PolicyBackend;

/** A named split of a dataset (each dataset lists its own, e.g. MBPP's ILF splits). */
export type EvalSplit = string;

/** Sampling parameters of model-backed policies (ignored by replay). */
export interface SamplingParams {
  temperature: number;
  topP: number;
  maxTokens: number;
  seed?: number;
}


export interface EvaluationInput extends TaskSelection {
  policy: PolicySpec;
  /** samples generated per task (n in pass@k) */
  samplesPerTask: number;
  /** the k of each reported pass@k */
  ks: number[];
  sampling?: SamplingParams;
  limits?: Partial<SandboxLimits>;
  /** programs per sandbox activity */
  batchSize?: number;
  /** sandbox batches per run of the workflow that tests them, before it continues as new */
  batchesPerRun?: number;
  /** defaults to the workflow id */
  evalRunId?: string;
  /** activity routing; defaults to DEFAULT_TASK_QUEUES */
  taskQueues?: Partial<TaskQueues>;
  /** activity timeouts (e.g. '1m'); defaults to DEFAULT_TIMEOUTS */
  timeouts?: ActivityTimeoutsInput;
}

export interface GenerateSamplesInput extends TaskSelection {
  evalRunId: string;
  policy: PolicySpec;
  samplesPerTask: number;
  sampling?: SamplingParams;
  /** set on host-routed generation: the activity records where it ran (eval_runs.placement) */
  placement?: PlacementIntent;
}

export interface GenerateSamplesOutput {
  tasks: number;
  samples: number;
  /** tasks of the split the policy had no program for (replay of recorded data) */
  tasksWithoutSamples: number;
}

export interface EvaluationSummary {
  evalRunId: string;
  dataset: string;
  split: EvalSplit;
  policy: PolicySpec;
  tasks: number;
  samples: number;
  /** samples scored (infra errors are never scored) */
  scored: number;
  outcomes: Partial<Record<Outcome, number>>;
  /** pass@k keyed by k, e.g. { "1": 0.42 } */
  passAtK: Record<string, number>;
}
