import { describe, expect, it } from 'vitest';
import { ilfCampaignWorkflow } from '../../workflows';
import { ilfIds } from '../../loops/ilf/types';
import { withWorkers } from '../helpers/temporal';
import { maybeRecordHistory } from '../helpers/history';
import { campaignId, exampleConfig, query } from './helpers';
import { inject } from 'vitest';
import { createPool } from '../../infra/pool';
import { auditNumbers, loadCampaignAudit } from '../../loops/ilf/audit';

/**
 * The demo campaign end to end on the real servers: CodeGen-Mono 6.1B's recorded programs,
 * the released human feedback and refinements, filtered by the real sandbox, no training.
 */
const ctx = withWorkers('ilf-demo');

describe('ILF demo campaign', () => {
  it('runs generate -> test -> feedback -> refine -> filter -> train -> evaluate on the released data', async () => {
    const id = campaignId('demo');
    const config = exampleConfig('ilf-demo.yaml', ctx.queues);
    const result = await ctx.client.workflow.execute(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    const [it1] = result.iterations;
    expect(it1!.completed).toBe(true);
    // The train split (111-974, disjoint from test 11-110) holds 172 of the 195 recorded programs;
    // every one is a program the annotators were asked to fix: all of them fail.
    expect(it1!.counts.samples).toBe(172);
    expect(it1!.counts.failing).toBe(172);
    expect(it1!.counts.feedbackReceived).toBe(172);
    expect(it1!.counts.refinementsGenerated).toBe(172);
    const kept = it1!.counts.refinementsKept!;
    expect(kept).toBeGreaterThan(100);
    expect(kept).toBeLessThan(172);
    expect(it1!.counts.trainingExamples).toBe(kept);

    const [row] = await query<{ counts: { phases: string[] }; status: string; metrics: Record<string, number> }>(
      'select counts, status, metrics from campaign_iterations where campaign_id = $1 and iteration = 1',
      [id],
    );
    expect(row!.status).toBe('completed');
    expect(row!.counts.phases).toEqual(['generate', 'test', 'feedback', 'refine', 'filter', 'train', 'evaluate']);
    const [job] = await query<{ status: string; note: string; examples: number }>('select status, note, examples from training_jobs where id = $1', [ilfIds.trainingJob(id, 1)]);
    expect(job!.status).toBe('skipped');
    expect(job!.note).toMatch(/no trainer configured; the fine-tuning set \(\d+ examples\) was written to .*sft.jsonl/);
    expect(job!.examples).toBe(kept);
    const pool = createPool(inject('databaseUrl'), 2);
    try {
      const audit = await loadCampaignAudit(pool, id);
      expect(audit.iterations[0]!.training?.statement).toMatch(/^no weights were trained: no trainer configured/);
      expect(auditNumbers(audit).iterations[0]!.refinements).toEqual({ generated: 172, tested: 172, kept });
    } finally {
      await pool.end();
    }
    console.log(`demo figures: ${it1!.counts.failing} failing recorded programs, ${kept}/172 human refinements pass their tests`);
    await maybeRecordHistory(ctx.client, id, 'ilf-campaign-demo');
    await maybeRecordHistory(ctx.client, ilfIds.iterationWorkflow(id, 1), 'ilf-iteration-demo');
  });
});
