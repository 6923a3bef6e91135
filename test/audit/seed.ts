import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Outcome } from '../../activities/sandbox/types';
import { parseIlfCampaignConfig } from '../../loops/ilf/config';
import { ilfIds } from '../../loops/ilf/types';

/**
 * Seeds a fake ILF campaign straight into the store, following the schema and the id
 * conventions of common/ilf.ts, so the audit can be checked without running a campaign.
 * Everything that is not a result (run ids, timestamps, hosts, attempts) can be varied.
 */
export interface SeedIteration {
  /** outcome of each policy sample on MBPP_Train, in order */
  trainOutcomes: Partial<Record<Outcome, number>>;
  /** failing samples that got a request / an answer (the rest are unanswerable) */
  feedbackRequested: number;
  feedbackReceived: number;
  /** refinements written for the first N answered requests, and how many of them passed */
  refinementsGenerated: number;
  refinementsKept: number;
  steps: number;
  evaluation: { tasks: number; samplesPerTask: number; outcomes: Partial<Record<Outcome, number>>; passAtK: Record<string, number> };
  /** overrides of campaign_iterations.counts (to fake a workflow that recorded a wrong count) */
  recordedCounts?: Record<string, number>;
}

export interface SeedCampaign {
  id: string;
  simulated: boolean;
  iterations: SeedIteration[];
  /** feedback text of every answered request */
  feedbackText?: string;
  /** shifts every timestamp, so two equal campaigns differ in time */
  startedAt?: Date;
  hostname?: string;
  /** sandbox attempt recorded on every result (a disturbed run retries) */
  attempt?: number;
}

export const uniqueCampaignId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export function seedConfig(simulated: boolean) {
  return parseIlfCampaignConfig({
    algorithm: 'ilf',
    description: simulated ? 'audit test, simulated' : 'audit test',
    models: { policy: simulated ? { backend: 'simulated', seed: 1 } : { backend: 'openai', model: 'codegen-6b-mono', baseUrlEnv: 'VLLM_BASE_URL' } },
    sampling: { train: { n: 1 }, eval: { n: 10, ks: [1, 10] } },
    feedback: { source: 'dataset' },
    refiner: { kind: 'dataset' },
    trainer: simulated ? { kind: 'simulated' } : { kind: 'none' },
    iterations: 3,
  });
}

const expand = (counts: Partial<Record<Outcome, number>>): Outcome[] =>
  (Object.entries(counts) as Array<[Outcome, number]>).flatMap(([o, n]) => Array.from({ length: n }, () => o));

type Db = pg.PoolClient;

/** One eval run's generations, tested in one sandbox batch owned by the run; returns generation ids. */
async function seedSampleRun(
  db: Db,
  run: { id: string; workflowId: string; runId: string; split: string; policy: unknown; n: number; metrics: unknown },
  outcomes: Outcome[],
  opts: { taskBase: number; samplesPerTask: number; at: Date; hostname: string; attempt: number },
): Promise<string[]> {
  await db.query(
    `insert into eval_runs (id, workflow_id, run_id, dataset, split, policy, samples_per_task, ks, status, metrics, created_at, finished_at)
     values ($1, $2, $3, 'mbpp', $4, $5, $6, '{1,10}', 'completed', $7, $8, $8)`,
    [run.id, run.workflowId, run.runId, run.split, JSON.stringify(run.policy), run.n, run.metrics === null ? null : JSON.stringify(run.metrics), opts.at],
  );
  const samples = outcomes.map((outcome, i) => ({
    task_id: String(opts.taskBase + Math.floor(i / opts.samplesPerTask)),
    sample_index: i % opts.samplesPerTask,
    program: `def f():\n    return ${i}\n`,
    outcome,
  }));
  const { rows } = await db.query<{ id: string }>(
    `insert into generations (eval_run_id, task_id, sample_index, backend, program, created_at)
     select $1, t.task_id, t.sample_index, 'seed', t.program, $3 from jsonb_to_recordset($2::jsonb) as t(task_id text, sample_index int, program text)
     order by t.task_id::int, t.sample_index returning id`,
    [run.id, JSON.stringify(samples), opts.at],
  );
  const ids = rows.map((r) => r.id);
  await seedBatch(db, `${run.id}-0`, run.id, samples.map((s, i) => ({ ...s, generation_id: ids[i] ?? null })), opts);
  return ids;
}

async function seedBatch(
  db: Db,
  batchId: string,
  owner: string,
  items: Array<{ task_id: string; program: string; outcome: Outcome; generation_id: string | null }>,
  opts: { at: Date; hostname: string; attempt: number },
): Promise<void> {
  await db.query(`insert into sandbox_batches (id, owner, item_count, status, host, created_at, finished_at) values ($1, $2, $3, 'completed', $4, $5, $5)`, [
    batchId,
    owner,
    items.length,
    JSON.stringify({ hostname: opts.hostname, cpuModel: 'Seed CPU @ 2.0GHz', cpus: 2, loadavgAtStart: [0.5, 0.4, 0.3] }),
    opts.at,
  ]);
  const rows = items.map((it, idx) => ({ ...it, idx }));
  await db.query(
    `insert into sandbox_items (batch_id, idx, task_id, generation_id, language, program, tests)
     select $1, t.idx, t.task_id, t.generation_id, 'python', t.program, 'assert f() >= 0' from jsonb_to_recordset($2::jsonb) as t(idx int, task_id text, generation_id bigint, program text)`,
    [batchId, JSON.stringify(rows)],
  );
  await db.query(
    `insert into sandbox_results (batch_id, idx, outcome, duration_ms, cpu_ms, attempt, created_at)
     select $1, t.idx, t.outcome, 12.5 + t.idx, 10, $3, $4 from jsonb_to_recordset($2::jsonb) as t(idx int, outcome text)`,
    [batchId, JSON.stringify(rows), opts.attempt, opts.at],
  );
}

export async function seedCampaign(spec: SeedCampaign): Promise<void> {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
  const db = await pool.connect();
  const t0 = spec.startedAt ?? new Date('2025-01-01T00:00:00Z');
  const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
  const hostname = spec.hostname ?? 'cpu-host-1';
  const attempt = spec.attempt ?? 1;
  const config = seedConfig(spec.simulated);
  const c = spec.id;
  try {
    await db.query('begin');
    await db.query(`insert into campaigns (id, algorithm, config, workflow_id, status, created_at, finished_at) values ($1, 'ilf', $2, $1, 'completed', $3, $4)`, [
      c,
      JSON.stringify(config),
      t0,
      at(100 * spec.iterations.length),
    ]);
    let policy: unknown = config.models.policy;
    for (const [i, it] of spec.iterations.entries()) {
      const k = i + 1;
      const start = 100 * i;
      const iterationWf = ilfIds.iterationWorkflow(c, k);
      const runId = randomUUID();
      const counts = {
        samples: Object.values(it.trainOutcomes).reduce((a, b) => a + b, 0),
        feedbackRequested: it.feedbackRequested,
        feedbackReceived: it.feedbackReceived,
        refinementsGenerated: it.refinementsGenerated,
        refinementsKept: it.refinementsKept,
        trainingExamples: it.refinementsKept,
        ...it.recordedCounts,
      };
      await db.query(
        `insert into campaign_iterations (campaign_id, iteration, workflow_id, run_id, policy, status, phase, counts, metrics, started_at, finished_at)
         values ($1, $2, $3, $4, $5, 'completed', 'evaluate', $6, $7, $8, $9)`,
        [c, k, iterationWf, runId, JSON.stringify(policy), JSON.stringify(counts), JSON.stringify(it.evaluation.passAtK), at(start), at(start + 90)],
      );

      // 1-2. policy samples on MBPP_Train and their outcomes
      const trainOutcomes = expand(it.trainOutcomes);
      const trainRun = ilfIds.trainSamples(c, k);
      const genIds = await seedSampleRun(db, { id: trainRun, workflowId: iterationWf, runId, split: 'train', policy, n: 1, metrics: null }, trainOutcomes, {
        taskBase: 311,
        samplesPerTask: 1,
        at: at(start + 5),
        hostname,
        attempt,
      });
      const failing = trainOutcomes.flatMap((o, j) => (o === 'passed' || o === 'infra_error' ? [] : [{ genId: genIds[j]!, taskId: String(311 + j) }]));

      // 3. feedback: the first requests are answered, the others unanswerable
      const requests = failing.slice(0, it.feedbackRequested).map((f) => ({ ...f, requestId: `task-${f.taskId}-gen-${f.genId}` }));
      for (const [j, r] of requests.entries()) {
        const answered = j < it.feedbackReceived;
        await db.query(
          `insert into feedback_requests (campaign_id, iteration, request_id, generation_id, task_id, source, status, created_at) values ($1, $2, $3, $4, $5, 'dataset', $6, $7)`,
          [c, k, r.requestId, r.genId, r.taskId, answered ? 'answered' : 'unanswerable', at(start + 10)],
        );
        if (answered) {
          await db.query(`insert into feedback (campaign_id, iteration, request_id, source, author, text, created_at) values ($1, $2, $3, 'dataset', 'annotator-7', $4, $5)`, [
            c,
            k,
            r.requestId,
            spec.feedbackText ?? `the loop stops one element early (task ${r.taskId})`,
            at(start + 11),
          ]);
        }
      }

      // 4-5. refinements of the answered requests, tested; the first ones pass
      const refined = requests.slice(0, it.refinementsGenerated);
      const refineOwner = ilfIds.refinements(c, k);
      if (refined.length) {
        await seedBatch(
          db,
          `${refineOwner}-0`,
          refineOwner,
          refined.map((r, j) => ({ task_id: r.taskId, program: `def f():\n    return ${j} + 1\n`, outcome: j < it.refinementsKept ? 'passed' : 'failed', generation_id: null })),
          { at: at(start + 20), hostname, attempt },
        );
      }
      for (const [j, r] of refined.entries()) {
        await db.query(
          `insert into refinements (campaign_id, iteration, request_id, task_id, refiner, program, batch_id, idx, kept, created_at) values ($1, $2, $3, $4, 'dataset:human', $5, $6, $7, $8, $9)`,
          [c, k, r.requestId, r.taskId, `def f():\n    return ${j} + 1\n`, `${refineOwner}-0`, j, j < it.refinementsKept, at(start + 15)],
        );
      }

      // 6. training job (trainer none: skipped, no weights)
      const jobId = ilfIds.trainingJob(c, k);
      const checkpoint = spec.simulated ? `simulated://${jobId}` : null;
      await db.query(
        `insert into training_jobs (id, campaign_id, iteration, kind, trainer, status, dataset_path, examples, checkpoint, steps, metrics, host, worker_task_queue, note, started_at, finished_at, duration_ms)
         values ($1, $2, $3, 'sft', $4, $5, $6, $7, $8, $9, $10, $11, 'feedloop-gpu', $12, $13, $14, $15)`,
        [
          jobId,
          c,
          k,
          spec.simulated ? 'simulated' : 'none',
          spec.simulated ? 'completed' : 'skipped',
          `/blobs/${c}/iteration-${k}/sft.jsonl`,
          it.refinementsKept,
          checkpoint,
          spec.simulated ? it.steps : 0,
          spec.simulated ? JSON.stringify({ simulated: true }) : null,
          `gpu-${hostname}`,
          spec.simulated ? 'simulated trainer: no real weights' : `no trainer configured: the fine-tuning set (${it.refinementsKept} examples) was written; no weights were trained`,
          at(start + 30),
          at(start + 31),
          1000 + 7 * k + (spec.attempt ?? 0),
        ],
      );
      if (spec.simulated) policy = { ...(policy as object), model: checkpoint };

      // 7. evaluation on MBPP_Test: a child workflow and an eval run of the same id
      const evalId = ilfIds.evaluation(c, k);
      const evalOutcomes = expand(it.evaluation.outcomes);
      const metrics = {
        evalRunId: evalId,
        dataset: 'mbpp',
        split: 'test',
        policy,
        tasks: it.evaluation.tasks,
        samples: evalOutcomes.length,
        scored: evalOutcomes.filter((o) => o !== 'infra_error').length,
        outcomes: it.evaluation.outcomes,
        passAtK: it.evaluation.passAtK,
      };
      await seedSampleRun(db, { id: evalId, workflowId: evalId, runId: randomUUID(), split: 'test', policy, n: it.evaluation.samplesPerTask, metrics }, evalOutcomes, {
        taskBase: 11,
        samplesPerTask: it.evaluation.samplesPerTask,
        at: at(start + 40),
        hostname,
        attempt,
      });
    }
    await db.query('commit');
  } catch (err) {
    await db.query('rollback');
    throw err;
  } finally {
    db.release();
    await pool.end();
  }
}

/** Two iterations with distinct numbers in every column. */
export function standardIterations(): SeedIteration[] {
  return [
    {
      trainOutcomes: { passed: 3, failed: 4, runtime_error: 2, timeout: 1 },
      feedbackRequested: 7,
      feedbackReceived: 6,
      refinementsGenerated: 6,
      refinementsKept: 4,
      steps: 8,
      evaluation: { tasks: 3, samplesPerTask: 10, outcomes: { passed: 9, failed: 18, compile_error: 3 }, passAtK: { '1': 0.3, '10': 2 / 3 } },
    },
    {
      trainOutcomes: { passed: 5, failed: 3, runtime_error: 1, infra_error: 1 },
      feedbackRequested: 4,
      feedbackReceived: 4,
      refinementsGenerated: 4,
      refinementsKept: 3,
      steps: 6,
      evaluation: { tasks: 3, samplesPerTask: 10, outcomes: { passed: 15, failed: 15 }, passAtK: { '1': 0.5, '10': 1 } },
    },
  ];
}
