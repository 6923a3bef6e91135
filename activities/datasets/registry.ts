import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { CODE_DATASETS, type CodeDatasetName, type TaskSelection } from '../../common/datasets';
import type { Language, ProgramSpec, SandboxLimits } from '../sandbox/types';
import { isFileDatasetName, parseFileDatasetName } from '../../common/dataset-file';
import { checkSplits, loadTaskFile, splitIds, TaskFileInvalid } from './task-file';
import { DATA_DIR } from '../../infra/paths';
import { KNOWN_BROKEN } from '../sandbox/known-broken';
import { apiBenchPrompt, apiBenchQuestion } from './apibench';
import { loadMbpp, MBPP_SPLITS, mbppPrompt, mbppTests } from './mbpp';
import { familyCodeTask, registeredFamily } from './synthetic';

/**
 * The code datasets, registered by name, each giving the same things: its tasks in a stable
 * order, splits as ranges of task numbers, the prompt a model completes, the tests, the
 * language, and the reference solution where there is one. Generation, test batches,
 * evaluation and pass@k take any of them, Python or Java.
 */
export interface CodeTask {
  /** as the dataset spells it: "11" (MBPP), "HumanEval/0", "MBJP/1", "MathQA/0" */
  taskId: string;
  /** the number in the id: what split ranges and task ranges select by */
  number: number;
  prompt: string;
  /** Python: statements run after the program; Java: the MBXP test harness */
  tests: string;
  /** a complete reference program, where the dataset has a usable one */
  reference?: string;
  /** the dataset's own reference program, even one known to fail its tests (what `sandbox check` runs) */
  canonical?: string;
  /** the task in words and its tests one by one, where the dataset has them (MBPP's `text` and `testList`; MBXP's and the family's description): what ILF's feedback and refinement prompts and RLCF's discriminator show */
  text?: string;
  testList?: readonly string[];
  /** a dataset file's per-task limits, over the run's */
  limits?: Partial<SandboxLimits>;
}

export interface CodeDataset {
  /** a built-in dataset, or a dataset file's name (common/dataset-file.ts) */
  name: CodeDatasetName | (string & {});
  language: Language;
  /** named splits, as inclusive ranges of task numbers */
  splits: Readonly<Record<string, readonly [number, number]>>;
  /** all tasks, ordered by number */
  tasks(): readonly CodeTask[];
  /** a dataset file: the tasks of a split by id (lists, or shares of a hash of the id) */
  splitTasks?(split: string): readonly CodeTask[];
  /** a dataset file: its SHA-256 */
  sha256?: string;
}

function readJsonl<T>(file: string): T[] {
  const raw = fs.readFileSync(file);
  const text = file.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

const numberOf = (taskId: string) => Number(/(\d+)$/.exec(taskId)?.[1] ?? NaN);
const byNumber = (a: CodeTask, b: CodeTask) => a.number - b.number;

function cached(load: () => CodeTask[]): () => readonly CodeTask[] {
  let tasks: CodeTask[] | undefined;
  return () => (tasks ??= load().sort(byNumber));
}

interface HumanEvalRecord {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
}

/** A record of an MBXP file (MBJP, MathQA-Java), as the release spells it. */
export interface MbxpRecord {
  task_id: string;
  prompt: string;
  entry_point: string;
  canonical_solution?: string | null;
  test: string;
  description?: string;
}

/** The MBXP files feedloop ships (data/mbxp/). */
export const MBXP_FILES = {
  mbjp: path.join(DATA_DIR, 'mbxp', 'mbjp_release_v1.2.jsonl'),
  'mathqa-java': path.join(DATA_DIR, 'mbxp', 'mathqa-test-java_v1.jsonl'),
} as const;

/** Every record of an MBXP file: the one reader of MBJP and MathQA-Java (the registry and mbjp-split.ts). */
export function readMbxpRecords(file: string): MbxpRecord[] {
  return readJsonl<MbxpRecord>(file);
}

/**
 * Why an MBJP record's reference is never served (no canonical solution, or one known to fail its
 * own tests: activities/sandbox/known-broken.ts says why), or undefined where it serves.
 */
export function mbjpReferenceWithheld(r: Pick<MbxpRecord, 'task_id' | 'canonical_solution'>): string | undefined {
  return !r.canonical_solution ? 'MBJP has no canonical solution for this task' : KNOWN_BROKEN.mbjp[r.task_id];
}

/**
 * HumanEval's harness: the program (prompt + completion), then the test's check(entry_point).
 * Helpers the prompt defines before the entry point (32's `poly`, 38's `encode_cyclic`) and the
 * test calls come from the dataset's own prompt, ahead of the test: the tests then use the
 * trusted definitions, never a program's redefinition (the entry point is still the program's).
 */
export function humanEvalTests(r: Pick<HumanEvalRecord, 'test' | 'entry_point' | 'prompt'>): string {
  return `${promptHelpers(r.prompt, r.entry_point)}${r.test}\n\ncheck(${r.entry_point})\n`;
}

/** The prompt's code ahead of `def ENTRY_POINT(`, when it defines a function or class; else ''. */
export function promptHelpers(prompt: string, entryPoint: string): string {
  const entry = new RegExp(`^def ${entryPoint.replace(/[^\w]/g, '')}\\(`, 'm').exec(prompt);
  const head = entry ? prompt.slice(0, entry.index) : '';
  return /^(def|class) /m.test(head) ? `${head.trimEnd()}\n\n\n` : '';
}


function mbxpTasks(file: string, withReferences: boolean): CodeTask[] {
  return readMbxpRecords(file).map((r) => ({
    taskId: r.task_id,
    number: numberOf(r.task_id),
    prompt: r.prompt,
    ...(r.description ? { text: r.description.trim() } : {}),
    tests: r.test,
    // A missing reference, or one known to fail its own tests, is never served: no policy is
    // trained or judged against it.
    ...(withReferences && !mbjpReferenceWithheld(r) ? { reference: r.prompt + r.canonical_solution } : {}),
    ...(r.canonical_solution ? { canonical: r.prompt + r.canonical_solution } : {}),
  }));
}

const DATASETS: Record<CodeDatasetName, CodeDataset> = {
  mbpp: {
    name: 'mbpp',
    language: 'python',
    // The ILF paper's splits (Chen, Scheurer et al. 2023).
    splits: MBPP_SPLITS,
    tasks: cached(() =>
      loadMbpp().map((t) => ({ taskId: String(t.taskId), number: t.taskId, prompt: mbppPrompt(t), tests: mbppTests(t), reference: t.code, canonical: t.code, text: t.text, testList: t.testList })),
    ),
  },
  humaneval: {
    name: 'humaneval',
    language: 'python',
    splits: { test: [0, 163], all: [0, 163] },
    tasks: cached(() =>
      readJsonl<HumanEvalRecord>(path.join(DATA_DIR, 'humaneval', 'HumanEval.jsonl.gz')).map((r) => ({
        taskId: r.task_id,
        number: numberOf(r.task_id),
        prompt: r.prompt,
        tests: humanEvalTests(r),
        reference: r.prompt + r.canonical_solution,
        canonical: r.prompt + r.canonical_solution,
      })),
    ),
  },
  mbjp: {
    name: 'mbjp',
    language: 'java',
    // MBJP translates MBPP task by task (same numbers), so MBPP's splits carry over.
    splits: MBPP_SPLITS,
    tasks: cached(() => mbxpTasks(MBXP_FILES.mbjp, true)),
  },
  'mathqa-java': {
    name: 'mathqa-java',
    language: 'java',
    // The test split only, without reference solutions: evaluation only.
    splits: { test: [0, 1882], all: [0, 1882] },
    tasks: cached(() => mbxpTasks(MBXP_FILES['mathqa-java'], false)),
  },
  // The synthetic family (activities/datasets/synthetic): split by combination into pretrain
  // (the starting policy's corpus), train (the loops' tasks) and test (held-out combinations).
  synth: {
    name: 'synth',
    language: 'python',
    get splits() {
      return registeredFamily().splits;
    },
    tasks: cached(() => registeredFamily().tasks.map((t) => familyCodeTask(t, 'python'))),
  },
  'synth-java': {
    name: 'synth-java',
    language: 'java',
    get splits() {
      return registeredFamily().splits;
    },
    tasks: cached(() => registeredFamily().tasks.map((t) => familyCodeTask(t, 'java'))),
  },
};

export function isCodeDataset(name: string): name is CodeDatasetName {
  return (CODE_DATASETS as readonly string[]).includes(name);
}

const fileDatasets = new Map<string, CodeDataset>();

/**
 * A dataset file named by a campaign (common/dataset-file.ts): its tasks, one language, its
 * splits. Its bytes must be those pinned when the campaign started (sha256): a changed file
 * fails the activity for good rather than serve other tasks.
 */
function fileDataset(name: string): CodeDataset {
  const cached = fileDatasets.get(name);
  if (cached) return cached;
  const ref = parseFileDatasetName(name);
  let file;
  try {
    file = loadTaskFile(ref.path);
  } catch (err) {
    const detail = err instanceof TaskFileInvalid ? err.message : `${ref.path}: ${(err as Error).message}`;
    throw ApplicationFailure.nonRetryable(`dataset file invalid: ${detail}`, 'InvalidConfig');
  }
  if (ref.sha256 && file.sha256 !== ref.sha256) {
    throw ApplicationFailure.nonRetryable(`dataset file ${ref.path} changed since the campaign started (sha256 ${file.sha256}, pinned ${ref.sha256})`, 'InvalidConfig');
  }
  const languages = new Set(file.tasks.map((t) => t.language));
  if (languages.size !== 1) throw ApplicationFailure.nonRetryable(`dataset file ${ref.path} mixes languages (${[...languages].join(', ')}): a campaign's dataset has one`, 'InvalidConfig');
  const ids = file.tasks.map((t) => t.taskId);
  const problems = checkSplits(ref.splits, ids);
  if (problems.length) throw ApplicationFailure.nonRetryable(`dataset file ${ref.path}: ${problems.join('; ')}`, 'InvalidConfig');
  const byId = new Map(file.tasks.map((t) => [t.taskId, t]));
  const tasks: CodeTask[] = file.tasks.map((t) => ({
    taskId: t.taskId,
    number: t.number,
    prompt: t.prompt,
    tests: t.tests,
    ...(t.reference !== undefined ? { reference: t.reference, canonical: t.reference } : {}),
    ...(t.limits ? { limits: t.limits } : {}),
  }));
  const dataset: CodeDataset = {
    name,
    language: file.tasks[0]!.language,
    splits: { all: [1, tasks.length] },
    tasks: () => tasks,
    splitTasks: (split) => {
      if (split === 'all') return tasks;
      if (!(split in ref.splits)) throw ApplicationFailure.nonRetryable(`dataset file ${ref.path} has no split ${JSON.stringify(split)}: use one of ${Object.keys(ref.splits).join(', ')}`, 'InvalidConfig');
      const chosen = new Set(splitIds(ref.splits, split, ids));
      return tasks.filter((t) => chosen.has(t.taskId) && byId.has(t.taskId));
    },
    sha256: file.sha256,
  };
  fileDatasets.set(name, dataset);
  return dataset;
}

export function codeDataset(name: string): CodeDataset {
  if (isFileDatasetName(name)) return fileDataset(name);
  if (!isCodeDataset(name)) {
    throw ApplicationFailure.nonRetryable(`dataset must be one of ${CODE_DATASETS.join(', ')}, got ${JSON.stringify(name)}`, 'InvalidConfig');
  }
  return DATASETS[name];
}

/** The tasks a selection names: a split or an explicit number range, cut to the first maxTasks. */
export function selectTasks(sel: Pick<TaskSelection, 'dataset' | 'split' | 'taskRange' | 'maxTasks' | 'requireReference'>): readonly CodeTask[] {
  const ds = codeDataset(sel.dataset);
  if (ds.splitTasks) {
    const tasks = ds.splitTasks(sel.split).filter((t) => !sel.requireReference || t.reference !== undefined);
    return sel.maxTasks === undefined ? tasks : tasks.slice(0, sel.maxTasks);
  }
  const range = sel.taskRange ?? ds.splits[sel.split];
  if (!range) {
    throw ApplicationFailure.nonRetryable(`${ds.name} has no split ${JSON.stringify(sel.split)}: use one of ${Object.keys(ds.splits).join(', ')} or a task range`, 'InvalidConfig');
  }
  const [lo, hi] = range;
  const tasks = ds.tasks().filter((t) => t.number >= lo && t.number <= hi && (!sel.requireReference || t.reference !== undefined));
  return sel.maxTasks === undefined ? tasks : tasks.slice(0, sel.maxTasks);
}

const taskIndexes = new Map<string, Map<string, CodeTask>>();

/** One task of a dataset by id, or undefined (an index per dataset: scoring looks up every rollout). */
export function findTask(dataset: string, taskId: string): CodeTask | undefined {
  const ds = codeDataset(dataset);
  let index = taskIndexes.get(ds.name);
  if (!index) taskIndexes.set(ds.name, (index = new Map(ds.tasks().map((t) => [t.taskId, t]))));
  return index.get(taskId);
}

/** The sandbox program of a generated program for a task. */
export function programSpec(dataset: CodeDataset, task: CodeTask, program: string): ProgramSpec {
  return { language: dataset.language, program, tests: task.tests };
}

/** The prompt a sample of `dataset` answered: any code dataset's task, or an APIBench question. */
export function promptOfTask(dataset: string, taskId: string): string {
  if (dataset === 'apibench') {
    const q = apiBenchQuestion(taskId);
    if (!q) throw ApplicationFailure.nonRetryable(`unknown APIBench question ${taskId}`, 'InvalidConfig');
    return apiBenchPrompt(q);
  }
  const task = findTask(dataset, taskId);
  if (!task) throw ApplicationFailure.nonRetryable(`unknown ${dataset} task ${taskId}`, 'InvalidConfig');
  return task.prompt;
}
