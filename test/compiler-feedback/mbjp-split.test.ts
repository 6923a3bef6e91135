import { describe, expect, it } from 'vitest';
import { loadMbjp, mathQaJavaEval, MBJP_SPLIT_SCHEMES, mbjpSplit, type JavaTask } from '../../activities/datasets/mbjp-split';
import { KNOWN_BROKEN } from '../../activities/sandbox/known-broken';

/** The MBJP split: deterministic by task number, references only where they pass. */
const ids = (tasks: JavaTask[] | undefined) => (tasks ?? []).map((t) => t.taskId);

describe('mbjpSplit', () => {
  it('splits by MBPP\'s own task-number ranges, with the sizes documented in the README', () => {
    const split = mbjpSplit();
    expect(split.scheme).toBe('mbpp');
    const sizes = Object.fromEntries(Object.entries(split.sets).map(([k, v]) => [k, v.length]));
    expect(sizes).toEqual({ prompt: 10, eval: 449, validation: 77, train: 321 });
    for (const [set, [lo, hi]] of Object.entries(MBJP_SPLIT_SCHEMES.mbpp)) {
      for (const t of split.sets[set as keyof typeof split.sets]!) expect(t.number >= lo && t.number <= hi, `${t.taskId} in ${set}`).toBe(true);
    }
    expect(ids(split.sets.train)[0]).toBe('MBJP/602');
    expect(split.sets.eval![0]!.taskId).toBe('MBJP/11');
  });

  it('never lets a known-broken or missing reference serve, and says why each task was left out', () => {
    const { tasks } = loadMbjp();
    for (const scheme of ['mbpp', 'ilf'] as const) {
      const split = mbjpSplit(scheme);
      const used = Object.values(split.sets).flatMap(ids);
      expect(new Set(used).size).toBe(used.length); // no task in two sets
      for (const id of Object.keys(KNOWN_BROKEN.mbjp)) expect(used).not.toContain(id);
      for (const t of Object.values(split.sets).flat()) expect(t.reference).toBe(tasks.find((x) => x.taskId === t.taskId)!.reference);
      for (const t of Object.values(split.sets).flat()) expect(t.reference).not.toBeNull();
      const known = split.excluded.filter((e) => KNOWN_BROKEN.mbjp[e.taskId]);
      expect(known.every((e) => e.reason === KNOWN_BROKEN.mbjp[e.taskId])).toBe(true);
      expect(split.excluded.filter((e) => !KNOWN_BROKEN.mbjp[e.taskId]).every((e) => e.reason.includes('no canonical solution'))).toBe(true);
    }
    const mbpp = mbjpSplit('mbpp');
    // every known-broken task lies in some range of the MBPP split (1-974 is covered)
    expect(mbpp.excluded.filter((e) => KNOWN_BROKEN.mbjp[e.taskId])).toHaveLength(17);
    expect(mbpp.excluded).toHaveLength(92 + 17);
  });

  it('is deterministic and offers the ILF ranges', () => {
    expect(ids(mbjpSplit('ilf').sets.train)).toEqual(ids(mbjpSplit('ilf').sets.train));
    const ilf = mbjpSplit('ilf');
    expect({ train: ilf.sets.train!.length, eval: ilf.sets.eval!.length }).toEqual({ train: 573, eval: 97 });
    expect(ilf.sets.validation).toBeUndefined();
  });

  it('keeps a reference as prompt + canonical solution, a full program', () => {
    const t = mbjpSplit().sets.train!.find((x) => x.taskId === 'MBJP/634')!;
    expect(t.reference!.startsWith(t.prompt)).toBe(true);
    expect(t.reference).toContain('return sum;');
    expect(t.description).toMatch(/fourth power of first n even natural/);
  });
});

describe('mathQaJavaEval', () => {
  it('is evaluation-only: every task, no references', () => {
    const tasks = mathQaJavaEval();
    expect(tasks).toHaveLength(1883);
    expect(tasks.every((t) => t.reference === null && t.entryPoint === 'problem' && t.tests.includes('class Main'))).toBe(true);
  });
});
