import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { GenerateSamplesInput, GenerateSamplesOutput } from '../../common/evaluation';
import { codeDataset, selectTasks } from '../datasets/registry';
import { sampleCountsByTask, saveGenerations } from '../store/eval-runs';
import { runMany } from '../../common/run-many';
import type { ModelBackendCache } from './index';
import { programFromOutput } from './program-text';
import { replaySamples } from './replay';
import { recordRanBy } from '../store/evaluation-activities';
import type { WorkerRef } from '../worker-deps';

/**
 * Generation activities: registered only on GPU workers (GPU_TASK_QUEUE), since local model
 * inference is GPU work. Samples go straight to PostgreSQL; the workflow gets counts. A retry
 * skips tasks whose samples are already stored, and backends draw the same samples for the
 * same (seed, task, sample index), so retries never change what was generated.
 */
const TASKS_IN_FLIGHT = 4;

/** A stable per-task seed, so sample i of task t is the same draw on every attempt. */
function taskSeed(seed: number, taskId: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 31) + taskId * 2654435761) >>> 0;
}

export function createGenerationActivities(deps: { pool: pg.Pool; models: ModelBackendCache; worker?: WorkerRef }) {
  return {
    async generateSamples(input: GenerateSamplesInput): Promise<GenerateSamplesOutput> {
      const ctx = Context.current();
      const dataset = codeDataset(input.dataset);
      const tasks = selectTasks(input);
      const { policy } = input;

      if (policy.backend === 'replay') {
        const samples = replaySamples(policy, dataset.name, tasks, input.samplesPerTask);
        await saveGenerations(
          deps.pool,
          input.evalRunId,
          samples.map((s) => ({ taskId: s.taskId, sampleIndex: s.sampleIndex, backend: `replay:${policy.source}`, program: s.program })),
        );
        ctx.heartbeat({ saved: samples.length });
        const covered = new Set(samples.map((s) => s.taskId));
        return { tasks: covered.size, samples: samples.length, tasksWithoutSamples: tasks.length - covered.size };
      }

      const stored = await sampleCountsByTask(deps.pool, input.evalRunId);
      const todo = tasks.filter((t) => (stored.get(t.taskId) ?? 0) < input.samplesPerTask);
      const backend = deps.models.get(policy);
      const sampling = input.sampling ?? { temperature: 0.8, topP: 0.95, maxTokens: 512 };
      let done = tasks.length - todo.length;
      try {
        await runMany(todo, TASKS_IN_FLIGHT, async (task) => {
          const { prompt } = task;
          const result = await backend.generate(
            {
              prompt,
              n: input.samplesPerTask,
              temperature: sampling.temperature,
              topP: sampling.topP,
              maxTokens: sampling.maxTokens,
              seed: taskSeed(sampling.seed ?? 0, task.number),
              taskId: task.taskId,
              reference: task.reference,
              sampleIndexStart: 0,
            },
            { signal: ctx.cancellationSignal },
          );
          await saveGenerations(
            deps.pool,
            input.evalRunId,
            result.samples.map((s) => ({
              taskId: task.taskId,
              sampleIndex: s.index,
              backend: policy.backend,
              program: programFromOutput(policy, prompt, s.text, dataset.language),
              meta: { ...s.meta, finishReason: s.finishReason },
            })),
          );
          ctx.heartbeat({ tasksDone: ++done, tasks: tasks.length });
        }, ctx.cancellationSignal);
      } finally {
        await backend.close();
      }
      await recordRanBy(deps.pool, input.evalRunId, input.placement, deps.worker);
      return { tasks: tasks.length, samples: tasks.length * input.samplesPerTask, tasksWithoutSamples: 0 };
    },
  };
}
