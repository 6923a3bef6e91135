import { describe, expect, it } from 'vitest';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import { campaignStatusQuery, pauseCampaignUpdate, resumeCampaignUpdate, stopCampaignUpdate } from '../../workflows/control';
import { ILF_PHASES, ilfIds } from '../../loops/ilf/types';
import { loadCampaignAudit } from '../../loops/ilf/audit';
import { formatAudit } from '../../loops/ilf/audit-text';
import { withPool } from '../../infra/pool';
import { inject } from 'vitest';
import { withWorkers } from '../helpers/temporal';
import { maybeRecordHistory } from '../helpers/history';
import { campaignId, exampleConfig, query } from './helpers';
import { rejectionReason } from '../../cli/campaign';

/** The dry-run config: simulated models, the real sandbox, servers and store. */
const ctx = withWorkers('ilf-dry');

async function iterationRows(id: string) {
  return query<{ iteration: number; status: string; counts: { phases?: string[]; refinementsKept?: number }; metrics: Record<string, number> | null; policy: { backend: string; trained?: { examples: number } } }>(
    'select iteration, status, counts, metrics, policy from campaign_iterations where campaign_id = $1 order by iteration',
    [id],
  );
}

describe('ILF dry-run campaign', () => {
  it('completes three iterations with every phase recorded, each policy trained on the last one\'s refinements', async () => {
    const id = campaignId('dry');
    const config = exampleConfig('ilf-dry-run.yaml', ctx.queues, { dataset: { maxTrainTasks: 40, maxTestTasks: 20 } });
    const result = await ctx.client.workflow.execute(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    expect(result.iterations).toHaveLength(3);
    const rows = await iterationRows(id);
    expect(rows.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    for (const r of rows) {
      expect(r.counts.phases).toEqual([...ILF_PHASES]);
      expect(r.metrics?.['1']).toBeGreaterThanOrEqual(0);
      expect(r.metrics?.['10']).toBeGreaterThanOrEqual(r.metrics!['1']!);
    }
    // Iteration k+1's policy is iteration k's checkpoint: it has seen the kept refinements.
    expect(rows[0]!.policy.trained?.examples ?? 0).toBe(0);
    expect(rows[1]!.policy.trained?.examples).toBe(rows[0]!.counts.refinementsKept);
    expect(rows[2]!.policy.trained?.examples).toBe(rows[0]!.counts.refinementsKept! + rows[1]!.counts.refinementsKept!);
    const gens = await query<{ n: string }>(`select count(*) as n from generations where eval_run_id like $1 and meta->>'simulated' = 'true'`, [`${id}/%`]);
    expect(Number(gens[0]!.n)).toBeGreaterThan(0);
    // Iteration 0: the starting policy's evaluation, beside which the audit shows each iteration.
    const audit = await withPool(inject('databaseUrl'), (pool) => loadCampaignAudit(pool, id));
    expect(audit.start?.evaluation).toMatchObject({ status: 'completed', tasks: 20, samples: 20 * config.sampling.eval.n });
    expect(audit.start?.evaluation.policy.label).toBe(audit.iterations[0]!.policy.label);
    expect(audit.start?.passAt1).toBeGreaterThanOrEqual(0);
    expect(formatAudit(audit)).toMatch(/pass@1 [\d.]+% \([+-][\d.]+ pts over the start\)/);
    const status = await ctx.client.workflow.getHandle(id).query(campaignStatusQuery);
    expect(status.metric.start).toBe(audit.start?.passAt1);
    await maybeRecordHistory(ctx.client, id, 'ilf-campaign-dry-run');
    await maybeRecordHistory(ctx.client, id, 'ilf-campaign-dry-run-kernel');
    await maybeRecordHistory(ctx.client, ilfIds.iterationWorkflow(id, 1), 'ilf-iteration-dry-run-kernel');
  });

  it('pauses, refuses a second pause with the reason, resumes, and stops after the current step', async () => {
    const id = campaignId('pause');
    const config = exampleConfig('ilf-dry-run.yaml', ctx.queues, { dataset: { maxTrainTasks: 30, maxTestTasks: 10 }, iterations: 5 });
    const handle = await ctx.client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    const paused = await handle.executeUpdate(pauseCampaignUpdate);
    expect(paused.paused).toBe(true);
    expect(rejectionReason(await handle.executeUpdate(pauseCampaignUpdate).catch((e: unknown) => e))).toMatch(/already paused/);
    // While paused, no iteration gets past its current step.
    const before = JSON.stringify(await iterationRows(id));
    await new Promise((r) => setTimeout(r, 2500));
    expect(JSON.stringify(await iterationRows(id))).toBe(before);
    expect((await handle.query(campaignStatusQuery)).paused).toBe(true);

    await handle.executeUpdate(resumeCampaignUpdate);
    expect(rejectionReason(await handle.executeUpdate(resumeCampaignUpdate).catch((e: unknown) => e))).toMatch(/not paused/);
    // Let it reach the second iteration, then stop.
    for (let i = 0; i < 300 && (await iterationRows(id)).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const stopping = await handle.executeUpdate(stopCampaignUpdate);
    expect(stopping.stopRequested).toBe(true);
    const result = await handle.result();
    expect(result.status).toBe('stopped');
    expect(result.iterations.length).toBeLessThan(5);
    const rows = await iterationRows(id);
    expect(rows[0]!.status).toBe('completed');
    expect(rows.length).toBeLessThan(5);
    const [campaign] = await query<{ status: string }>('select status from campaigns where id = $1', [id]);
    expect(campaign!.status).toBe('stopped');
    // A finished campaign takes no more updates.
    await expect(handle.executeUpdate(stopCampaignUpdate)).rejects.toThrow();
  });

  it('trains pi_Refine on the MBPP_Refine triples before the first iteration, and refines with it', async () => {
    const id = campaignId('refiner');
    const config = exampleConfig('ilf-dry-run.yaml', ctx.queues, {
      dataset: { maxTrainTasks: 20, maxTestTasks: 5 },
      sampling: { train: { n: 1 }, eval: { n: 1, ks: [1] } },
      models: { policy: { backend: 'simulated', seed: 7 }, refiner: { backend: 'simulated', seed: 8 } },
      refiner: { kind: 'model', train: true },
      iterations: 1,
    });
    const result = await ctx.client.workflow.execute(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    const [job] = await query<{ iteration: number | null; examples: number; status: string; checkpoint: string }>(
      'select iteration, examples, status, checkpoint from training_jobs where id = $1',
      [`${id}/refiner-sft`],
    );
    // The released human data has 44 tasks in MBPP_Refine (111-310).
    expect(job).toMatchObject({ iteration: null, examples: 44, status: 'completed', checkpoint: `simulated://${id}/refiner-sft` });
    const refiners = await query<{ refiner: string }>('select distinct refiner from refinements where campaign_id = $1', [id]);
    expect(refiners.map((r) => r.refiner)).toEqual([`simulated:simulated://${id}/refiner-sft`]);
  });

  it('the real filter keeps only passing refinements; filter none keeps every judged one; filter shuffled (the control) as many as passed, failing ones among them', async () => {
    const kept: Record<string, { kept: number; passed: number; judged: number; keptPassing: number }> = {};
    for (const filter of ['tests', 'none', 'shuffled'] as const) {
      const id = campaignId(`filter-${filter}`);
      const config = exampleConfig('ilf-dry-run.yaml', ctx.queues, {
        dataset: { maxTrainTasks: 20, maxTestTasks: 3 },
        sampling: { train: { n: 2 }, eval: { n: 1, ks: [1] } },
        models: { policy: { backend: 'simulated', seed: 7 }, refiner: { backend: 'simulated', seed: 8 } },
        refiner: { kind: 'model', filter },
        iterations: 1,
      });
      const result = await ctx.client.workflow.execute(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
      expect(result.status).toBe('completed');
      const [row] = await query<{ kept: string; passed: string; judged: string; kept_passing: string }>(
        `select count(*) filter (where f.kept) as kept, count(*) filter (where r.outcome = 'passed') as passed, count(*) filter (where r.outcome <> 'infra_error') as judged,
           count(*) filter (where f.kept and r.outcome = 'passed') as kept_passing
         from refinements f join sandbox_results r on r.batch_id = f.batch_id and r.idx = f.idx where f.campaign_id = $1`,
        [id],
      );
      kept[filter] = { kept: Number(row!.kept), passed: Number(row!.passed), judged: Number(row!.judged), keptPassing: Number(row!.kept_passing) };
      // the audit says when the filter was not ILF's
      const header = formatAudit(await withPool(inject('databaseUrl'), (pool) => loadCampaignAudit(pool, id)));
      if (filter === 'tests') expect(header).not.toContain('no-feedback control');
      else expect(header).toContain(`refiner model (filter ${filter}: a no-feedback control)`);
    }
    expect(kept.tests!.kept).toBe(kept.tests!.passed);
    expect(kept.none!.kept).toBe(kept.none!.judged);
    expect(kept.none!.judged).toBeGreaterThan(kept.none!.passed);
    const s = kept.shuffled!;
    expect(s.passed, JSON.stringify(s)).toBeGreaterThan(0);
    expect(s.judged, JSON.stringify(s)).toBeGreaterThan(s.passed);
    expect(s.kept, JSON.stringify(s)).toBe(s.passed);
    expect(s.keptPassing, JSON.stringify(s)).toBeLessThan(s.kept);
  });

  it('feedback.programs shuffled (the control) asks feedback on as many programs as failed, passing ones among them', async () => {
    const id = campaignId('programs-shuffled');
    const config = exampleConfig('ilf-dry-run.yaml', ctx.queues, {
      dataset: { maxTrainTasks: 20, maxTestTasks: 3 },
      sampling: { train: { n: 2 }, eval: { n: 1, ks: [1] } },
      models: { policy: { backend: 'simulated', seed: 7 }, refiner: { backend: 'simulated', seed: 8 } },
      feedback: { source: 'dataset', programs: 'shuffled' },
      refiner: { kind: 'model' },
      iterations: 1,
    });
    const result = await ctx.client.workflow.execute(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    const [row] = await query<{ failed: string; requested: string; requested_passing: string }>(
      `select (select count(*) from sandbox_items i join sandbox_results r using (batch_id, idx) join sandbox_batches b on b.id = i.batch_id
               where b.owner = $2 and r.outcome not in ('passed', 'infra_error')) as failed,
              count(*) as requested,
              count(*) filter (where r.outcome = 'passed') as requested_passing
       from feedback_requests q join sandbox_items i on i.generation_id = q.generation_id join sandbox_results r using (batch_id, idx)
       where q.campaign_id = $1 and q.iteration = 1`,
      [id, ilfIds.trainSamples(id, 1)],
    );
    const n = { failed: Number(row!.failed), requested: Number(row!.requested), requestedPassing: Number(row!.requested_passing) };
    expect(n.failed, JSON.stringify(n)).toBeGreaterThan(0);
    expect(n.requested, JSON.stringify(n)).toBe(n.failed);
    expect(n.requestedPassing, JSON.stringify(n)).toBeGreaterThan(0);
    const header = formatAudit(await withPool(inject('databaseUrl'), (pool) => loadCampaignAudit(pool, id)));
    expect(header).toContain('refiner model (programs shuffled: a no-feedback control)');
  });

  it('rejects an invalid config naming every bad field', async () => {
    expect(() => exampleConfig('ilf-dry-run.yaml', ctx.queues, { iterations: 0, sampling: { eval: { n: 5, ks: [1, 10] } }, feedback: { source: 'llm' } })).toThrow(
      /iterations:[\s\S]*sampling\.eval\.ks: pass@10 needs sampling\.eval\.n >= 10[\s\S]*models\.feedback: required/,
    );
  });
});

describe('claim check', () => {
  it('keeps payloads small and an iteration\'s event count independent of the number of tasks', async () => {
    const counts: number[] = [];
    for (const tasks of [8, 64]) {
      const id = campaignId(`claim-${tasks}`);
      const config = exampleConfig('ilf-dry-run.yaml', ctx.queues, {
        dataset: { maxTrainTasks: tasks, maxTestTasks: tasks },
        sampling: { train: { n: 1 }, eval: { n: 2, ks: [1, 2] } },
        // 1 sandbox batch of training programs at 8 tasks, 8 at 64: they run in a child workflow.
        sandbox: { batchSize: 8 },
        iterations: 1,
      });
      await ctx.client.workflow.execute(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
      let largest = 0;
      for (const wf of [id, `${id}/iteration-1`, `${id}/iteration-1/evaluation`]) {
        const history = await ctx.client.workflow.getHandle(wf).fetchHistory();
        for (const e of history.events ?? []) {
          const attrs = Object.values(e).filter((v) => v && typeof v === 'object') as Array<Record<string, unknown>>;
          for (const a of attrs) {
            for (const field of ['input', 'result', 'details']) {
              const payloads = (a[field] as { payloads?: Array<{ data?: Uint8Array }> } | undefined)?.payloads ?? [];
              for (const p of payloads) largest = Math.max(largest, p.data?.length ?? 0);
            }
          }
        }
        if (wf.endsWith('/iteration-1')) counts.push(history.events?.length ?? 0);
      }
      expect(largest).toBeLessThan(256 * 1024);
    }
    expect(counts[1]).toBe(counts[0]);
  });
});
