/**
 * `npm run bench:pipeline [-- --tasks N] [--samples K] [--batch-size B]`: what orchestration and
 * storage cost per program. In one run, on a throw-away Temporal dev server and PostgreSQL:
 *  1. an evaluation workflow end to end (generation stored in PostgreSQL, sandbox batches on the
 *     CPU queue, results stored with their evidence, pass@k from SQL), the worker in this process;
 *  2. a raw `sandbox check` on the very programs the workflow tested (read back from its stored
 *     batches): the sandbox runner directly, as many at once as the worker ran.
 * The policy serves the MBPP gold program K times per task: the SIMULATED program policy at pass
 * probability 1 (the `replay` backend holds one program per task, so it cannot give K samples).
 * Both sides run warm (a small evaluation first; the sandbox pool started). The last line is
 * the ratio of pipeline to raw programs/s.
 */
import os from 'node:os';
import pg from 'pg';
import { evaluationWorkflow } from '../workflows';
import type { EvaluationInput, EvaluationSummary } from '../common/evaluation';
import { runMany } from '../common/run-many';
import { createSandboxRunner } from '../activities/sandbox/sandbox-runner';
import { loadBatchItems } from '../activities/store/sandbox-batches';
import { resolveLimits, type Outcome } from '../activities/sandbox/types';
import { activityTimes, intFlag, startLocalStack, type LocalStack } from './local-stack';

/** Every sample of the MBPP gold program: a simulated policy that never fails (SIMULATED). */
export const GOLD_POLICY = {
  backend: 'simulated',
  role: 'program',
  model: 'gold-every-sample',
  seed: 0,
  trained: { steps: 0, examples: 0 },
  quality: { initial: 1, ceiling: 1, halfwayExamples: 1 },
} as const satisfies EvaluationInput['policy'];

export async function runEvaluation(stack: LocalStack, workflowId: string, input: Omit<EvaluationInput, 'taskQueues'>): Promise<{ summary: EvaluationSummary; seconds: number }> {
  const started = performance.now();
  const summary = await stack.client.workflow.execute(evaluationWorkflow, {
    args: [{ ...input, taskQueues: stack.queues }],
    taskQueue: stack.queues.workflow,
    workflowId,
  });
  return { summary, seconds: (performance.now() - started) / 1000 };
}

function tally(outcomes: Iterable<Outcome>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) out[o] = (out[o] ?? 0) + 1;
  return out;
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const tasks = intFlag('--tasks', 974);
  const samples = intFlag('--samples', 5);
  const batchSize = intFlag('--batch-size', 200);
  const stack = await startLocalStack();
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  try {
    console.log(`host: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} CPUs, load ${load()}`);
    console.log(`MBPP gold programs, ${tasks} tasks x ${samples} samples (SIMULATED policy at pass probability 1), batch size ${batchSize}, ${stack.sandboxConcurrency} programs at once`);
    await stack.runner.warmUp();
    const base: Omit<EvaluationInput, 'taskQueues'> = { dataset: 'mbpp', split: 'all', maxTasks: tasks, policy: GOLD_POLICY, samplesPerTask: samples, ks: [1], batchSize };
    await runEvaluation(stack, `bench-pipeline-warmup-${Date.now()}`, { ...base, maxTasks: 2, samplesPerTask: 1 });

    const workflowId = `bench-pipeline-${Date.now()}`;
    const pipeline = await runEvaluation(stack, workflowId, base);
    const { summary } = pipeline;

    // The raw side: the same stored programs straight through a warm sandbox runner.
    const { rows } = await pool.query<{ id: string }>('select id from sandbox_batches where owner = $1 order by id', [workflowId]);
    const items = (await Promise.all(rows.map((r) => loadBatchItems(pool, r.id)))).flat();
    const raw = createSandboxRunner({ size: stack.sandboxConcurrency });
    let rawSeconds: number;
    const rawOutcomes: Outcome[] = [];
    try {
      await raw.warmUp();
      const started = performance.now();
      await runMany(items, stack.sandboxConcurrency, async (item) => {
        rawOutcomes.push((await raw.run(item, resolveLimits(item.limits))).outcome);
      });
      rawSeconds = (performance.now() - started) / 1000;
    } finally {
      await raw.close();
    }

    const pipelineRate = summary.samples / pipeline.seconds;
    const rawRate = items.length / rawSeconds;
    console.log(`pipeline (evaluation workflow: store, batches, results, pass@k): ${summary.samples} programs in ${pipeline.seconds.toFixed(2)} s = ${pipelineRate.toFixed(1)} programs/s; pass@1 ${summary.passAtK['1']?.toFixed(4)}; ${JSON.stringify(summary.outcomes)}`);
    console.log(`raw sandbox check (runner directly, same programs):              ${items.length} programs in ${rawSeconds.toFixed(2)} s = ${rawRate.toFixed(1)} programs/s; ${JSON.stringify(tally(rawOutcomes))}`);
    console.log(`orchestration + storage per program: ${((1000 * (pipeline.seconds - rawSeconds)) / Math.max(1, summary.samples)).toFixed(2)} ms (wall, ${stack.sandboxConcurrency} at once)`);
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    const times = activityTimes(history.events ?? []).map((t) => `${t.type} ${t.count}x ${t.seconds.toFixed(2)} s`);
    console.log(`pipeline activities (count, summed schedule-to-close): ${times.join(', ')}; ${history.events?.length ?? 0} history events`);
    console.log(`load after: ${load()}`);
    if (items.length !== summary.samples) {
      console.log(`the workflow tested ${summary.samples} programs but its batches hold ${items.length}`);
      process.exitCode = 1;
    }
    console.log(`ratio ${(pipelineRate / rawRate).toFixed(2)}`);
  } finally {
    await pool.end();
    await stack.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
