import type pg from 'pg';
import type { BatchItem, Outcome, SandboxLimits } from '../sandbox/types';

export interface NewBatchItem {
  taskId: string;
  generationId?: string;
  language: BatchItem['language'];
  program: string;
  tests: string;
  limits?: Partial<SandboxLimits>;
}

/** Stores a batch of programs to test; idempotent on the batch id (a retry rewrites nothing). */
export async function createBatch(pool: pg.Pool, batchId: string, owner: string, items: readonly NewBatchItem[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rowCount } = await client.query(
      'insert into sandbox_batches (id, owner, item_count) values ($1, $2, $3) on conflict (id) do nothing',
      [batchId, owner, items.length],
    );
    if (rowCount) {
      await client.query(
        `insert into sandbox_items (batch_id, idx, task_id, generation_id, language, program, tests, limits)
         select $1, t.idx, t.task_id, t.generation_id, t.language, t.program, t.tests, t.limits
         from jsonb_to_recordset($2::jsonb)
           as t(idx int, task_id text, generation_id bigint, language text, program text, tests text, limits jsonb)`,
        [
          batchId,
          JSON.stringify(
            items.map((it, idx) => ({
              idx,
              task_id: it.taskId,
              generation_id: it.generationId ?? null,
              language: it.language,
              program: it.program,
              tests: it.tests,
              limits: it.limits ?? {},
            })),
          ),
        ],
      );
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback');
    throw err;
  } finally {
    client.release();
  }
}

/** Items of a batch, optionally only those without a stored result (for resuming). */
export async function loadBatchItems(pool: pg.Pool, batchId: string, opts: { pendingOnly?: boolean } = {}): Promise<BatchItem[]> {
  const { rows } = await pool.query<{
    idx: number;
    task_id: string;
    language: BatchItem['language'];
    program: string;
    tests: string;
    limits: Partial<SandboxLimits>;
  }>(
    `select i.idx, i.task_id, i.language, i.program, i.tests, i.limits from sandbox_items i
     ${opts.pendingOnly ? 'left join sandbox_results r on r.batch_id = i.batch_id and r.idx = i.idx' : ''}
     where i.batch_id = $1 ${opts.pendingOnly ? 'and r.idx is null' : ''}
     order by i.idx`,
    [batchId],
  );
  return rows.map((r) => ({ idx: r.idx, taskId: r.task_id, language: r.language, program: r.program, tests: r.tests, limits: r.limits }));
}

export async function finishBatch(pool: pg.Pool, batchId: string, host: Record<string, unknown>): Promise<void> {
  await pool.query(`update sandbox_batches set status = 'completed', host = $2, finished_at = now() where id = $1`, [
    batchId,
    JSON.stringify(host),
  ]);
}

export async function countOutcomes(pool: pg.Pool, batchId: string): Promise<Partial<Record<Outcome, number>>> {
  const { rows } = await pool.query<{ outcome: Outcome; n: string }>(
    'select outcome, count(*) as n from sandbox_results where batch_id = $1 group by outcome',
    [batchId],
  );
  return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]));
}
