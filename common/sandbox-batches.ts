/**
 * A run's sandbox batches passed by reference: the ids are `${prefix}${i}` for i < count, so a
 * workflow hands on a prefix and a count whatever the number of batches (the ids themselves
 * would grow with the run). Shared by workflows and activities.
 */
import type { SandboxLimits } from './sandbox';

export interface BatchRef {
  prefix: string;
  count: number;
}

/** The prefix of the test batches of an evaluation run (`<evalRunId>/tests-0`, `-1`, ...). */
export function testBatchPrefix(evalRunId: string): string {
  return `${evalRunId}/tests-`;
}

export function batchId(prefix: string, index: number): string {
  return `${prefix}${index}`;
}

export function batchIdsOf(ref: BatchRef): string[] {
  return Array.from({ length: ref.count }, (_, i) => batchId(ref.prefix, i));
}

/** Where page-by-page batching of a run's generations stands: the last generation placed. */
export interface GenerationKey {
  taskId: string;
  sampleIndex: number;
}

export interface PrepareTestBatchPageInput {
  evalRunId: string;
  batchSize: number;
  limits?: Partial<SandboxLimits>;
  /** index of the first batch this page makes */
  first: number;
  /** the last generation already batched; absent at the start of the run */
  after?: GenerationKey;
  /** at most this many batches */
  maxBatches: number;
}

export interface PrepareTestBatchPageOutput {
  /** batches made (ids first .. first + batches - 1) */
  batches: number;
  after?: GenerationKey;
  /** every generation of the run is in a batch */
  done: boolean;
}
