import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { GenerateSamplesInput, GenerateSamplesOutput } from '../../common/evaluation';
import { mbppSplit } from '../datasets/mbpp';
import { saveGenerations } from '../store/eval-runs';
import { replaySamples } from './replay';

/**
 * Generation activities: registered only on GPU workers (GPU_TASK_QUEUE), since local model
 * inference is GPU work. Samples go straight to PostgreSQL; the workflow gets counts.
 */
export function createGenerationActivities(deps: { pool: pg.Pool }) {
  return {
    async generateSamples(input: GenerateSamplesInput): Promise<GenerateSamplesOutput> {
      if (input.dataset !== 'mbpp') {
        throw ApplicationFailure.nonRetryable(`dataset must be "mbpp", got ${JSON.stringify(input.dataset)}`, 'InvalidConfig');
      }
      const tasks = mbppSplit(input.split);
      if (input.policy.backend !== 'replay') {
        throw ApplicationFailure.nonRetryable(`policy.backend ${JSON.stringify(input.policy.backend)} is not supported here`, 'InvalidConfig');
      }
      const samples = replaySamples(input.policy, tasks, input.samplesPerTask);
      await saveGenerations(
        deps.pool,
        input.evalRunId,
        samples.map((s) => ({
          taskId: String(s.taskId),
          sampleIndex: s.sampleIndex,
          backend: `replay:${input.policy.source}`,
          program: s.program,
        })),
      );
      Context.current().heartbeat({ saved: samples.length });
      const covered = new Set(samples.map((s) => s.taskId));
      return { tasks: covered.size, samples: samples.length, tasksWithoutSamples: tasks.length - covered.size };
    },
  };
}
