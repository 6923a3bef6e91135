/**
 * `npm run bench:sandbox [-- --repeat N]`: all 974 MBPP gold programs, two ways, in one run:
 *  1. the feedloop sandbox (warm fork-servers, full isolation);
 *  2. baseline: one fresh `python3 -I -S` per program, with a timeout and no isolation.
 * Both use the same interpreter and as many programs at once as there are CPUs. Checks that
 * both agree on every outcome and prints programs/s for each; the last line is the ratio.
 * With --repeat N the two alternate N times and the best pass of each counts (machines shared
 * with other work are noisy; the best pass is the least disturbed one).
 */
import os from 'node:os';
import { loadMbpp, mbppTests } from '../activities/datasets/mbpp';
import { resolvePython } from '../activities/sandbox/isolation';
import { runMany } from '../common/run-many';
import { createSandboxRunner } from '../activities/sandbox/sandbox-runner';
import { createSubprocessRunner } from '../activities/sandbox/subprocess-runner';
import { DEFAULT_LIMITS, type Outcome, type ProgramSpec, type SandboxRunner } from '../activities/sandbox/types';

interface Pass {
  outcomes: Outcome[];
  /** wall time of each program's run, as the caller saw it */
  runMs: number[];
  seconds: number;
}

async function timePass(runner: SandboxRunner, specs: readonly ProgramSpec[], concurrency: number): Promise<Pass> {
  const outcomes: Outcome[] = new Array<Outcome>(specs.length);
  const runMs: number[] = new Array<number>(specs.length);
  const started = performance.now();
  await runMany(specs, concurrency, async (spec, i) => {
    const t0 = performance.now();
    outcomes[i] = (await runner.run(spec, DEFAULT_LIMITS)).outcome;
    runMs[i] = performance.now() - t0;
  });
  return { outcomes, runMs, seconds: (performance.now() - started) / 1000 };
}

function tally(outcomes: readonly Outcome[]): string {
  const counts = new Map<Outcome, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  return [...counts].map(([o, n]) => `${o} ${n}`).join(', ');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const repeatFlag = process.argv.indexOf('--repeat');
  const repeat = repeatFlag >= 0 ? Math.max(1, Number(process.argv[repeatFlag + 1]) || 1) : 1;
  const tasks = loadMbpp();
  const specs: ProgramSpec[] = tasks.map((t) => ({ language: 'python', program: t.code, tests: mbppTests(t) }));
  const concurrency = os.availableParallelism();
  const python = resolvePython();
  console.log(`host: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${concurrency} CPUs, load ${load()}`);
  console.log(`python: ${python}; ${specs.length} MBPP gold programs; ${concurrency} at once; ${repeat} pass(es) each; limits ${JSON.stringify(DEFAULT_LIMITS)}`);

  const sandbox = createSandboxRunner({ size: concurrency });
  const baselineRunner = createSubprocessRunner(python);
  const fastPasses: Pass[] = [];
  const basePasses: Pass[] = [];
  let poolStartMs = 0;
  try {
    const startedPool = performance.now();
    await sandbox.warmUp();
    poolStartMs = performance.now() - startedPool;
    for (let i = 0; i < repeat; i++) {
      fastPasses.push(await timePass(sandbox, specs, concurrency));
      basePasses.push(await timePass(baselineRunner, specs, concurrency));
    }
  } finally {
    await sandbox.close();
  }
  const best = (passes: Pass[]) => passes.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const fast = best(fastPasses);
  const baseline = best(basePasses);

  const disagreements = [...fastPasses, ...basePasses].flatMap((pass) =>
    tasks.flatMap((t, i) => (pass.outcomes[i] === fast.outcomes[i] ? [] : [`${t.taskId} (${fast.outcomes[i]} vs ${pass.outcomes[i]})`])),
  );
  const fastRate = specs.length / fast.seconds;
  const baseRate = specs.length / baseline.seconds;
  const passes = (p: Pass[]) => (p.length > 1 ? `; passes ${p.map((x) => x.seconds.toFixed(2)).join(', ')} s` : '');
  console.log(`sandbox  (fork-servers, isolated): ${fastRate.toFixed(1)} programs/s (${fast.seconds.toFixed(2)} s${passes(fastPasses)}; pool start ${poolStartMs.toFixed(0)} ms) - ${tally(fast.outcomes)}`);
  console.log(`baseline (fresh python3 -I -S):    ${baseRate.toFixed(1)} programs/s (${baseline.seconds.toFixed(2)} s${passes(basePasses)}) - ${tally(baseline.outcomes)}`);
  const slowest = fast.runMs.indexOf(Math.max(...fast.runMs));
  console.log(
    `median time per program: sandbox ${median(fast.runMs).toFixed(1)} ms, baseline ${median(baseline.runMs).toFixed(1)} ms; ` +
      `slowest program: MBPP ${tasks[slowest]!.taskId} (${fast.runMs[slowest]!.toFixed(0)} ms in the sandbox), a floor for the sandbox's total`,
  );
  console.log(`load after: ${load()}`);
  if (disagreements.length > 0) {
    console.log(`outcomes disagree on ${disagreements.length} runs: ${disagreements.slice(0, 20).join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log(`outcomes agree on all ${specs.length} programs`);
  }
  console.log(`ratio ${(fastRate / baseRate).toFixed(2)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
