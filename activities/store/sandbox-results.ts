import type pg from 'pg';
import type { RunResult } from '../sandbox/types';

/**
 * Stores sandbox results with their full evidence: the excerpts, why the outcome was given
 * (`detail`: the failing assertion, the limit hit, an early exit), the limits that applied,
 * stream sizes and peak memory. First write wins: a retried activity can
 * never overwrite a result. infra_error is refused here: it is retried, never stored.
 */
export interface StoredRun {
  idx: number;
  result: RunResult;
  attempt: number;
}

export async function saveRunResults(pool: pg.Pool, batchId: string, runs: readonly StoredRun[]): Promise<void> {
  if (runs.length === 0) return;
  const infra = runs.find((r) => r.result.outcome === 'infra_error');
  if (infra) throw new Error(`refusing to store infra_error for item ${infra.idx} of batch ${batchId}: infrastructure failures are retried, not scored`);
  await pool.query(
    `insert into sandbox_results (batch_id, idx, outcome, duration_ms, cpu_ms, evidence, attempt)
     select $1, t.idx, t.outcome, t.duration_ms, t.cpu_ms, t.evidence, t.attempt
     from jsonb_to_recordset($2::jsonb) as t(idx int, outcome text, duration_ms float8, cpu_ms float8, evidence jsonb, attempt int)
     on conflict (batch_id, idx) do nothing`,
    [
      batchId,
      JSON.stringify(
        runs.map(({ idx, result, attempt }) => ({
          idx,
          outcome: result.outcome,
          duration_ms: result.durationMs,
          cpu_ms: result.cpuMs ?? null,
          attempt,
          evidence: {
            detail: result.detail === undefined ? null : withoutNul(result.detail),
            stdout: withoutNul(result.stdout),
            stderr: withoutNul(result.stderr),
            stdoutBytes: result.stdoutBytes ?? null,
            stderrBytes: result.stderrBytes ?? null,
            exitCode: result.exitCode ?? null,
            signal: result.signal ?? null,
            maxRssKb: result.maxRssKb ?? null,
            compileMs: result.compileMs ?? null,
            limits: result.limits,
          },
        })),
      ),
    ],
  );
}

/** PostgreSQL text and jsonb reject NUL characters, which program output may contain. */
function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text;
}

/** Indexes of a batch's items that already have a stored result. */
export async function storedResultIndexes(pool: pg.Pool, batchId: string): Promise<number[]> {
  const { rows } = await pool.query<{ idx: number }>('select idx from sandbox_results where batch_id = $1 order by idx', [batchId]);
  return rows.map((r) => r.idx);
}
