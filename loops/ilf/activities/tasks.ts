import type pg from 'pg';
import { isFileDatasetName } from '../../../common/dataset-file';
import { ilfIds } from '../types';
import { loadMbpp, mbppPrompt, mbppTests } from '../../../activities/datasets/mbpp';
import { codeDataset } from '../../../activities/datasets/registry';

/**
 * The tasks of an ILF iteration as its feedback, refine and fine-tune steps read them: MBPP's,
 * or those of the campaign's dataset file (the dataset of the iteration's train samples).
 */
export interface IlfTask {
  /** the task description (MBPP's text; a file task's prompt) */
  text: string;
  /** the reference program ('' when there is none) */
  code: string;
  /** one test, shown in the prompts */
  testList: string[];
  /** what the sandbox runs the refinements against */
  tests: string;
  /** the prompt of the fine-tuning pairs */
  prompt: string;
}

export async function ilfTasks(pool: pg.Pool, campaignId: string, iteration: number): Promise<Map<string, IlfTask>> {
  const { rows } = await pool.query<{ dataset: string }>('select dataset from eval_runs where id = $1', [ilfIds.trainSamples(campaignId, iteration)]);
  const dataset = rows[0]?.dataset;
  if (dataset && isFileDatasetName(dataset)) {
    return new Map(
      codeDataset(dataset)
        .tasks()
        .map((t) => [t.taskId, { text: t.prompt.trim(), code: t.reference ?? '', testList: [t.tests.startsWith('#feedloop-stdio') ? '' : (t.tests.split('\n').find((l) => l.trim()) ?? '')], tests: t.tests, prompt: t.prompt }]),
    );
  }
  return new Map(loadMbpp().map((t) => [String(t.taskId), { text: t.text, code: t.code, testList: t.testList, tests: mbppTests(t), prompt: mbppPrompt(t) }]));
}
