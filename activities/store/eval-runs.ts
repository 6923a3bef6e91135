import type pg from 'pg';

export interface EvalRunRow {
  id: string;
  workflowId: string;
  runId: string;
  dataset: string;
  split: string;
  policy: unknown;
  samplesPerTask: number;
  ks: number[];
}

/** Idempotent: a retried activity finds the row it already wrote. */
export async function createEvalRun(pool: pg.Pool, r: EvalRunRow): Promise<void> {
  await pool.query(
    `insert into eval_runs (id, workflow_id, run_id, dataset, split, policy, samples_per_task, ks)
     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (id) do nothing`,
    [r.id, r.workflowId, r.runId, r.dataset, r.split, JSON.stringify(r.policy), r.samplesPerTask, r.ks],
  );
}

export interface GenerationInput {
  taskId: string;
  sampleIndex: number;
  backend: string;
  program: string;
  meta?: Record<string, unknown>;
}

/** Upserts on (run, task, sample): re-running a generation activity never adds samples. */
export async function saveGenerations(pool: pg.Pool, evalRunId: string, gens: readonly GenerationInput[]): Promise<void> {
  const chunk = 500;
  for (let i = 0; i < gens.length; i += chunk) {
    const part = gens.slice(i, i + chunk);
    await pool.query(
      `insert into generations (eval_run_id, task_id, sample_index, backend, program, meta)
       select $1, t.task_id, t.sample_index, t.backend, t.program, t.meta
       from jsonb_to_recordset($2::jsonb) as t(task_id text, sample_index int, backend text, program text, meta jsonb)
       on conflict (eval_run_id, task_id, sample_index)
       do update set program = excluded.program, backend = excluded.backend, meta = excluded.meta`,
      [
        evalRunId,
        JSON.stringify(
          part.map((g) => ({ task_id: g.taskId, sample_index: g.sampleIndex, backend: g.backend, program: g.program, meta: g.meta ?? {} })),
        ),
      ],
    );
  }
}

export interface GenerationRow {
  id: string;
  taskId: string;
  sampleIndex: number;
  program: string;
}

export async function listGenerations(pool: pg.Pool, evalRunId: string): Promise<GenerationRow[]> {
  const { rows } = await pool.query<{ id: string; task_id: string; sample_index: number; program: string }>(
    'select id, task_id, sample_index, program from generations where eval_run_id = $1 order by task_id, sample_index',
    [evalRunId],
  );
  return rows.map((r) => ({ id: r.id, taskId: r.task_id, sampleIndex: r.sample_index, program: r.program }));
}

/**
 * One page of a run's generations in (task, sample) order, after the given one: callers that
 * walk a large run page by page hold one page in memory, not the run.
 */
export async function listGenerationsPage(
  pool: pg.Pool,
  evalRunId: string,
  after: Pick<GenerationRow, 'taskId' | 'sampleIndex'> | undefined,
  limit: number,
): Promise<GenerationRow[]> {
  const { rows } = await pool.query<{ id: string; task_id: string; sample_index: number; program: string }>(
    `select id, task_id, sample_index, program from generations
     where eval_run_id = $1 and ($2::text is null or (task_id, sample_index) > ($2::text, $3::int))
     order by task_id, sample_index limit $4`,
    [evalRunId, after?.taskId ?? null, after?.sampleIndex ?? 0, limit],
  );
  return rows.map((r) => ({ id: r.id, taskId: r.task_id, sampleIndex: r.sample_index, program: r.program }));
}

export async function finishEvalRun(pool: pg.Pool, evalRunId: string, metrics: unknown): Promise<void> {
  await pool.query(`update eval_runs set status = 'completed', metrics = $2, finished_at = now() where id = $1`, [
    evalRunId,
    JSON.stringify(metrics),
  ]);
}

/** Samples already stored per task: a retried generation activity skips complete tasks. */
export async function sampleCountsByTask(pool: pg.Pool, evalRunId: string): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ task_id: string; n: string }>(
    'select task_id, count(*) as n from generations where eval_run_id = $1 group by task_id',
    [evalRunId],
  );
  return new Map(rows.map((r) => [r.task_id, Number(r.n)]));
}
