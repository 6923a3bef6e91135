import os from 'node:os';
import type pg from 'pg';
import type { TrainingKind } from '../training/job-spec';

/**
 * training_jobs rows: written when a job starts (so the audit shows jobs that never ended) and
 * finished when it ends. Both writes are idempotent: a retried activity rewrites the same row.
 */
/** The host id a job ran on: the one its host queue names (`feedloop-gpu@<host id>`), else this machine's name. */
function hostOf(workerTaskQueue: string): string {
  const at = workerTaskQueue.lastIndexOf('@');
  return at >= 0 && at < workerTaskQueue.length - 1 ? workerTaskQueue.slice(at + 1) : os.hostname();
}

export async function startTrainingJob(
  pool: pg.Pool,
  job: { id: string; campaignId: string; iteration: number | null; kind: TrainingKind; trainer: string; datasetPath: string; examples: number; workerTaskQueue: string },
): Promise<void> {
  await pool.query(
    `insert into training_jobs (id, campaign_id, iteration, kind, trainer, dataset_path, examples, host, worker_task_queue)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (id) do update set dataset_path = excluded.dataset_path, examples = excluded.examples, host = excluded.host,
       worker_task_queue = excluded.worker_task_queue`,
    [job.id, job.campaignId, job.iteration, job.kind, job.trainer, job.datasetPath, job.examples, hostOf(job.workerTaskQueue), job.workerTaskQueue],
  );
}

export async function finishTrainingJob(
  pool: pg.Pool,
  jobId: string,
  status: 'completed' | 'skipped',
  fields: { checkpoint?: string; steps?: number; note?: string; metrics?: object },
): Promise<void> {
  await pool.query(
    `update training_jobs set status = $2, checkpoint = $3, steps = $4, note = $5, metrics = $6, finished_at = now(),
       duration_ms = extract(epoch from (now() - started_at)) * 1000 where id = $1`,
    [jobId, status, fields.checkpoint ?? null, fields.steps ?? null, fields.note ?? null, fields.metrics ? JSON.stringify(fields.metrics) : null],
  );
}
