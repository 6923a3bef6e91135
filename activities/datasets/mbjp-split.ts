import { MBJP_SPLIT_SCHEMES, type MbjpSet, type MbjpSplitScheme } from '../../common/datasets';
import { MBXP_FILES, mbjpReferenceWithheld, readMbxpRecords, type MbxpRecord } from './registry';

/**
 * MBJP (MBPP in Java, from MBXP) and MathQA-Java for the RLCF loop, split deterministically by
 * task number. MBJP keeps MBPP's task numbers (MBJP/n is MBPP task n translated; 8 numbers have
 * no Java version), so MBPP's own split applies unchanged:
 *
 * - `mbpp` (default): the split published with MBPP (Austin et al. 2021): 1-10 few-shot prompt
 *   examples, 11-510 test, 511-600 validation, 601-974 train. It is the split MBPP results are
 *   reported on, and its 500-task test range keeps evaluation variance low.
 * - `ilf`: the split feedloop's ILF loop uses (Chen, Scheurer et al. 2023): 11-110 test,
 *   311-974 train (111-310 is ILF's Refine set, unused here): more training tasks, a smaller
 *   test set; comparable with the ILF campaign's numbers.
 *
 * Only tasks whose reference solution passes its own tests in the sandbox enter a set: RLCF's
 * discriminator compares a program with the reference, and a passing reference shows the tests
 * can be passed. So tasks without a canonical solution (92) and the 17 known-broken references
 * (known-broken.ts) never serve as references; `excluded` names each with its reason.
 * MathQA-Java has no reference solutions and is evaluation-only.
 *
 * The records come from the dataset registry's MBXP reader, and the ranges from the one split
 * table (common/datasets.ts), which RLCF's workflow reads too.
 */
export { MBJP_SPLIT_SCHEMES, type MbjpSet, type MbjpSplitScheme } from '../../common/datasets';

export interface JavaTask {
  taskId: string;
  /** MBPP task number (MBJP), problem number (MathQA) */
  number: number;
  description: string;
  /** the class and method header the program completes */
  prompt: string;
  entryPoint: string;
  /** MBXP's test harness (class Main) */
  tests: string;
  /** prompt + canonical solution: a full program; null when the task has none that passes */
  reference: string | null;
}

export interface ExcludedTask {
  taskId: string;
  set: MbjpSet;
  reason: string;
}

export interface MbjpSplit {
  scheme: MbjpSplitScheme;
  sets: Partial<Record<MbjpSet, JavaTask[]>>;
  excluded: ExcludedTask[];
}

function toTask(r: MbxpRecord, reference: string | null): JavaTask {
  return {
    taskId: r.task_id,
    number: Number(r.task_id.split('/')[1]),
    description: (r.description ?? '').trim(),
    prompt: r.prompt,
    entryPoint: r.entry_point,
    tests: r.test,
    reference,
  };
}

export const MBJP_FILE = MBXP_FILES.mbjp;
export const MATHQA_JAVA_FILE = MBXP_FILES['mathqa-java'];

/** Every MBJP task; `reference` is set only where the canonical solution is known to pass. */
export function loadMbjp(file = MBJP_FILE): { tasks: JavaTask[]; noReference: Map<string, string> } {
  const noReference = new Map<string, string>();
  const tasks = readMbxpRecords(file).map((r) => {
    const reason = mbjpReferenceWithheld(r);
    if (reason) noReference.set(r.task_id, reason);
    return toTask(r, reason ? null : r.prompt + r.canonical_solution!);
  });
  return { tasks, noReference };
}

export function mbjpSplit(scheme: MbjpSplitScheme = 'mbpp', file = MBJP_FILE): MbjpSplit {
  const ranges: Partial<Record<MbjpSet, readonly [number, number]>> = MBJP_SPLIT_SCHEMES[scheme];
  const { tasks, noReference } = loadMbjp(file);
  const sets: Partial<Record<MbjpSet, JavaTask[]>> = {};
  const excluded: ExcludedTask[] = [];
  for (const [set, [lo, hi]] of Object.entries(ranges) as [MbjpSet, readonly [number, number]][]) {
    const inRange = tasks.filter((t) => t.number >= lo && t.number <= hi);
    sets[set] = inRange.filter((t) => t.reference !== null);
    for (const t of inRange) if (t.reference === null) excluded.push({ taskId: t.taskId, set, reason: noReference.get(t.taskId)! });
  }
  return { scheme, sets, excluded };
}

/** MathQA-Java (test split only, no reference solutions): evaluation only. */
export function mathQaJavaEval(file = MATHQA_JAVA_FILE): JavaTask[] {
  return readMbxpRecords(file).map((r) => toTask(r, null));
}
