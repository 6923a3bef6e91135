import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runAuditCommand } from '../../cli/audit';
import { rejectionReason, startCampaign } from '../../cli/campaign';
import { writeCampaignReport } from '../../cli/report';
import { loadRlcfAudit, rlcfAuditNumbers } from '../../loops/rlcf/audit';
import { RLCF_PHASES, rlcfIds } from '../../loops/rlcf/types';
import { rlcfCampaignWorkflow } from '../../loops/rlcf/workflow';
import { campaignStatusQuery, pauseCampaignUpdate, resumeCampaignUpdate, stopCampaignUpdate } from '../../workflows/control';
import { maybeRecordHistory } from '../helpers/history';
import { withWorkers } from '../helpers/temporal';
import { tempDir } from '../helpers/temp-dir';
import { campaignId } from '../ilf/helpers';
import { rlcfConfig } from './helpers';

/**
 * The RLCF dry run, end to end on the suite's real Temporal server, PostgreSQL and sandbox: a
 * SIMULATED Java policy, real javac and JVM runs for the compile, static-check and test stages,
 * the SIMULATED discriminator, rewards into the shared reward table, the policy update through a
 * real protocol trainer process, and the Java evaluation (MBJP eval tasks, MathQA-Java) with
 * iteration 0; then the audit and the report. The run's numbers are printed for the README.
 */
const ctx = withWorkers('rlcf-dry');
let pool: pg.Pool;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});
afterAll(async () => {
  await pool?.end();
});

describe('RLCF dry-run campaign', () => {
  it('runs three iterations through every grounding stage; audit and report show the four rates per iteration and iteration 0', { timeout: 600_000 }, async () => {
    const id = campaignId('rlcf-dry');
    const config = rlcfConfig(ctx.queues);
    const result = await ctx.client.workflow.execute(rlcfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    expect(result.iterations).toHaveLength(3);

    const its = (await pool.query<{ status: string; counts: Record<string, unknown>; policy: { trained?: { examples: number } } }>(
      'select status, counts, policy from campaign_iterations where campaign_id = $1 order by iteration',
      [id],
    )).rows;
    expect(its.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    for (const r of its) expect(r.counts.phases).toEqual([...RLCF_PHASES]);

    const audit = await loadRlcfAudit(pool, id);
    expect(audit.campaign).toMatchObject({ algorithm: 'rlcf', status: 'completed', simulated: true });
    expect(audit.campaign.simulatedParts).toEqual(['models.policy', 'grounding.discriminator', 'trainer']);
    expect(audit.start?.evaluation.mbjp).toMatchObject({ status: 'completed', tasks: 10, samples: 20 });
    expect(audit.start?.evaluation.mathqa).toMatchObject({ status: 'completed', tasks: 5, samples: 10 });
    for (const it of audit.iterations) {
      const s = it.stages;
      expect(it.mismatches).toEqual([]);
      expect(it.rollouts).toEqual({ generated: 24, tasks: 12 });
      // Every stage saw what it should: all programs compiled or not; static checks and the discriminator only on compiled ones.
      expect(s.compiled + s.compileErrors + s.compileTimeouts + s.compileInfraErrors).toBe(24);
      expect(s.staticChecked).toBe(s.compiled);
      expect(s.discriminator.asked).toBe(s.compiled);
      expect(Object.values(s.tests).reduce((a, b) => a + b, 0)).toBe(24);
      expect(it.rewards.scored + it.rewards.unscorable).toBe(24);
      // Unscorable discriminator answers leave their programs out of the update: never a 0.
      expect(it.rewards.unscorableByReason.discriminator_unscorable ?? 0).toBe(s.discriminator.unscorable);
      expect(it.policyUpdate).toMatchObject({ kind: 'policy_update', status: 'completed', weights: 'simulated', examples: it.rewards.scored, steps: 6 });
      expect(it.rewards.histogram.reduce((a, b) => a + b.n, 0)).toBe(it.rewards.scored);
      for (const e of [it.evaluation!.mbjp!, it.evaluation!.mathqa!]) {
        for (const rate of [e.compileRate, e.staticCheckPassRate, e.executionRate, e.passAtK['1'], e.passAtK['2']]) {
          expect(rate).toBeGreaterThanOrEqual(0);
          expect(rate).toBeLessThanOrEqual(1);
        }
        expect(e.staticCheckPassRate!).toBeLessThanOrEqual(e.compileRate!);
        expect(e.passAtK['1']!).toBeLessThanOrEqual(e.passAtK['2']!);
      }
    }
    // Failures of every kind the simulated policy makes reach their stage.
    const all = audit.iterations;
    expect(all.some((it) => it.stages.compileErrors > 0)).toBe(true);
    expect(all.some((it) => (it.stages.staticFailures['lint:empty'] ?? 0) > 0)).toBe(true);
    expect(all.some((it) => (it.stages.tests.runtime_error ?? 0) > 0)).toBe(true);
    expect(all.some((it) => it.stages.discriminator.unscorable > 0)).toBe(true);
    const [{ n: zero }] = (await pool.query<{ n: string }>(`select count(*) as n from rollout_rewards where campaign_id = $1 and status = 'unscorable' and reward is not null`, [id])).rows as [{ n: string }];
    expect(Number(zero)).toBe(0);
    const [{ sources }] = (await pool.query<{ sources: string[] }>('select array_agg(distinct source) as sources from rollout_rewards where campaign_id = $1', [id])).rows as [{ sources: string[] }];
    expect(sources).toEqual(['compiler-feedback']);
    // The policy learns from its updates, and the evaluation shows it against the start.
    expect(its[1]!.policy.trained?.examples).toBe(all[0]!.policyUpdate!.examples);
    expect(all[2]!.evaluation!.mbjp!.compileRate!).toBeGreaterThanOrEqual(audit.start!.evaluation.mbjp!.compileRate!);
    expect(rlcfAuditNumbers(audit).iterations).toHaveLength(3);

    const out: string[] = [];
    expect(await runAuditCommand(id, { databaseUrl: inject('databaseUrl') }, { out: (t) => void out.push(t), err: (t) => void out.push(t) })).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/compile\s+static\s+execution\s+pass@1\s+pass@k/);
    expect(text).toContain('0 (start)');
    expect(text).toContain('UNSCORABLE (kept out of the update, never 0');
    expect(text).toMatch(/MBJP eval\s+compile \d+\.\d%.*pts over the start/);
    const dir = tempDir('rlcf-report');
    const page = fs.readFileSync(await writeCampaignReport(inject('databaseUrl'), id, { out: path.join(dir, 'r.html') }), 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(page).toContain('The four rates on the MBJP eval tasks');
    expect(page).toContain('The four rates on MathQA-Java');
    expect(page).toContain('<title>start: compile rate ');
    expect(page).toContain('<title>it 3: pass@1 ');
    expect(page).toContain('banner-simulated');
    expect(page).not.toMatch(/<script/i);

    await maybeRecordHistory(ctx.client, id, 'rlcf-dry-run-kernel');
    await maybeRecordHistory(ctx.client, rlcfIds.iterationWorkflow(id, 1), 'rlcf-iteration-dry-run-kernel');
  });

  it('starts from a file, pauses, refuses a second pause with the reason, resumes, and stops after the current step', { timeout: 300_000 }, async () => {
    const id = campaignId('rlcf-pause');
    const dir = tempDir('rlcf-config');
    const file = path.join(dir, 'campaign.json');
    fs.writeFileSync(file, JSON.stringify(rlcfConfig(ctx.queues, { iterations: 4, evaluateStart: false, dataset: { rolloutTasks: 3, maxEvalTasks: 2, mathqaEvalTasks: 0 } })));
    const started = await startCampaign(ctx.client, id, file);
    fs.rmSync(dir, { recursive: true, force: true });
    expect((await started.describe()).type).toBe('rlcfCampaignWorkflow');
    const handle = ctx.client.workflow.getHandle<typeof rlcfCampaignWorkflow>(id);
    expect((await handle.executeUpdate(pauseCampaignUpdate)).paused).toBe(true);
    expect(rejectionReason(await handle.executeUpdate(pauseCampaignUpdate).catch((e: unknown) => e))).toMatch(/already paused/);
    const rows = async () => JSON.stringify((await pool.query('select iteration, phase, counts from campaign_iterations where campaign_id = $1 order by iteration', [id])).rows);
    const before = await rows();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await rows()).toBe(before);
    expect((await handle.query(campaignStatusQuery)).metric.name).toBe('pass@1');
    await handle.executeUpdate(resumeCampaignUpdate);
    expect((await handle.executeUpdate(stopCampaignUpdate)).stopRequested).toBe(true);
    const result = await handle.result();
    expect(result.status).toBe('stopped');
    expect(result.iterations.length).toBeLessThan(4);
    const [campaign] = (await pool.query<{ status: string }>('select status from campaigns where id = $1', [id])).rows;
    expect(campaign!.status).toBe('stopped');
  });
});
