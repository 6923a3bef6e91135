import { CHECK_DATASETS, type CheckDataset } from '../../common/datasets';
import { codeDataset, programSpec } from '../datasets/registry';
import type { ProgramSpec } from './types';

/**
 * The reference (gold) solutions of the code datasets, as sandbox programs, joined with their
 * tests the way each benchmark's own harness does (activities/datasets/registry.ts):
 *  - MBPP: code, then test_setup_code and the asserts;
 *  - HumanEval: prompt + canonical_solution, then the test's check(entry_point);
 *  - MBJP (MBXP Java): prompt + canonical_solution + test in one Main.java.
 * Known-broken references are included: `sandbox check` must show that exactly they fail.
 */
export { CHECK_DATASETS, type CheckDataset };

export interface ReferenceProgram {
  taskId: string;
  spec: ProgramSpec;
}

export interface ReferenceSet {
  programs: ReferenceProgram[];
  /** tasks without a reference solution */
  skipped: string[];
}

export function referencePrograms(dataset: CheckDataset): ReferenceSet {
  const ds = codeDataset(dataset);
  const tasks = ds.tasks();
  return {
    programs: tasks.flatMap((t) => (t.canonical === undefined ? [] : [{ taskId: t.taskId, spec: programSpec(ds, t, t.canonical) }])),
    skipped: tasks.filter((t) => t.canonical === undefined).map((t) => t.taskId),
  };
}
