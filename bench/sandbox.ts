/**
 * `npm run bench:sandbox [-- --language python|java] [--repeat N] [--sample N]`: gold programs,
 * two ways, in one run:
 *  1. the feedloop sandbox (warm fork-servers, full isolation; Java through the warm javac);
 *  2. baseline: Python, one fresh `python3 -I -S` per program; Java (the 857 MBJP references
 *     that pass, known-broken.ts), MBXP's procedure: a fresh `javac`, then a fresh `java` per
 *     program (plain-java-runner.ts). A timeout and no isolation either way.
 * Both use the same interpreter/JDK and as many programs at once as there are CPUs. Checks that
 * both agree on every outcome and prints programs/s for each; the last line is the ratio.
 * Java also times RLCF's compile stage (compile alone with -Xlint:all, no run) in the sandbox.
 * With --repeat N the two alternate N times and the best pass of each counts (machines shared
 * with other work are noisy; the best pass is the least disturbed one). --sample N runs N
 * programs drawn with a fixed seed.
 *
 * --samples K (Python; default 5) adds, in the same run, the same programs K times each (as K
 * samples per task would be: 4,870 for MBPP), so that no single slow program (MBPP 123, 3.6 s
 * of CPU) bounds the figure, and the per-program overhead of each side: its wall time per
 * program minus the program's own CPU time (as the sandbox's cgroup measured it for that
 * program). Python also measures, in the same run, the floor: each program run by a fork from a
 * warm Python parent with no isolation and no judge (fork-floor-runner.ts); the last line is the
 * sandbox's per-program overhead as a multiple of the floor's (at --samples K when K > 1).
 * --profile also prints where each program's time goes in the sandbox, stage by stage.
 */
import os from 'node:os';
import { loadMbpp, mbppTests } from '../activities/datasets/mbpp';
import { sampleTasks } from '../activities/sandbox/dataset-check';
import { KNOWN_BROKEN } from '../activities/sandbox/known-broken';
import { referencePrograms } from '../activities/sandbox/reference-programs';
import { createForkFloorRunner } from './fork-floor-runner';
import { createPlainJavaRunner } from './plain-java-runner';
import { resolvePython } from '../activities/sandbox/isolation';
import { runMany } from '../common/run-many';
import { createSandboxRunner } from '../activities/sandbox/sandbox-runner';
import { createSubprocessRunner } from '../activities/sandbox/subprocess-runner';
import { DEFAULT_LIMITS, type Outcome, type ProgramSpec, type SandboxRunner } from '../activities/sandbox/types';

interface Pass {
  outcomes: Outcome[];
  /** wall time of each program's run, as the caller saw it */
  runMs: number[];
  /** CPU time of each program's run, where the runner measures it (the sandbox) */
  cpuMs: Array<number | undefined>;
  seconds: number;
  /** --profile: the server's time per stage of each run */
  profiles: Array<Record<string, number> | undefined>;
}

async function timePass(runner: SandboxRunner, specs: readonly ProgramSpec[], concurrency: number): Promise<Pass> {
  const outcomes: Outcome[] = new Array<Outcome>(specs.length);
  const runMs: number[] = new Array<number>(specs.length);
  const cpuMs: Array<number | undefined> = new Array<number | undefined>(specs.length);
  const profiles: Array<Record<string, number> | undefined> = new Array<Record<string, number> | undefined>(specs.length);
  const started = performance.now();
  await runMany(specs, concurrency, async (spec, i) => {
    const t0 = performance.now();
    const result = await runner.run(spec, DEFAULT_LIMITS);
    runMs[i] = performance.now() - t0;
    outcomes[i] = result.outcome;
    cpuMs[i] = result.cpuMs;
    profiles[i] = result.profile;
  });
  return { outcomes, runMs, cpuMs, profiles, seconds: (performance.now() - started) / 1000 };
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

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

interface Workload {
  ids: string[];
  specs: ProgramSpec[];
  baseline: SandboxRunner;
  labels: { sandbox: string; baseline: string };
  describe: string;
}

function workload(language: string, sample: number | undefined): Workload {
  if (language === 'python') {
    const tasks = sampleTasks(loadMbpp(), sample);
    const python = resolvePython();
    return {
      ids: tasks.map((t) => `MBPP ${t.taskId}`),
      specs: tasks.map((t) => ({ language: 'python', program: t.code, tests: mbppTests(t) })),
      baseline: createSubprocessRunner(python),
      labels: { sandbox: 'sandbox  (fork-servers, isolated):', baseline: 'baseline (fresh python3 -I -S):   ' },
      describe: `python: ${python}; ${tasks.length} MBPP gold programs`,
    };
  }
  if (language === 'java') {
    const programs = sampleTasks(
      referencePrograms('mbjp').programs.filter((p) => !KNOWN_BROKEN.mbjp[p.taskId]),
      sample,
    );
    return {
      ids: programs.map((p) => p.taskId),
      specs: programs.map((p) => p.spec),
      baseline: createPlainJavaRunner(),
      labels: { sandbox: 'sandbox  (warm javac, JVM per program, isolated):', baseline: 'baseline (fresh javac + fresh java per program):  ' },
      describe: `java: ${programs.length} MBJP reference programs that pass (of 966; known-broken and missing references left out)`,
    };
  }
  throw new Error(`--language must be python or java, not ${language}`);
}

async function main(): Promise<void> {
  const repeat = Math.max(1, Number(flag('--repeat')) || 1);
  const sample = flag('--sample') ? Math.max(1, Number(flag('--sample'))) : undefined;
  const language = flag('--language') ?? 'python';
  const { ids, specs, baseline: baselineRunner, labels, describe } = workload(language, sample);
  const concurrency = os.availableParallelism();
  console.log(`host: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${concurrency} CPUs, load ${load()}`);
  console.log(`${describe}; ${concurrency} at once; ${repeat} pass(es) each; limits ${JSON.stringify(DEFAULT_LIMITS)}`);

  const samples = language === 'python' ? Math.max(1, Number(flag('--samples') ?? 5) || 1) : 1;
  const repeated = samples > 1 ? specs.flatMap((spec) => Array.from({ length: samples }, () => spec)) : [];
  const profile = process.argv.includes('--profile');
  const sandbox = createSandboxRunner({ size: concurrency, profile });
  const fastPasses: Pass[] = [];
  const basePasses: Pass[] = [];
  let many: { fast: Pass; baseline: Pass } | undefined;
  const floorRunner = language === 'python' ? createForkFloorRunner(resolvePython(), concurrency) : undefined;
  let floor: { once: Pass; many?: Pass } | undefined;
  let poolStartMs = 0;
  let compileStage: { seconds: number; compiled: number } | undefined;
  try {
    const startedPool = performance.now();
    await sandbox.warmUp();
    poolStartMs = performance.now() - startedPool;
    for (let i = 0; i < repeat; i++) {
      fastPasses.push(await timePass(sandbox, specs, concurrency));
      basePasses.push(await timePass(baselineRunner, specs, concurrency));
    }
    if (floorRunner) floor = { once: await timePass(floorRunner, specs, concurrency) };
    if (repeated.length > 0) many = { fast: await timePass(sandbox, repeated, concurrency), baseline: await timePass(baselineRunner, repeated, concurrency) };
    if (floorRunner && floor && repeated.length > 0) floor.many = await timePass(floorRunner, repeated, concurrency);
    if (language === 'java') {
      const started = performance.now();
      let compiled = 0;
      await runMany(specs, concurrency, async (spec) => {
        if ((await sandbox.compileJava(spec.program, DEFAULT_LIMITS)).outcome === 'compiled') compiled++;
      });
      compileStage = { seconds: (performance.now() - started) / 1000, compiled };
    }
  } finally {
    await sandbox.close();
    await floorRunner?.close();
  }
  const best = (passes: Pass[]) => passes.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const fast = best(fastPasses);
  const baseline = best(basePasses);

  const disagreements = [...fastPasses, ...basePasses].flatMap((pass) =>
    ids.flatMap((id, i) => (pass.outcomes[i] === fast.outcomes[i] ? [] : [`${id} (${fast.outcomes[i]} vs ${pass.outcomes[i]})`])),
  );
  const fastRate = specs.length / fast.seconds;
  const baseRate = specs.length / baseline.seconds;
  const passes = (p: Pass[]) => (p.length > 1 ? `; passes ${p.map((x) => x.seconds.toFixed(2)).join(', ')} s` : '');
  console.log(`${labels.sandbox} ${fastRate.toFixed(1)} programs/s (${fast.seconds.toFixed(2)} s${passes(fastPasses)}; pool start ${poolStartMs.toFixed(0)} ms) - ${tally(fast.outcomes)}`);
  console.log(`${labels.baseline} ${baseRate.toFixed(1)} programs/s (${baseline.seconds.toFixed(2)} s${passes(basePasses)}) - ${tally(baseline.outcomes)}`);
  if (compileStage) {
    console.log(`RLCF compile stage (sandbox, program alone, -Xlint:all, no run): ${(specs.length / compileStage.seconds).toFixed(1)} programs/s (${compileStage.seconds.toFixed(2)} s) - compiled ${compileStage.compiled} of ${specs.length}`);
  }
  const slowest = fast.runMs.indexOf(Math.max(...fast.runMs));
  console.log(
    `median time per program: sandbox ${median(fast.runMs).toFixed(1)} ms, baseline ${median(baseline.runMs).toFixed(1)} ms; ` +
      `slowest program: ${ids[slowest]!} (${fast.runMs[slowest]!.toFixed(0)} ms in the sandbox), a floor for the sandbox's total`,
  );
  // Overhead per program: wall time minus the program's own CPU time (the sandbox's measure of it).
  const overhead = (pass: Pass, cpu: Pass) => median(pass.runMs.map((ms, i) => ms - (cpu.cpuMs[i] ?? 0)));
  if (fast.cpuMs.some((c) => c !== undefined)) {
    console.log(`median overhead per program (wall minus the program's CPU): sandbox ${overhead(fast, fast).toFixed(1)} ms, baseline ${overhead(baseline, fast).toFixed(1)} ms`);
  }
  let manyRatio: string | undefined;
  if (many) {
    const n = repeated.length;
    const [fr, br] = [n / many.fast.seconds, n / many.baseline.seconds];
    const differ = many.fast.outcomes.filter((o, i) => o !== many!.baseline.outcomes[i]).length;
    console.log(`--samples ${samples} (${n} programs): sandbox ${fr.toFixed(1)} programs/s (${many.fast.seconds.toFixed(2)} s), baseline ${br.toFixed(1)} programs/s (${many.baseline.seconds.toFixed(2)} s); outcomes differ on ${differ}`);
    console.log(`--samples ${samples} median overhead per program: sandbox ${overhead(many.fast, many.fast).toFixed(1)} ms, baseline ${overhead(many.baseline, many.fast).toFixed(1)} ms`);
    if (differ > 0) process.exitCode = 1;
    manyRatio = `ratio --samples ${samples} (${n} programs, sandbox vs a fresh python3 -I -S per program) ${(fr / br).toFixed(2)}`;
  }
  if (profile) {
    // Where the sandbox's time goes, per program (medians of the server's stages; "driver" is
    // the rest of the wall time the caller saw: the Node driver, its pipes, the queue).
    const pass = many?.fast ?? fast;
    const stages = [...new Set(pass.profiles.flatMap((p) => Object.keys(p ?? {})))];
    const parts = stages.map((stage) => `${stage} ${median(pass.profiles.map((p) => p?.[stage] ?? 0)).toFixed(2)}`);
    const driver = median(pass.runMs.map((ms, i) => ms - Object.values(pass.profiles[i] ?? {}).reduce((a, b) => a + b, 0)));
    console.log(`where a program's time goes in the sandbox (median ms): ${parts.join(', ')}, driver ${driver.toFixed(2)}`);
  }
  console.log(`load after: ${load()}`);
  if (disagreements.length > 0) {
    console.log(`outcomes disagree on ${disagreements.length} runs: ${disagreements.slice(0, 20).join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log(`outcomes agree on all ${specs.length} programs`);
  }
  console.log(`ratio ${(fastRate / baseRate).toFixed(2)}`);
  if (manyRatio) console.log(manyRatio);
  if (floor) {
    // The floor: a fork from a warm parent per program, no isolation, no judge. Overhead: wall
    // time minus the program's own CPU time as the floor measured it (program and tests run in
    // one plain process: what the program costs in any harness), the same subtraction for both.
    const [sandboxPass, floorPass, n] = many && floor.many ? [many.fast, floor.many, repeated.length] : [fast, floor.once, specs.length];
    const [sandboxOverhead, floorOverhead] = [overhead(sandboxPass, floorPass), overhead(floorPass, floorPass)];
    console.log(
      `floor (fork from a warm python3 per program, no isolation, no judge; ${n} programs): ${(n / floorPass.seconds).toFixed(1)} programs/s (${floorPass.seconds.toFixed(2)} s), ` +
        `sandbox ${(n / sandboxPass.seconds).toFixed(1)} programs/s; median overhead per program: sandbox ${sandboxOverhead.toFixed(2)} ms, floor ${floorOverhead.toFixed(2)} ms`,
    );
    console.log(`overhead multiple of the floor${many ? ` --samples ${samples}` : ''} ${(sandboxOverhead / floorOverhead).toFixed(2)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
