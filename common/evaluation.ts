/**
 * Types shared by the evaluation workflow and its activities. Only ids, counts and small
 * summaries cross the workflow boundary; programs and results stay in PostgreSQL.
 */
import type { Outcome } from '../activities/sandbox/types';
import type { TaskQueues } from './task-queues';

/** A policy served from recorded programs: CodeGen-Mono 6.1B's (ILF data) or MBPP's gold ones. */
export interface ReplayPolicy {
  backend: 'replay';
  source: 'ilf-codegen' | 'gold';
}
export type PolicySpec = ReplayPolicy;

export type EvalSplit = 'prompt' | 'test' | 'refine' | 'train' | 'all';

export interface EvaluationInput {
  dataset: 'mbpp';
  split: EvalSplit;
  policy: PolicySpec;
  /** samples generated per task (n in pass@k) */
  samplesPerTask: number;
  /** the k of each reported pass@k */
  ks: number[];
  /** programs per sandbox activity */
  batchSize?: number;
  /** defaults to the workflow id */
  evalRunId?: string;
  /** activity routing; defaults to DEFAULT_TASK_QUEUES */
  taskQueues?: Partial<TaskQueues>;
}

export interface GenerateSamplesInput {
  evalRunId: string;
  dataset: 'mbpp';
  split: EvalSplit;
  policy: PolicySpec;
  samplesPerTask: number;
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
