import { afterAll, describe, expect, it } from 'vitest';
import { goldHoneypot, mutantHoneypot, programLines } from '../../loops/crlhf/activities/honeypots';
import { selectTasks } from '../../activities/datasets/registry';
import { createSandboxRunner } from '../../activities/sandbox/sandbox-runner';
import { resolveLimits } from '../../activities/sandbox/types';
import { SeededRandom } from '../../activities/simulation/seeded-random';

/**
 * Honeypots from MBPP gold solutions, checked in the real sandbox: a mutant's changed lines are
 * known wrong (each breaks the tests on its own), its other lines known right, the whole mutant
 * fails; an untouched gold program passes and every line is known right.
 */
const runner = createSandboxRunner({ size: 2 });
afterAll(async () => runner.close());

const tasks = selectTasks({ dataset: 'mbpp', split: 'refine', maxTasks: 6 }).filter((t) => t.reference);
const limits = { cpuMs: 5000, wallMs: 10_000, memoryMb: 512 };

describe('cRLHF honeypots', () => {
  it('mutates lines so the sandbox confirms the program fails, and records which lines changed', { timeout: 120_000 }, async () => {
    let built = 0;
    for (const [i, task] of tasks.entries()) {
      const source = { gold: task.reference!, tests: task.tests, language: 'python' as const };
      const hp = await mutantHoneypot(runner, source, limits, new SeededRandom('hp-test', i), 2);
      if (!hp) continue;
      built++;
      const gold = programLines(task.reference!);
      const lines = hp.program.split('\n');
      expect(lines).toHaveLength(gold.length);
      expect(hp.knownCorrect).toHaveLength(gold.length);
      // changed lines are exactly the known-wrong ones
      lines.forEach((l, n) => expect(l === gold[n]).toBe(hp.knownCorrect[n]));
      expect(hp.changes.length).toBeGreaterThanOrEqual(1);
      expect(hp.changes.length).toBeLessThanOrEqual(2);
      expect(hp.changes.map((c) => c.line)).toEqual(hp.knownCorrect.flatMap((ok, n) => (ok ? [] : [n + 1])));
      // the sandbox, run again here: the mutant fails its tests
      const run = await runner.run({ language: 'python', program: hp.program, tests: task.tests }, resolveLimits(limits));
      expect(run.outcome).not.toBe('passed');
      expect(hp.testOutput).toMatch(/^(failed|runtime_error|timeout|compile_error)/);
    }
    expect(built).toBeGreaterThanOrEqual(4);
  });

  it('keeps an untouched gold program only when the sandbox confirms it passes', { timeout: 60_000 }, async () => {
    const task = tasks[0]!;
    const hp = await goldHoneypot(runner, { gold: task.reference!, tests: task.tests, language: 'python' }, limits);
    expect(hp).toMatchObject({ kind: 'gold', changes: [] });
    expect(hp!.knownCorrect.every(Boolean)).toBe(true);
    expect(hp!.testOutput).toMatch(/^passed/);
    // a "gold" program that fails its tests is no honeypot
    expect(await goldHoneypot(runner, { gold: 'def nothing():\n    return 1', tests: task.tests, language: 'python' }, limits)).toBeUndefined();
  });
});
