import type pg from 'pg';
import { ilfIds } from '../types';
import { loadMbpp, mbppPrompt, mbppTests } from '../../../activities/datasets/mbpp';
import { codeDataset } from '../../../activities/datasets/registry';

/**
 * The tasks of an ILF iteration as its feedback, refine and fine-tune steps read them: MBPP's,
 * or those of the campaign's other dataset, registered (the synthetic family) or a dataset file
 * (the dataset of the iteration's train samples).
 */
export interface IlfTask {
  /** the task description (MBPP's text, a registered dataset's own words, else the task's prompt) */
  text: string;
  /** the reference program ('' when there is none) */
  code: string;
  /** its tests one by one (the prompts show the first) */
  testList: string[];
  /** what the sandbox runs the refinements against */
  tests: string;
  /** the prompt of the fine-tuning pairs */
  prompt: string;
}

export async function ilfTasks(pool: pg.Pool, campaignId: string, iteration: number): Promise<Map<string, IlfTask>> {
  const { rows } = await pool.query<{ dataset: string }>('select dataset from eval_runs where id = $1', [ilfIds.trainSamples(campaignId, iteration)]);
  return ilfTasksOf(rows[0]?.dataset ?? 'mbpp');
}

/** The tasks of one dataset (MBPP's, a registered one's or a dataset file's) as ILF reads them. */
export function ilfTasksOf(dataset: string): Map<string, IlfTask> {
  if (dataset !== 'mbpp') {
    const firstTest = (tests: string) => (tests.startsWith('#feedloop-stdio') ? '' : (tests.split('\n').find((l) => l.trim()) ?? ''));
    return new Map(
      codeDataset(dataset)
        .tasks()
        .map((t) => [t.taskId, { text: t.text ?? t.prompt.trim(), code: t.reference ?? '', testList: t.testList ? [...t.testList] : [firstTest(t.tests)], tests: t.tests, prompt: t.prompt }]),
    );
  }
  return new Map(loadMbpp().map((t) => [String(t.taskId), { text: t.text, code: t.code, testList: t.testList, tests: mbppTests(t), prompt: mbppPrompt(t) }]));
}
