import { Client, Connection } from '@temporalio/client';
import { SingleBar, Presets } from 'cli-progress';
import pg from 'pg';
import type { EvaluationInput, EvaluationSummary, PolicySpec } from '../common/evaluation';
import { PHASE } from '../common/search-attributes';
import { DEFAULT_TASK_QUEUES, type TaskQueues } from '../common/task-queues';
import { evaluationWorkflow } from '../workflows';
import { formatTable } from '../audit/text';
import { temporalConnectionOptions } from '../infra/temporal-connection';

/**
 * Starts an evaluation workflow and follows it with a live progress line (phase from the
 * workflow's search attributes, tested programs from the store) until it completes.
 */
export async function runEvaluation(opts: {
  client: Client;
  databaseUrl: string;
  workflowId: string;
  input: EvaluationInput;
  queues?: TaskQueues;
  progress?: boolean;
}): Promise<EvaluationSummary> {
  const queues = opts.queues ?? DEFAULT_TASK_QUEUES;
  const handle = await opts.client.workflow.start(evaluationWorkflow, {
    args: [{ ...opts.input, taskQueues: queues }],
    taskQueue: queues.workflow,
    workflowId: opts.workflowId,
  });
  if (opts.progress === false || !process.stderr.isTTY) return handle.result();

  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 1 });
  const bar = new SingleBar(
    { format: '  {label} [{bar}] {value}/{total} programs tested | phase: {phase}', hideCursor: true, clearOnComplete: false, stream: process.stderr },
    Presets.shades_classic,
  );
  bar.start(1, 0, { label: opts.workflowId, phase: 'starting' });
  const timer = setInterval(() => {
    void (async () => {
      try {
        const [desc, counts] = await Promise.all([
          handle.describe(),
          pool.query<{ total: string; done: string }>(
            `select (select count(*) from generations where eval_run_id = $1) as total,
                    (select count(*) from sandbox_results r join sandbox_batches b on b.id = r.batch_id where b.owner = $1) as done`,
            [opts.workflowId],
          ),
        ]);
        const row = counts.rows[0];
        bar.setTotal(Math.max(1, Number(row?.total ?? 1)));
        bar.update(Number(row?.done ?? 0), { phase: desc.typedSearchAttributes.get(PHASE) ?? 'starting' });
      } catch {
        /* progress is best effort */
      }
    })();
  }, 300);
  try {
    const summary = await handle.result();
    bar.update(summary.samples, { phase: 'done' });
    return summary;
  } finally {
    clearInterval(timer);
    bar.stop();
    await pool.end();
  }
}

export async function connectClient(address: string, namespace: string): Promise<{ client: Client; close: () => Promise<void> }> {
  // A short connect timeout: an unreachable server is a user error to report, not to wait out.
  // TLS, mTLS and API key: TEMPORAL_TLS_* / TEMPORAL_API_KEY (infra/temporal-connection.ts).
  const connection = await Connection.connect({ ...temporalConnectionOptions(address), connectTimeout: '3s' });
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}

/** "replay:gold", "simulated:<model> (SIMULATED)", "openai:<model>" */
export function policyLabel(p: PolicySpec): string {
  if (p.backend === 'replay') return `replay:${p.source}`;
  if (p.backend === 'simulated') return `simulated:${p.model} (SIMULATED)`;
  if (p.backend === 'onnx') return `onnx:${p.modelDir}`;
  return `openai:${p.adapter?.name ?? p.model}`;
}

/** A fixed-width summary table for terminals. */
export function formatSummaries(rows: readonly EvaluationSummary[]): string {
  const ks = [...new Set(rows.flatMap((r) => Object.keys(r.passAtK)))].sort((a, b) => Number(a) - Number(b));
  const percent = (p: number | undefined) => (p === undefined ? '-' : `${(100 * p).toFixed(1)}%`);
  return formatTable(
    ['policy', 'split', 'tasks', 'samples', ...ks.map((k) => `pass@${k}`), 'outcomes'],
    rows.map((r) => [
      policyLabel(r.policy),
      r.split,
      String(r.tasks),
      String(r.samples),
      ...ks.map((k) => percent(r.passAtK[k])),
      Object.entries(r.outcomes)
        .map(([o, n]) => `${o}=${n}`)
        .join(' '),
    ]),
  );
}
