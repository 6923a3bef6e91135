import fs from 'node:fs';
import path from 'node:path';
import { DATA_DIR } from '../../infra/paths';
import { KNOWN_BROKEN } from '../sandbox/known-broken';

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
 */
export const MBJP_SPLIT_SCHEMES = {
  mbpp: { prompt: [1, 10], eval: [11, 510], validation: [511, 600], train: [601, 974] },
  ilf: { eval: [11, 110], train: [311, 974] },
} as const satisfies Record<string, Partial<Record<MbjpSet, readonly [number, number]>>>;
export type MbjpSplitScheme = keyof typeof MBJP_SPLIT_SCHEMES;
export type MbjpSet = 'prompt' | 'train' | 'validation' | 'eval';

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

interface MbxpRecord {
  task_id: string;
  prompt: string;
  entry_point: string;
  canonical_solution?: string | null;
  test: string;
  description?: string;
}

function readRecords(file: string): MbxpRecord[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MbxpRecord);
}

const NO_REFERENCE = 'MBJP has no canonical solution for this task';

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

export const MBJP_FILE = path.join(DATA_DIR, 'mbxp', 'mbjp_release_v1.2.jsonl');
export const MATHQA_JAVA_FILE = path.join(DATA_DIR, 'mbxp', 'mathqa-test-java_v1.jsonl');

/** Every MBJP task; `reference` is set only where the canonical solution is known to pass. */
export function loadMbjp(file = MBJP_FILE): { tasks: JavaTask[]; noReference: Map<string, string> } {
  const known = KNOWN_BROKEN.mbjp;
  const noReference = new Map<string, string>();
  const tasks = readRecords(file).map((r) => {
    const reason = !r.canonical_solution ? NO_REFERENCE : known[r.task_id];
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
  return readRecords(file).map((r) => toTask(r, null));
}
