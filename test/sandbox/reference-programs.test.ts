import { describe, expect, it } from 'vitest';
import { loadMbpp, mbppTests } from '../../activities/datasets/mbpp';
import { checkDataset, sampleTasks } from '../../activities/sandbox/dataset-check';
import { resolvePython } from '../../activities/sandbox/isolation';
import { KNOWN_BROKEN } from '../../activities/sandbox/known-broken';
import { referencePrograms } from '../../activities/sandbox/reference-programs';
import { runMany } from '../../common/run-many';
import { useSandboxRunner } from '../helpers/sandbox';
import { createSubprocessRunner } from '../../activities/sandbox/subprocess-runner';
import { DEFAULT_LIMITS, type Outcome } from '../../activities/sandbox/types';
import { firstMutants } from './helpers/mutants';

/**
 * Gold programs pass (except references known to be broken, listed with the reason in
 * activities/sandbox/known-broken.ts); mutated gold programs do not.
 */
const runner = useSandboxRunner();

describe('reference solutions', () => {
  it('passes all 974 MBPP gold programs', async () => {
    const summary = await checkDataset(runner, 'mbpp');
    expect(summary.total).toBe(974);
    expect(summary.notPassed).toEqual([]);
    expect(summary.outcomes).toEqual({ passed: 974 });
  });

  it('passes all 164 HumanEval canonical solutions', async () => {
    const summary = await checkDataset(runner, 'humaneval');
    expect(summary.total).toBe(164);
    expect(summary.notPassed).toEqual([]);
  });

  it('passes a seeded sample of MBJP references, and fails exactly the known-broken ones for their reason', async () => {
    const known = KNOWN_BROKEN.mbjp;
    const all = referencePrograms('mbjp');
    expect(all.programs).toHaveLength(874);
    expect(all.skipped).toHaveLength(92);
    const sample = sampleTasks(
      all.programs.filter((p) => !known[p.taskId]),
      40,
      2024,
    );
    const broken = all.programs.filter((p) => known[p.taskId]);
    const outcomes = new Map<string, Outcome>();
    await runMany([...sample, ...broken], 2, async (p) => {
      outcomes.set(p.taskId, (await runner.run(p.spec, DEFAULT_LIMITS)).outcome);
    });
    for (const p of sample) expect(`${p.taskId}: ${outcomes.get(p.taskId)}`).toBe(`${p.taskId}: passed`);
    for (const p of broken) {
      const expected = known[p.taskId]!.includes('System.exit') ? 'runtime_error' : 'compile_error';
      expect(`${p.taskId}: ${outcomes.get(p.taskId)}`).toBe(`${p.taskId}: ${expected}`);
    }
  });
});

describe('mutated gold programs', () => {
  /**
   * Mutants that MBPP's three asserts cannot tell from the gold program (weak tests, not the
   * sandbox): e.g. `a > 360` -> `a >= 360` when no test uses 360. The fresh-interpreter
   * baseline agrees on every one of them.
   */
  const SURVIVORS = [
    '29:off-by-one',
    '110:compare-flip',
    '113:bool-flip',
    '159:compare-flip',
    '159:off-by-one',
    '217:off-by-one',
    '315:arith-flip',
    '577:compare-flip',
    '577:off-by-one',
    '761:compare-flip',
    '815:compare-flip',
    '899:arith-flip',
    '899:compare-flip',
  ];

  it('does not pass operator flips and off-by-ones, in agreement with a fresh interpreter per program', async () => {
    const tasks = sampleTasks(loadMbpp(), 40, 7);
    const jobs = tasks.flatMap((task) => firstMutants(task.code).map((mutant) => ({ task, mutant })));
    expect(jobs.length).toBeGreaterThan(80);
    const baseline = createSubprocessRunner(resolvePython());
    const limits = { ...DEFAULT_LIMITS, cpuMs: 1000, wallMs: 2000 };
    const survivors: string[] = [];
    const disagreements: string[] = [];
    await runMany(jobs, 2, async ({ task, mutant }) => {
      const spec = { language: 'python' as const, program: mutant.program, tests: mbppTests(task) };
      const [ours, fresh] = [await runner.run(spec, limits), await baseline.run(spec, limits)];
      expect(ours.outcome).not.toBe('infra_error');
      if (ours.outcome !== fresh.outcome) disagreements.push(`${task.taskId}:${mutant.kind} ${ours.outcome} vs ${fresh.outcome}`);
      if (ours.outcome === 'passed') survivors.push(`${task.taskId}:${mutant.kind}`);
    });
    expect(disagreements).toEqual([]);
    expect(survivors.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))).toEqual(SURVIVORS);
    expect(jobs.length - survivors.length).toBeGreaterThan(70);
  });
});
