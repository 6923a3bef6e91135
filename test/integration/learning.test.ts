import fs from 'node:fs';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { learningModels, runLearningCampaign, serveLearningJudge, type LearningCurve, type LearningLoop } from '../../cli/learning';
import { createLogger } from '../../infra/logger';
import { withPool } from '../../infra/pool';
import { ensureTrainerPython } from '../../infra/trainer-env';
import { ilfTasks } from '../../loops/ilf/activities/tasks';
import { startWorkers, type RunningWorkers } from '../../workers/run-workers';
import { campaignId } from '../ilf/helpers';
import { tempDir } from '../helpers/temp-dir';
import { testClient, testWorkerOptions, uniqueQueues, workflowBundle } from '../helpers/temporal';

/**
 * The learning proof, CI's reduced form (`npm run e2e:learning` is the full one): each loop's
 * learning campaign on the synthetic family, with the starting policy made here, beside the same
 * campaign with its feedback made uninformative. It fails when the learning machinery is broken:
 * an advantage with the wrong sign or rewards joined to the wrong rollouts leave held-out pass@1
 * where it started, and an ILF fine-tuning set whose programs sit under another task's prompt
 * drives it to nothing.
 *
 * The reduced form evaluates fewer tasks and samples, so its noise is larger than the full
 * run's (a standard error of about 5 points): it asks for a clear gain over iteration 0 and over
 * the control, not the full run's bar. ILF's control refines each program with another task's
 * feedback and keeps as many refinements as pass, chosen by the verdicts shuffled among them; ILF
 * also asks for what the control cannot fake (see its case).
 */
const MIN_GAIN = 0.1;
const MIN_GAIN_OVER_CONTROL = 0.08;

/**
 * The loops whose learning campaign runs here, and what their feedback is. RLAIF's reduced form
 * passes this test (26.3% -> 40.6% -> 45.0%, control 21.3%, 16.9%; with the advantage's sign
 * flipped 26.3% -> 16.3% -> 7.5%), but its judge takes about a quarter of an hour to make: made in
 * the background here, it slowed the tiny-real file's model build past its 600 s hook in CI, so
 * it is not here yet.
 */
const LOOPS: { loop: LearningLoop; feedback: string }[] = [
  { loop: 'crlhf', feedback: 'consensus rewards from a simulated crowd' },
  { loop: 'rlcf', feedback: 'the compiler, static checks and tests as rewards' },
];

const queues = uniqueQueues('learning');
let workers: RunningWorkers | undefined;
let client: Client;
let closeClient: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ensureTrainerPython();
  workers = await startWorkers(['workflow', 'cpu', 'gpu'], testWorkerOptions(queues, { blobDir: tempDir('learning-blobs') }), { workflowBundle: await workflowBundle(), log: createLogger('test', 'warn') });
  ({ client, close: closeClient } = await testClient());
}, 900_000);

afterAll(async () => {
  workers?.shutdown();
  await workers?.done;
  await closeClient?.();
});

const best = (c: LearningCurve) => Math.max(...c.iterations);
const pts = (x: number) => `${(100 * x).toFixed(1)}%`;
const curvesOf = (learning: LearningCurve, control: LearningCurve) =>
  `learning ${[learning.start!, ...learning.iterations].map(pts).join(' -> ')} (${learning.wallSeconds} s); control ${[control.start!, ...control.iterations].map(pts).join(' -> ')} (${control.wallSeconds} s)`;

async function learningAndControl(loop: LearningLoop): Promise<{ learning: LearningCurve; control: LearningCurve }> {
  // its starting policy (Python, or Java for RLCF) and RLAIF's judge: minutes the first time, cached by recipe
  const judge = await serveLearningJudge(learningModels([loop], 1, () => undefined), () => undefined);
  try {
    const run = (control: boolean) => runLearningCampaign(client, loop, campaignId(`${loop}-learning${control ? '-control' : ''}`), { seed: 1, control, reduced: true, models: judge.models, taskQueues: queues });
    return { learning: await run(false), control: await run(true) };
  } finally {
    await judge.close();
  }
}

/** What one ILF iteration kept and fine-tuned on, read back from the store and the fine-tuning set. */
interface IlfRecord {
  iteration: number;
  /** refinements kept by the filter (all of them in the control) */
  kept: number;
  /** of those, the ones that passed their task's tests */
  keptPassing: number;
  /** rows of the fine-tuning set (sft.jsonl) */
  trainingRows: number;
  /** rows that are the kept refinements in order, each under its own task's prompt */
  rowsUnderOwnPrompt: number;
}

async function ilfRecords(campaignId: string): Promise<IlfRecord[]> {
  return withPool(inject('databaseUrl'), async (pool) => {
    const { rows: jobs } = await pool.query<{ iteration: number; dataset_path: string }>(
      `select iteration, dataset_path from training_jobs where campaign_id = $1 and kind = 'sft' order by iteration`,
      [campaignId],
    );
    const out: IlfRecord[] = [];
    for (const job of jobs) {
      const { rows: kept } = await pool.query<{ task_id: string; program: string; outcome: string }>(
        `select f.task_id, f.program, r.outcome from refinements f join sandbox_results r on r.batch_id = f.batch_id and r.idx = f.idx
         where f.campaign_id = $1 and f.iteration = $2 and f.kept order by f.request_id`,
        [campaignId, job.iteration],
      );
      const tasks = await ilfTasks(pool, campaignId, job.iteration);
      const rows = fs
        .readFileSync(job.dataset_path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { task_id: string | number; prompt: string; completion: string });
      // the i-th row teaches the i-th kept refinement: its task's prompt, then the refinement's program after it
      const own = rows.filter((row, i) => {
        const r = kept[i];
        return r !== undefined && String(row.task_id) === r.task_id && row.prompt === tasks.get(r.task_id)?.prompt && r.program.endsWith(row.completion);
      });
      out.push({ iteration: job.iteration, kept: kept.length, keptPassing: kept.filter((r) => r.outcome === 'passed').length, trainingRows: rows.length, rowsUnderOwnPrompt: own.length });
    }
    return out;
  });
}

describe('learning proof (reduced)', () => {
  it.each(LOOPS)('$loop: $feedback raise held-out pass@1; the same rewards shuffled do not', async ({ loop }) => {
    const { learning, control } = await learningAndControl(loop);
    expect(learning.status).toBe('completed');
    expect(control.status).toBe('completed');
    // the same starting policy, evaluated the same way
    expect(control.start).toBe(learning.start);
    const curves = curvesOf(learning, control);
    console.log(`${loop} (reduced): ${curves}`);
    expect(best(learning) - learning.start!, curves).toBeGreaterThanOrEqual(MIN_GAIN);
    expect(best(learning) - best(control), curves).toBeGreaterThanOrEqual(MIN_GAIN_OVER_CONTROL);
  }, 2_700_000);

  it('ilf: fine-tuning on the refinements that pass their tests raises held-out pass@1', async () => {
    const { learning, control } = await learningAndControl('ilf');
    expect(learning.status).toBe('completed');
    expect(control.status).toBe('completed');
    expect(control.start).toBe(learning.start);
    const [records, controlRecords] = [await ilfRecords(learning.campaignId), await ilfRecords(control.campaignId)];
    const kept = (rs: IlfRecord[]) => rs.map((r) => `${r.kept} kept (${r.keptPassing} pass, ${r.rowsUnderOwnPrompt}/${r.trainingRows} rows under their own prompt)`).join(', ');
    const curves = `${curvesOf(learning, control)}; learning ${kept(records)}; control ${kept(controlRecords)}`;
    console.log(`ilf (reduced): ${curves}`);
    expect(best(learning) - learning.start!, curves).toBeGreaterThanOrEqual(MIN_GAIN);
    expect(best(learning) - best(control), curves).toBeGreaterThanOrEqual(MIN_GAIN_OVER_CONTROL);
    // What the control cannot fake: each iteration fine-tuned on exactly its kept refinements,
    // each under its own task's prompt, and the learning run kept only refinements that pass
    // their tests.
    expect(records.map((r) => r.iteration), curves).toEqual([1, 2]);
    expect(records[0]!.kept, curves).toBeGreaterThan(0);
    for (const r of [...records, ...controlRecords]) {
      expect(r.trainingRows, curves).toBe(r.kept);
      expect(r.rowsUnderOwnPrompt, curves).toBe(r.kept);
    }
    for (const r of records) expect(r.keptPassing, curves).toBe(r.kept);
    // and the control is one: it kept refinements that fail
    expect(controlRecords.some((r) => r.keptPassing < r.kept), curves).toBe(true);
  }, 2_700_000);
});
