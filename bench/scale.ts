/**
 * `npm run bench:scale [-- --tasks N] [--samples K] [--batch-size B] [--eval-tasks E]`: one ILF
 * dry-run iteration at scale (SIMULATED policy, refiner and trainer; the real sandbox, Temporal
 * dev server and PostgreSQL, the worker in this process). The iteration samples K programs for
 * each of N MBPP tasks (default: all 974 x 100, about 100,000 programs) and tests them in
 * stored batches of B; its evaluation scores E MBPP_Test tasks. First the same iteration runs
 * at 100 programs (10 tasks x 10 samples), so the event counts can be compared: they must be
 * equal (exit 1 otherwise), the batches running in sandbox-batches child workflows that
 * continue as new. Reports wall time, programs/s, the worker's peak RSS, the event count of
 * every run of every workflow (the iteration's, and the largest child run's), the largest
 * payload in any of them against the claim-check limit, and how long `feedloop audit` takes on
 * the campaign.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { ilfCampaignWorkflow } from '../loops/ilf/workflow';
import { parseIlfCampaignConfig } from '../loops/ilf/config';
import { ilfIds } from '../loops/ilf/types';
import { sandboxBatchesWorkflowId } from '../workflows/sandbox-batches';
import { runAuditCommand } from '../cli/audit';
import { CLAIM_CHECK_LIMIT_BYTES, intFlag, peakRssMiB, startLocalStack, workflowTreeRuns, type LocalStack, type RunFigures } from './local-stack';

export interface ScaleForm {
  tasks: number;
  samples: number;
  batchSize: number;
  evalTasks: number;
}

/** An ILF dry-run campaign of one iteration over MBPP tasks 1..974 (SIMULATED models). */
export function scaleConfig(form: ScaleForm, queues: LocalStack['queues']) {
  return parseIlfCampaignConfig({
    algorithm: 'ilf',
    description: `SIMULATED scale run: ${form.tasks} tasks x ${form.samples} samples`,
    seed: 7,
    dataset: { splits: { refine: [111, 310], train: [1, 974], test: [11, 110] }, maxTrainTasks: form.tasks, maxTestTasks: form.evalTasks },
    models: { policy: { backend: 'simulated', role: 'program', seed: 7, quality: { initial: 0.2, ceiling: 0.85, halfwayExamples: 60 } } },
    sampling: { train: { n: form.samples }, eval: { n: 1, ks: [1] } },
    feedback: { source: 'dataset' },
    refiner: { kind: 'dataset' },
    sandbox: { batchSize: form.batchSize },
    trainer: { kind: 'simulated', stepsPerExample: 2 },
    iterations: 1,
    evaluateStart: false,
    taskQueues: queues,
  });
}

/** Where the campaign's events are: the iteration's own, and each run of every workflow under it. */
export interface ScaleFigures {
  campaignId: string;
  seconds: number;
  runs: RunFigures[];
  iterationEvents: number;
  /** the largest run of a sandbox-batches child (workflows/sandbox-batches.ts), and how many runs they took */
  largestChildRun?: RunFigures;
  childRuns: number;
  /** activities of the iteration and everything under it (its evaluation excluded) */
  activities: Array<{ type: string; count: number; seconds: number }>;
}

export async function runScaleIteration(stack: LocalStack, form: ScaleForm): Promise<ScaleFigures> {
  const campaignId = `bench-scale-${form.tasks}x${form.samples}-${randomUUID().slice(0, 8)}`;
  const config = scaleConfig(form, stack.queues);
  const started = performance.now();
  await stack.client.workflow.execute(ilfCampaignWorkflow, { workflowId: campaignId, taskQueue: stack.queues.workflow, args: [{ campaignId, config }] });
  const seconds = (performance.now() - started) / 1000;
  const runs = await workflowTreeRuns(stack.client, campaignId);
  const iterationId = ilfIds.iterationWorkflow(campaignId, 1);
  const iteration = runs.find((r) => r.workflowId === iterationId);
  const evaluationId = ilfIds.evaluation(campaignId, 1);
  const children = runs.filter((r) => r.workflowId.endsWith(sandboxBatchesWorkflowId('')) && r.workflowId.startsWith(`${campaignId}/`));
  const underIteration = [iteration, ...children.filter((r) => !r.workflowId.startsWith(`${evaluationId}/`))].filter((r) => r !== undefined);
  const times = new Map<string, { count: number; seconds: number }>();
  for (const t of underIteration.flatMap((r) => r.times)) {
    const sum = times.get(t.type) ?? { count: 0, seconds: 0 };
    times.set(t.type, { count: sum.count + t.count, seconds: sum.seconds + t.seconds });
  }
  return {
    campaignId,
    seconds,
    runs,
    iterationEvents: iteration?.events ?? 0,
    largestChildRun: children.reduce<RunFigures | undefined>((a, r) => (!a || r.events > a.events ? r : a), undefined),
    childRuns: children.length,
    activities: [...times].map(([type, t]) => ({ type, ...t })),
  };
}

async function timeAudit(campaignId: string, databaseUrl: string): Promise<{ seconds: number; lines: number }> {
  let text = '';
  const started = performance.now();
  const code = await runAuditCommand(campaignId, { databaseUrl }, { out: (t) => (text += t), err: (t) => console.error(t) });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`feedloop audit ${campaignId} exited ${code}`);
  return { seconds, lines: text.split('\n').length };
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const form: ScaleForm = {
    tasks: Math.min(974, intFlag('--tasks', 974)),
    samples: intFlag('--samples', 100),
    batchSize: Math.min(5000, intFlag('--batch-size', 1000)),
    evalTasks: intFlag('--eval-tasks', 20),
  };
  const stack = await startLocalStack();
  try {
    console.log(`host: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} CPUs, load ${load()}`);
    console.log(`ILF dry-run iteration (SIMULATED models): ${form.tasks} MBPP tasks x ${form.samples} samples = ${form.tasks * form.samples} programs, sandbox batches of ${form.batchSize}; evaluation on ${form.evalTasks} MBPP_Test tasks`);
    await stack.runner.warmUp();
    const small = await runScaleIteration(stack, { ...form, tasks: 10, samples: 10 });
    const rssBefore = peakRssMiB();
    const big = await runScaleIteration(stack, form);
    const rssAfter = peakRssMiB();
    const audit = await timeAudit(big.campaignId, stack.databaseUrl);

    const programs = form.tasks * form.samples;
    const batches = Math.ceil(programs / form.batchSize);
    const largest = big.runs.reduce((a, r) => (r.largestPayload > a.largestPayload ? r : a));
    console.log(`wall time: ${big.seconds.toFixed(1)} s for the campaign (one iteration + its evaluation); ${(programs / big.seconds).toFixed(1)} programs/s`);
    console.log(`worker peak RSS: ${rssAfter.toFixed(0)} MiB (after the 100-program warm-up iteration: ${rssBefore.toFixed(0)} MiB)`);
    console.log(`iteration activities (count, summed schedule-to-close, sandbox-batches children included): ${big.activities.map((t) => `${t.type} ${t.count}x ${t.seconds.toFixed(1)} s`).join(', ')}`);
    for (const r of big.runs) console.log(`  run ${r.workflowId} (run …${r.runId.slice(-8)}): ${r.events} events, largest payload ${r.largestPayload} B`);
    console.log(`iteration history events: ${big.iterationEvents} at ${programs} programs (${batches} sandbox batches), ${small.iterationEvents} at 100 programs (1 batch)`);
    const child = big.largestChildRun;
    if (child) console.log(`sandbox-batches children: ${big.childRuns} runs in all; the largest run ${child.events} events (${child.activities.runTestsBatch ?? 0} batches, ${child.workflowId})`);
    console.log(`largest payload: ${largest.largestPayload} B (${largest.workflowId}), claim-check limit ${CLAIM_CHECK_LIMIT_BYTES} B`);
    console.log(`feedloop audit ${big.campaignId}: ${audit.seconds.toFixed(2)} s (${audit.lines} lines)`);
    if (big.iterationEvents !== small.iterationEvents) {
      console.log(`FAIL: the iteration's history grew with the programs (${small.iterationEvents} -> ${big.iterationEvents} events)`);
      process.exitCode = 1;
    }
    console.log(`load after: ${load()}`);
    if (largest.largestPayload >= CLAIM_CHECK_LIMIT_BYTES) process.exitCode = 1;
  } finally {
    await stack.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
