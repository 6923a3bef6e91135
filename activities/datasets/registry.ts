import type { PromptTask } from '../models/prompts';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { CODE_DATASETS, type CodeDatasetName, type TaskSelection } from '../../common/datasets';
import type { Language, ProgramSpec } from '../sandbox/types';
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
  /** the task in words and its tests one by one, where the dataset has them (MBPP's `text` and `testList`): what ILF's feedback and refinement prompts show */
  text?: string;
  testList?: readonly string[];
}

export interface CodeDataset {
  name: CodeDatasetName;
  language: Language;
  /** named splits, as inclusive ranges of task numbers */
  splits: Readonly<Record<string, readonly [number, number]>>;
  /** all tasks, ordered by number */
  tasks(): readonly CodeTask[];
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

interface MbxpRecord {
  task_id: string;
  prompt: string;
  canonical_solution?: string | null;
  test: string;
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
  return readJsonl<MbxpRecord>(path.join(DATA_DIR, 'mbxp', file)).map((r) => ({
    taskId: r.task_id,
    number: numberOf(r.task_id),
    prompt: r.prompt,
    tests: r.test,
    // A reference known to fail its own tests (activities/sandbox/known-broken.ts says why) is
    // never served: no policy is trained or judged against it.
    ...(withReferences && r.canonical_solution && !(r.task_id in KNOWN_BROKEN.mbjp) ? { reference: r.prompt + r.canonical_solution } : {}),
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
    tasks: cached(() => mbxpTasks('mbjp_release_v1.2.jsonl', true)),
  },
  'mathqa-java': {
    name: 'mathqa-java',
    language: 'java',
    // The test split only, without reference solutions: evaluation only.
    splits: { test: [0, 1882], all: [0, 1882] },
    tasks: cached(() => mbxpTasks('mathqa-test-java_v1.jsonl', false)),
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

export function codeDataset(name: string): CodeDataset {
  if (!isCodeDataset(name)) {
    throw ApplicationFailure.nonRetryable(`dataset must be one of ${CODE_DATASETS.join(', ')}, got ${JSON.stringify(name)}`, 'InvalidConfig');
  }
  return DATASETS[name];
}

/** The tasks a selection names: a split or an explicit number range, cut to the first maxTasks. */
export function selectTasks(sel: Pick<TaskSelection, 'dataset' | 'split' | 'taskRange' | 'maxTasks' | 'requireReference'>): readonly CodeTask[] {
  const ds = codeDataset(sel.dataset);
  const range = sel.taskRange ?? ds.splits[sel.split];
  if (!range) {
    throw ApplicationFailure.nonRetryable(`${ds.name} has no split ${JSON.stringify(sel.split)}: use one of ${Object.keys(ds.splits).join(', ')} or a task range`, 'InvalidConfig');
  }
  const [lo, hi] = range;
  const tasks = ds.tasks().filter((t) => t.number >= lo && t.number <= hi && (!sel.requireReference || t.reference !== undefined));
  return sel.maxTasks === undefined ? tasks : tasks.slice(0, sel.maxTasks);
}

const taskIndexes = new Map<CodeDatasetName, Map<string, CodeTask>>();

/** One task of a dataset by id, or undefined (an index per dataset: scoring looks up every rollout). */
export function findTask(dataset: string, taskId: string): CodeTask | undefined {
  const ds = codeDataset(dataset);
  let index = taskIndexes.get(ds.name);
  if (!index) taskIndexes.set(ds.name, (index = new Map(ds.tasks().map((t) => [t.taskId, t]))));
  return index.get(taskId);
}

/** What ILF's feedback and refinement prompts show of a task: its words and tests (empty where the dataset has none). */
export function promptTaskOf(task: CodeTask): PromptTask {
  return { text: task.text ?? '', testList: task.testList ?? [] };
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
