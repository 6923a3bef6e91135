import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runAuditCommand } from '../../cli/audit';
import { rejectionReason } from '../../cli/campaign';
import { writeCampaignReport } from '../../cli/report';
import { loadCrlhfAudit, crlhfAuditNumbers } from '../../loops/crlhf/audit';
import { annotationProgressQuery } from '../../loops/crlhf/annotation-protocol';
import { CRLHF_PHASES, crlhfIds } from '../../loops/crlhf/types';
import { crlhfCampaignWorkflow } from '../../loops/crlhf/workflow';
import { campaignStatusQuery, pauseCampaignUpdate, resumeCampaignUpdate, stopCampaignUpdate } from '../../workflows/control';
import { maybeRecordHistory } from '../helpers/history';
import { tempDir } from '../helpers/temp-dir';
import { withWorkers } from '../helpers/temporal';
import { campaignId } from '../ilf/helpers';
import { crlhfConfig, SMALL, waitForAnnotation } from './helpers';

/**
 * The cRLHF dry run (examples/crlhf-dry-run.yaml) end to end on the suite's Temporal server and
 * PostgreSQL: a SIMULATED policy and a SIMULATED crowd (set reliabilities, two spammers, an
 * always-correct annotator) submitting through the real update, the real sandbox and honeypots,
 * consensus rewards, the shared policy update through a protocol trainer, pass@k on HumanEval and
 * MBPP, the audit and the report.
 */
const ctx = withWorkers('crlhf-dry');
let pool: pg.Pool;
beforeAll(() => void (pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 })));
afterAll(async () => pool?.end());

describe('cRLHF dry-run campaign', () => {
  it('runs three iterations; estimated reliabilities track the set ones and the consensus beats majority vote on honeypots', async () => {
    const id = campaignId('crlhf-dry');
    const result = await ctx.client.workflow.execute(crlhfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config: crlhfConfig(ctx.queues) }] });
    expect(result.status).toBe('completed');
    expect(result.iterations).toHaveLength(3);
    const audit = await loadCrlhfAudit(pool, id);
    if (process.env.FEEDLOOP_PRINT_AUDIT) console.log(JSON.stringify(crlhfAuditNumbers(audit), null, 1));
    expect(audit.campaign).toMatchObject({ algorithm: 'crlhf', status: 'completed', simulated: true });
    expect(audit.campaign.simulatedParts).toEqual(['models.policy', 'crowd', 'trainer']);
    expect(audit.start?.evaluation.status).toBe('completed');
    const its = (await pool.query<{ counts: { phases: string[] } }>('select counts from campaign_iterations where campaign_id = $1 order by iteration', [id])).rows;
    for (const r of its) expect(r.counts.phases).toEqual([...CRLHF_PHASES]);

    let consensusRight = 0;
    let majorityRight = 0;
    let lines = 0;
    for (const it of audit.iterations) {
      expect(it.mismatches).toEqual([]);
      expect(it.rollouts.generated).toBe(24);
      expect(it.annotation).toMatchObject({ items: 38, honeypots: { mutant: 12, gold: 2 }, assignments: 114 });
      // dita answers ~80% of hers; everyone else all of theirs
      const dita = it.annotators.find((a) => a.annotator === 'dita')!;
      expect(dita.answered).toBeLessThan(dita.assigned);
      expect(it.annotation.labels).toBe(114 - (dita.assigned - dita.answered));
      expect(it.rewards.scored + it.rewards.unscorable).toBe(24);
      expect(it.rewards.source).toBe('crowd-consensus');
      expect(it.policyUpdate).toMatchObject({ kind: 'policy_update', status: 'completed', examples: it.rewards.scored });
      // two spammers and an always-correct annotator hold the agreement near chance: weighting, not counting, is what helps
      expect(Math.abs(it.agreement.krippendorffAlpha!)).toBeLessThan(0.5);
      consensusRight += it.honeypotAccuracy.consensus! * it.honeypotAccuracy.lines;
      majorityRight += it.honeypotAccuracy.majorityVote! * it.honeypotAccuracy.lines;
      lines += it.honeypotAccuracy.lines;
    }
    // Averaged over the iterations, the reliable annotators' estimates track their set reliabilities,
    // the spammers' sit near 0.5, and the best annotator is well above them.
    const mean = (name: string) => audit.iterations.reduce((s, it) => s + it.annotators.find((a) => a.annotator === name)!.estimated!, 0) / audit.iterations.length;
    const setOf = Object.fromEntries(audit.iterations[0]!.annotators.map((a) => [a.annotator, a.set]));
    for (const name of ['ana', 'ben', 'chen', 'dita']) expect(Math.abs(mean(name) - setOf[name]!)).toBeLessThan(0.1);
    for (const name of ['spam', 'sam']) expect(Math.abs(mean(name) - 0.5)).toBeLessThan(0.1);
    expect(mean('ana')).toBeGreaterThan(mean('spam') + 0.3);
    // Over the three iterations' honeypot lines, the reliability-weighted consensus is right more often.
    expect(consensusRight / lines).toBeGreaterThan(majorityRight / lines);
    // The policy learns: iteration 3's pass@1 is above the start's.
    expect(audit.iterations[2]!.evaluation!.passAtK['1']!).toBeGreaterThan(audit.start!.evaluation.passAtK['1']!);

    const out: string[] = [];
    expect(await runAuditCommand(id, { databaseUrl: inject('databaseUrl') }, { out: (t) => void out.push(t), err: (t) => void out.push(t) })).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('SIMULATED spammer');
    expect(text).toMatch(/consensus \d+\.\d% right \(held out\), majority vote \d+\.\d%/);
    const dir = tempDir('crlhf-report');
    const page = fs.readFileSync(await writeCampaignReport(inject('databaseUrl'), id, { out: path.join(dir, 'r.html') }), 'utf8');
    expect(page).toContain('Annotator reliability');
    expect(page).toContain('Consensus score distribution');
    expect(page).toContain('pass@k per iteration');
    expect(page).toContain('banner-simulated');
    expect(page).not.toMatch(/<script/i);

    await maybeRecordHistory(ctx.client, id, 'crlhf-dry-run-kernel');
  });

  it('pauses while annotation is open, refuses a second pause, resumes, and stops after the current step', async () => {
    const id = campaignId('crlhf-pause');
    const config = crlhfConfig(ctx.queues, { ...SMALL, iterations: 3, crowd: { annotators: ['ann', 'bob'], k: 2, deadline: '1h', quorum: 0 } });
    const handle = await ctx.client.workflow.start(crlhfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    await waitForAnnotation(ctx.client, id, 1);
    expect((await handle.executeUpdate(pauseCampaignUpdate)).paused).toBe(true);
    expect(rejectionReason(await handle.executeUpdate(pauseCampaignUpdate).catch((e: unknown) => e))).toMatch(/already paused/);
    expect((await handle.query(campaignStatusQuery)).paused).toBe(true);
    await handle.executeUpdate(resumeCampaignUpdate);
    expect((await handle.executeUpdate(stopCampaignUpdate)).stopRequested).toBe(true);
    // A stop ends the annotation wait (days, for people) and the iteration after it.
    const result = await handle.result();
    expect(result.status).toBe('stopped');
    expect(result.iterations).toHaveLength(1);
    expect(result.iterations[0]!).toMatchObject({ completed: false, lastPhase: 'annotate' });
    const progress = await ctx.client.workflow.getHandle(crlhfIds.iterationWorkflow(id, 1)).query(annotationProgressQuery);
    expect(progress.open).toBe(false);
  });
});
