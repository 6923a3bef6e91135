import { ApplicationFailure } from '@temporalio/common';
import { loadIlfAnnotations } from '../datasets/ilf';
import type { CodeTask } from '../datasets/registry';
import type { ReplayPolicy } from '../../common/evaluation';

/**
 * The `replay` backend: serves recorded programs instead of sampling a model, e.g. the
 * CodeGen-Mono 6.1B programs released with the ILF paper. It has exactly one recorded program
 * per task, so asking for more samples is a configuration error.
 */
export interface ReplaySample {
  taskId: string;
  sampleIndex: number;
  program: string;
}

export function replaySamples(policy: ReplayPolicy, dataset: string, tasks: readonly CodeTask[], samplesPerTask: number): ReplaySample[] {
  if (samplesPerTask !== 1) {
    throw ApplicationFailure.nonRetryable(
      `policy.backend=replay has one recorded program per task; samplesPerTask must be 1, got ${samplesPerTask}`,
      'InvalidConfig',
    );
  }
  if (policy.source === 'gold') return tasks.flatMap((t) => (t.reference === undefined ? [] : [{ taskId: t.taskId, sampleIndex: 0, program: t.reference }]));
  if (dataset !== 'mbpp') {
    throw ApplicationFailure.nonRetryable(`replay source ilf-codegen holds programs for MBPP tasks only, not ${dataset}`, 'InvalidConfig');
  }
  const recorded = new Map(loadIlfAnnotations().map((a) => [String(a.taskId), a.modelProgram]));
  const out: ReplaySample[] = [];
  for (const t of tasks) {
    const program = recorded.get(t.taskId);
    if (program !== undefined) out.push({ taskId: t.taskId, sampleIndex: 0, program });
  }
  return out;
}
