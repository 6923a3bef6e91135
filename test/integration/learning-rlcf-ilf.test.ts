import fs from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { withPool } from '../../infra/pool';
import { ilfTasks } from '../../loops/ilf/activities/tasks';
import { curvesOf, expectLearned, learningAndControl, learningWorkers, rewardLoopLearns } from '../helpers/learning';

/**
 * The learning proof's reduced form (test/helpers/learning.ts) for RLCF, whose control shuffles the
 * rewards across rollouts, and ILF, whose control refines each program with another task's
 * feedback and keeps as many refinements as pass, chosen by the verdicts shuffled among them; ILF
 * also asks for what the control cannot fake (see its case). RLCF's Java policy and ILF's teacher
 * are made here the first time (about 6 and 13 minutes beside the other fork's tests).
 */
const env = learningWorkers('learning-rlcf-ilf');

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

describe('learning proof (reduced): RLCF and ILF', () => {
  it('rlcf: the compiler, static checks and tests as rewards raise held-out pass@1; the same rewards shuffled do not', () => rewardLoopLearns(env, 'rlcf'), 2_700_000);

  it('ilf: fine-tuning on the refinements that pass their tests raises held-out pass@1', async () => {
    const { learning, control } = await learningAndControl(env, 'ilf');
    const [records, controlRecords] = [await ilfRecords(learning.campaignId), await ilfRecords(control.campaignId)];
    const kept = (rs: IlfRecord[]) => rs.map((r) => `${r.kept} kept (${r.keptPassing} pass, ${r.rowsUnderOwnPrompt}/${r.trainingRows} rows under their own prompt)`).join(', ');
    const curves = `${curvesOf(learning, control)}; learning ${kept(records)}; control ${kept(controlRecords)}`;
    console.log(`ilf (reduced): ${curves}`);
    expectLearned(learning, control, curves);
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
