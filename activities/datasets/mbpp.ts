import fs from 'node:fs';
import path from 'node:path';
import { MBPP_SPLITS, type MbppSplit } from '../../common/datasets';
import { DATA_DIR } from '../../infra/paths';

/** MBPP (Austin et al. 2021) and the ILF paper's splits of it. */
export interface MbppTask {
  taskId: number;
  text: string;
  code: string;
  testList: string[];
  testSetupCode: string;
  challengeTestList: string[];
}

/** ILF splits (Chen, Scheurer et al. 2023): inclusive task-id ranges, from the one split table (common/datasets.ts). */
export { MBPP_SPLITS, type MbppSplit } from '../../common/datasets';

let cache: MbppTask[] | undefined;

export function loadMbpp(file = path.join(DATA_DIR, 'mbpp', 'mbpp.jsonl')): MbppTask[] {
  if (cache && file === path.join(DATA_DIR, 'mbpp', 'mbpp.jsonl')) return cache;
  const tasks = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r = JSON.parse(l) as {
        task_id: number;
        text: string;
        code: string;
        test_list: string[];
        test_setup_code: string;
        challenge_test_list: string[];
      };
      return {
        taskId: r.task_id,
        text: r.text,
        code: r.code,
        testList: r.test_list,
        testSetupCode: r.test_setup_code,
        challengeTestList: r.challenge_test_list,
      };
    });
  cache = tasks;
  return tasks;
}

export function mbppSplit(split: MbppSplit, tasks = loadMbpp()): MbppTask[] {
  const [lo, hi] = MBPP_SPLITS[split];
  return tasks.filter((t) => t.taskId >= lo && t.taskId <= hi);
}

/** The test code run after a program: setup code, then the task's asserts. */
export function mbppTests(task: MbppTask): string {
  return [task.testSetupCode, ...task.testList].filter((s) => s.trim()).join('\n');
}

/**
 * The prompt a code model completes: the task description and one of its tests as an example,
 * as a docstring, in the style of the ILF paper's prompts.
 */
export function mbppPrompt(task: MbppTask): string {
  return docstringPrompt(task.text, task.testList[0] ?? '');
}

/** MBPP's prompt layout for any description and example test (the synthetic family uses it too). */
export function docstringPrompt(description: string, exampleTest: string): string {
  return `"""\n${description}\n\n>>> Example: ${exampleTest}\n"""\n\n`;
}
