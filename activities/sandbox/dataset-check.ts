import os from 'node:os';
import { mulberry32 } from '../simulation/seeded-random';
import { KNOWN_BROKEN } from './known-broken';
import { referencePrograms, type CheckDataset, type ReferenceProgram } from './reference-programs';
import { runMany } from '../../common/run-many';
import { DEFAULT_LIMITS, type Outcome, type SandboxLimits, type SandboxRunner } from './types';

/**
 * Runs every reference solution of a dataset against its tests: a check of the sandbox (gold
 * programs must pass) and of the dataset (known-broken references are listed with a reason).
 */
export interface CheckOptions {
  concurrency?: number;
  /** run only this many tasks, drawn with `seed` (default: all) */
  sample?: number;
  seed?: number;
  limits?: Partial<SandboxLimits>;
  onProgress?: (done: number, total: number) => void;
}

export interface NotPassed {
  taskId: string;
  outcome: Outcome;
  detail: string;
  /** the reason, when the reference is known to be broken */
  knownBroken?: string;
}

export interface CheckSummary {
  dataset: CheckDataset;
  total: number;
  /** tasks without a reference solution (not run) */
  skipped: number;
  outcomes: Partial<Record<Outcome, number>>;
  wallSeconds: number;
  programsPerSecond: number;
  /** ids of the tasks whose reference did not pass */
  notPassedIds: string[];
  notPassed: NotPassed[];
  /** not passed and not known to be broken: a sandbox or dataset problem to look at */
  unexpected: string[];
  /** known to be broken but passed this time */
  knownBrokenPassed: string[];
  host: { cpuModel: string | undefined; cpus: number; loadavg: number[] };
}

export function sampleTasks<T>(items: readonly T[], sample: number | undefined, seed = 1): T[] {
  if (sample === undefined || sample >= items.length) return [...items];
  const random = mulberry32(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, sample);
}

export async function checkDataset(runner: SandboxRunner, dataset: CheckDataset, options: CheckOptions = {}): Promise<CheckSummary> {
  const reference = referencePrograms(dataset);
  const programs: ReferenceProgram[] = sampleTasks(reference.programs, options.sample, options.seed);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const known = KNOWN_BROKEN[dataset];
  const outcomes: Partial<Record<Outcome, number>> = {};
  const notPassed: NotPassed[] = [];
  const passed = new Set<string>();
  let done = 0;
  const started = performance.now();
  await runMany(programs, options.concurrency ?? os.availableParallelism(), async ({ taskId, spec }) => {
    const result = await runner.run(spec, limits);
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    if (result.outcome === 'passed') passed.add(taskId);
    else notPassed.push({ taskId, outcome: result.outcome, detail: result.detail ?? '', ...(known[taskId] ? { knownBroken: known[taskId] } : {}) });
    options.onProgress?.(++done, programs.length);
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const order = new Map(programs.map((p, i) => [p.taskId, i]));
  notPassed.sort((a, b) => order.get(a.taskId)! - order.get(b.taskId)!);
  return {
    dataset,
    total: programs.length,
    skipped: reference.skipped.length,
    outcomes,
    wallSeconds,
    programsPerSecond: programs.length / wallSeconds,
    notPassedIds: notPassed.map((n) => n.taskId),
    notPassed,
    unexpected: notPassed.filter((n) => !n.knownBroken).map((n) => n.taskId),
    knownBrokenPassed: programs.filter((p) => known[p.taskId] && passed.has(p.taskId)).map((p) => p.taskId),
    host: { cpuModel: os.cpus()[0]?.model, cpus: os.availableParallelism(), loadavg: os.loadavg() },
  };
}
