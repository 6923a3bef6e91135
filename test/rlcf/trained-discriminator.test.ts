import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadRlcfAudit } from '../../loops/rlcf/audit';
import { rlcfIds } from '../../loops/rlcf/types';
import { rlcfCampaignWorkflow } from '../../loops/rlcf/workflow';
import { activityPlacements } from '../helpers/history';
import { withWorkers } from '../helpers/temporal';
import { campaignId } from '../ilf/helpers';
import { rlcfConfig } from './helpers';

/**
 * RLCF's `trained` discriminator (the paper's GAN-like setting) through the real paths: a
 * reward_model job of the trainer protocol (a real protocol trainer process; the simulated
 * trainer writes a fixed tiny ONNX classifier, not trained on the data) on references (1) and
 * compiled rollouts (0), then the onnx backend scoring compiled rollouts on the GPU queue of the
 * host that trained it, P(Yes) = sigmoid(logit).
 */
const ctx = withWorkers('rlcf-trained');
let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});
afterAll(async () => {
  await pool?.end();
});

describe('RLCF trained discriminator', () => {
  it('trains the classifier each iteration on references and compiled rollouts and scores with onnx on the GPU queue', { timeout: 300_000 }, async () => {
    const id = campaignId('rlcf-trained');
    const config = rlcfConfig(ctx.queues, {
      iterations: 2,
      evaluateStart: false,
      dataset: { rolloutTasks: 6, maxEvalTasks: 3, mathqaEvalTasks: 0 },
      grounding: { discriminator: { kind: 'trained', baseModel: 'simulated-discriminator-base' } },
    });
    const result = await ctx.client.workflow.execute(rlcfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    const audit = await loadRlcfAudit(pool, id);
    expect(audit.campaign.simulatedParts).toEqual(['models.policy', 'trainer']);
    let compiledSoFar = 0;
    for (const it of audit.iterations) {
      const d = it.stages.discriminator;
      compiledSoFar += it.stages.compiled;
      expect(d).toMatchObject({ kind: 'trained', asked: it.stages.compiled, scored: it.stages.compiled, unscorable: 0, byMethod: { onnx: it.stages.compiled } });
      expect(d.meanPYes!).toBeGreaterThan(0);
      expect(d.meanPYes!).toBeLessThan(1);
      expect(d.job).toMatchObject({ kind: 'reward_model', status: 'completed', weights: 'simulated', id: rlcfIds.discriminatorJob(id, it.iteration) });
      // References (label 1) of the tasks with compiled rollouts, and those rollouts (label 0) unless identical to the reference.
      const rows = fs.readFileSync(d.job!.datasetPath!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { score: number; program: string });
      expect(rows).toHaveLength(d.job!.examples);
      const generated = rows.filter((r) => r.score === 0).length;
      expect(rows.filter((r) => r.score === 1).length).toBeGreaterThan(0);
      expect(generated).toBeGreaterThan(0);
      expect(generated).toBeLessThanOrEqual(compiledSoFar);
      expect(it.rewards.scored).toBe(it.rollouts.generated);
    }
    const history = await ctx.client.workflow.getHandle(rlcfIds.iterationWorkflow(id, 2)).fetchHistory();
    const placed = activityPlacements(history.events ?? []);
    const train = placed.find((p) => p.type === 'trainDiscriminator')!;
    const score = placed.find((p) => p.type === 'discriminateRollouts')!;
    expect(train.taskQueue).toBe(ctx.queues.gpu);
    // Scored where the classifier was written: the training host's own queue.
    expect(score.taskQueue).not.toBe(ctx.queues.cpu);
    expect(score.taskQueue.startsWith(ctx.queues.gpu)).toBe(true);
  });
});
