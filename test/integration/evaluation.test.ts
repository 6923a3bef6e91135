import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import { evaluationWorkflow } from '../../workflows';
import { sandboxBatchesWorkflowId } from '../../workflows/sandbox-batches';
import { testBatchPrefix } from '../../common/sandbox-batches';
import { startWorkers, type RunningWorkers } from '../../workers/run-workers';
import { activityPlacements, maybeRecordHistory } from '../helpers/history';
import { testClient, testWorkerOptions, uniqueQueues, workflowBundle } from '../helpers/temporal';
import type { EvaluationInput } from '../../common/evaluation';
import { selectTasks } from '../../activities/datasets/registry';
import { createLogger } from '../../infra/logger';

/**
 * The first vertical slice, end to end on the real Temporal server and real PostgreSQL:
 * replayed generations on the GPU queue -> sandbox batches on the CPU queue -> pass@k.
 */
const queues = uniqueQueues('eval');
let cpuHost: RunningWorkers;
let gpuHost: RunningWorkers;
let client: Client;
let closeClient: () => Promise<void>;
let pool: pg.Pool;

beforeAll(async () => {
  const opts = testWorkerOptions(queues);
  const log = createLogger('test', 'warn');
  const workflowBundleCode = await workflowBundle();
  // Two "hosts": the CPU one runs workflows and CPU activities, the GPU one only GPU activities.
  cpuHost = await startWorkers(['workflow', 'cpu'], opts, { workflowBundle: workflowBundleCode, log });
  gpuHost = await startWorkers(['gpu'], opts, { log });
  ({ client, close: closeClient } = await testClient());
  pool = new pg.Pool({ connectionString: inject('databaseUrl') });
});

afterAll(async () => {
  cpuHost?.shutdown();
  gpuHost?.shutdown();
  await Promise.all([cpuHost?.done, gpuHost?.done]);
  await closeClient?.();
  await pool?.end();
});

function run(input: Omit<EvaluationInput, 'taskQueues'>, workflowId = `eval-${randomUUID()}`) {
  return {
    workflowId,
    result: client.workflow.execute(evaluationWorkflow, {
      args: [{ ...input, taskQueues: queues }],
      taskQueue: queues.workflow,
      workflowId,
    }),
  };
}

describe('evaluationWorkflow', () => {
  it('evaluates any code dataset of the registry, Python or Java: gold programs pass, pass@1 = 1', async () => {
    const cases = [
      { dataset: 'humaneval', split: 'test', maxTasks: 6 },
      { dataset: 'mbjp', split: 'test', maxTasks: 4 },
      { dataset: 'mbjp', split: 'train', taskRange: [400, 420] as [number, number], maxTasks: 3 },
    ] as const;
    for (const c of cases) {
      const summary = await run({ ...c, policy: { backend: 'replay', source: 'gold' }, samplesPerTask: 1, ks: [1], batchSize: 10 }).result;
      expect(summary.dataset).toBe(c.dataset);
      // Replayed gold programs exist only for tasks with a usable reference (MBJP lacks some).
      const withReference = selectTasks(c).filter((t) => t.reference !== undefined).length;
      expect(withReference).toBeGreaterThan(0);
      expect(summary.tasks, `${c.dataset}/${c.split}`).toBe(withReference);
      expect(summary.outcomes, `${c.dataset}/${c.split}`).toEqual({ passed: withReference });
      expect(summary.passAtK['1']).toBe(1);
    }
    const [row] = (await pool.query<{ n: string }>("select count(*) as n from generations g join eval_runs e on e.id = g.eval_run_id where e.dataset = 'mbjp' and g.program like '%class Main%'")).rows;
    expect(Number(row!.n)).toBe(0); // the program is prompt + solution; the tests are joined in the sandbox
  });

  it('rejects a split a dataset does not have, naming the ones it has', async () => {
    await expect(run({ dataset: 'humaneval', split: 'train', policy: { backend: 'replay', source: 'gold' }, samplesPerTask: 1, ks: [1] }).result).rejects.toThrow(WorkflowFailedError);
  });

  it('scores MBPP gold programs on MBPP_Test, with generation on the GPU queue only', async () => {
    const { workflowId, result } = run(
      { dataset: 'mbpp', split: 'test', policy: { backend: 'replay', source: 'gold' }, samplesPerTask: 1, ks: [1], batchSize: 40 },
      'eval-gold-mbpp-test',
    );
    const summary = await result;
    expect(summary.tasks).toBe(100);
    expect(summary.samples).toBe(100);
    expect(summary.scored).toBe(100);
    // Gold programs pass their own tests (a few MBPP references are known to be broken).
    expect(summary.passAtK['1']).toBeGreaterThanOrEqual(0.97);
    expect(summary.outcomes.infra_error ?? 0).toBe(0);

    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    // The sandbox batches run in a child workflow (one run: 3 batches).
    const batches = await client.workflow.getHandle(sandboxBatchesWorkflowId(testBatchPrefix(workflowId))).fetchHistory();
    const placements = activityPlacements([...(history.events ?? []), ...(batches.events ?? [])]);
    const generation = placements.filter((p) => p.type === 'generateSamples');
    expect(generation.length).toBeGreaterThan(0);
    for (const p of generation) {
      expect(p.taskQueue).toBe(queues.gpu);
      expect(p.startedBy).toMatch(/\/gpu$/);
    }
    for (const p of placements.filter((p) => p.type !== 'generateSamples')) {
      expect(p.taskQueue).toBe(queues.cpu);
      expect(p.startedBy).toMatch(/\/cpu$/);
    }
    // 100 programs in batches of 40 -> 3 sandbox activities
    expect(placements.filter((p) => p.type === 'runTestsBatch')).toHaveLength(3);

    // Claim check: the history carries ids and counts, never programs.
    const sizes = [...(history.events ?? []), ...(batches.events ?? [])].flatMap((e) =>
      [e.activityTaskScheduledEventAttributes?.input, e.activityTaskCompletedEventAttributes?.result]
        .flatMap((p) => p?.payloads ?? [])
        .map((p) => p.data?.length ?? 0),
    );
    expect(Math.max(...sizes)).toBeLessThan(16 * 1024);

    // The store holds the audit trail behind those ids.
    const { rows } = await pool.query('select status, workflow_id, metrics from eval_runs where id = $1', [workflowId]);
    expect(rows[0].status).toBe('completed');
    expect(rows[0].workflow_id).toBe(workflowId);
    expect(rows[0].metrics.passAtK['1']).toBe(summary.passAtK['1']);
    await maybeRecordHistory(client, workflowId, 'evaluation-gold-mbpp-test');
  });

  it('replays the CodeGen-Mono 6.1B programs from the ILF data and scores them', async () => {
    const summary = await run({ dataset: 'mbpp', split: 'all', policy: { backend: 'replay', source: 'ilf-codegen' }, samplesPerTask: 1, ks: [1] }).result;
    expect(summary.tasks).toBe(195);
    expect(summary.samples).toBe(195);
    // These are the programs annotators were asked to fix: most fail their tests.
    expect(summary.passAtK['1']).toBeLessThan(0.5);
    expect((summary.outcomes.failed ?? 0) + (summary.outcomes.runtime_error ?? 0)).toBeGreaterThan(100);
  });

  it('rejects an impossible configuration without retrying, naming the field', async () => {
    const { result } = run({ dataset: 'mbpp', split: 'test', policy: { backend: 'replay', source: 'gold' }, samplesPerTask: 1, ks: [10] });
    const err = await result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/ks: 10 must be an integer in 1\.\.samplesPerTask/);
  });
});
