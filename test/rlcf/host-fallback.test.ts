import { describe, expect, it } from 'vitest';
import { formatPlacement } from '../../audit/core';
import type { StepPlacement } from '../../common/task-queues';
import { loadRlcfAudit } from '../../loops/rlcf/audit';
import { formatRlcfAudit } from '../../loops/rlcf/audit-text';
import { rlcfIds } from '../../loops/rlcf/types';
import { rlcfCampaignWorkflow } from '../../loops/rlcf/workflow';
import { preemptedGpuHost } from '../helpers/preempted-gpu-host';
import { withWorkers } from '../helpers/temporal';
import { campaignId } from '../ilf/helpers';
import { rlcfConfig } from './helpers';

/**
 * RLCF's trained discriminator when the host that trained it is gone for good: the GPU worker
 * here reports its jobs on `<gpu>@preempted-host`, a queue no worker polls. The classifier's
 * scoring waits there the host schedule-to-start timeout, then runs on the shared GPU queue
 * (reading the export from the shared store); the rollouts' eval run and the audit say where,
 * why, and which worker ran it. Without the fallback this campaign would wait forever.
 */
const ctx = withWorkers('rlcf-fallback', ['workflow', 'cpu']);
const SURVIVOR = { identity: '4343@survivor/gpu', hostId: 'survivor' };
const host = preemptedGpuHost('rlcf-fallback', () => ctx.queues.gpu, SURVIVOR);

describe('RLCF on a discriminator host that never comes back', () => {
  it('scores the compiled rollouts on any GPU host after the timeout, and the audit says where and why', { timeout: 300_000 }, async () => {
    const id = campaignId('rlcf-fallback');
    const config = rlcfConfig(ctx.queues, {
      iterations: 1,
      evaluateStart: false,
      dataset: { rolloutTasks: 6, maxEvalTasks: 3, mathqaEvalTasks: 0 },
      grounding: { discriminator: { kind: 'trained', baseModel: 'simulated-discriminator-base' } },
      timeouts: { store: '1m', cpuHeartbeat: '1m', gpuHeartbeat: '1m', hostScheduleToStart: '2s' },
    });
    const result = await ctx.client.workflow.execute(rlcfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    const gone = host.goneQueue();
    const pool = host.pool();
    const fellBack = (step: string) => ({ step, taskQueue: ctx.queues.gpu, reason: 'fallback', preferred: gone, after: '2s', worker: SURVIVOR.identity, host: SURVIVOR.hostId });
    const placementOf = async (evalRunId: string) => (await pool.query<{ placement: Record<string, StepPlacement> }>('select placement from eval_runs where id = $1', [evalRunId])).rows[0]!.placement;
    expect(await placementOf(rlcfIds.rollouts(id, 1))).toEqual({ discriminate: fellBack('discriminate') });
    expect(await placementOf(rlcfIds.evalRun(id, 1, 'mbjp'))).toEqual({ generate: fellBack('generate') });

    const audit = await loadRlcfAudit(pool, id);
    const [it1] = audit.iterations;
    const d = it1!.stages.discriminator;
    expect(d.kind).toBe('trained');
    expect(d.asked).toBe(it1!.stages.compiled);
    expect(d.scored + d.unscorable).toBe(d.asked);
    expect(d.byMethod.onnx).toBe(d.scored);
    const line = `discriminate on ${ctx.queues.gpu} by ${SURVIVOR.identity} (fallback: ${gone} took nothing for 2s)`;
    expect(formatPlacement(d.placement)).toBe(line);
    expect(formatRlcfAudit(audit)).toContain(line);
  });
});
