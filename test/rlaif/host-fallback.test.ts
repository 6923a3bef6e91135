import { describe, expect, it } from 'vitest';
import { formatPlacement } from '../../audit/core';
import type { StepPlacement } from '../../common/task-queues';
import { loadRlaifAudit } from '../../loops/rlaif/audit';
import { rlaifIds } from '../../loops/rlaif/types';
import { rlaifCampaignWorkflow } from '../../loops/rlaif/workflow';
import { preemptedGpuHost } from '../helpers/preempted-gpu-host';
import { withWorkers } from '../helpers/temporal';
import { campaignId } from '../ilf/helpers';
import { rlaifConfig } from './helpers';

/**
 * RLAIF when the host that trained the reward model (and the updated policy) is gone for good:
 * the GPU worker here reports its models on `<gpu>@preempted-host`, a queue no worker polls, as
 * a preempted host would leave them. Reward scoring and the evaluation's answers wait there the
 * host schedule-to-start timeout, then run on the shared GPU queue; the rollouts' and the
 * evaluation's eval runs record where each step ran, why, and the worker that ran it.
 */
const ctx = withWorkers('rlaif-fallback', ['workflow', 'cpu']);
const SURVIVOR = { identity: '4242@survivor/gpu', hostId: 'survivor' };
const host = preemptedGpuHost('rlaif-fallback', () => ctx.queues.gpu, SURVIVOR);

describe('RLAIF on a reward model host that never comes back', () => {
  it('scores the rollouts and evaluates the update on any GPU host after the timeout, and the audit says where and why', async () => {
    const id = campaignId('rlaif-fallback');
    const config = rlaifConfig(ctx.queues, {
      iterations: 1,
      dataset: { rolloutQuestions: 6, maxEvalQuestionsPerHub: 2 },
      timeouts: { store: '1m', cpuHeartbeat: '1m', gpuHeartbeat: '1m', hostScheduleToStart: '2s' },
    });
    const result = await ctx.client.workflow.execute(rlaifCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    const gone = host.goneQueue();
    const pool = host.pool();
    const fellBack = (step: string) => ({ step, taskQueue: ctx.queues.gpu, reason: 'fallback', preferred: gone, after: '2s', worker: SURVIVOR.identity, host: SURVIVOR.hostId });
    const placementOf = async (evalRunId: string) => (await pool.query<{ placement: Record<string, StepPlacement> }>('select placement from eval_runs where id = $1', [evalRunId])).rows[0]!.placement;
    expect(await placementOf(rlaifIds.rollouts(id, 1))).toEqual({ score: fellBack('score') });
    expect(await placementOf(rlaifIds.evaluation(id, 1))).toEqual({ generate: fellBack('generate') });

    const audit = await loadRlaifAudit(pool, id);
    const [it1] = audit.iterations;
    expect(it1!.rewards.scored).toBe(12);
    expect(formatPlacement(it1!.rewards.placement)).toBe(`score on ${ctx.queues.gpu} by ${SURVIVOR.identity} (fallback: ${gone} took nothing for 2s)`);
    expect(formatPlacement(it1!.evaluation!.placement)).toBe(`generate on ${ctx.queues.gpu} by ${SURVIVOR.identity} (fallback: ${gone} took nothing for 2s)`);
  });
});
