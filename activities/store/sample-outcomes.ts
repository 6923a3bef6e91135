import type pg from 'pg';

/** Outcome counts of the sandbox batches a run owns (infra errors included, so they show). */
export async function outcomeCounts(pool: pg.Pool, owner: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ outcome: string; n: string }>(
    `select r.outcome, count(*) as n from sandbox_results r join sandbox_batches b on b.id = r.batch_id
     where b.owner = $1 group by r.outcome order by r.outcome`,
    [owner],
  );
  return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]));
}

export interface JudgedGeneration {
  generationId: string;
  taskId: string;
  program: string;
  passed: boolean;
}

/** Generations of a run that the sandbox judged (never infra errors), by task number ("11", "Synth/260"). */
export async function judgedGenerations(pool: pg.Pool, owner: string): Promise<JudgedGeneration[]> {
  const { rows } = await pool.query<{ generation_id: string; task_id: string; program: string; passed: boolean }>(
    `select i.generation_id, i.task_id, i.program, r.outcome = 'passed' as passed
     from sandbox_items i join sandbox_results r on r.batch_id = i.batch_id and r.idx = i.idx
     join sandbox_batches b on b.id = i.batch_id
     where b.owner = $1 and r.outcome <> 'infra_error'
     order by substring(i.task_id from '([0-9]+)$')::int, i.task_id, i.generation_id`,
    [owner],
  );
  return rows.map((r) => ({ generationId: r.generation_id, taskId: r.task_id, program: r.program, passed: r.passed }));
}
