import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../../infra/paths';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rejectionReason } from '../../cli/campaign';
import { annotationHandle, submitLineLabels } from '../../cli/annotate';
import { annotationProgressQuery, closeAnnotationUpdate, extendAnnotationDeadlineUpdate, type LineLabel, type LineLabelSubmission } from '../../loops/crlhf/annotation-protocol';
import { crlhfIds } from '../../loops/crlhf/types';
import { crlhfCampaignWorkflow } from '../../loops/crlhf/workflow';
import { rootCause } from '../../workflows/campaign';
import { maybeRecordHistory } from '../helpers/history';
import { withWorkers } from '../helpers/temporal';
import { campaignId } from '../ilf/helpers';
import { crlhfConfig, SMALL, waitForAnnotation } from './helpers';

/**
 * The annotation phase with people (no simulated crowd) on the real servers: items and honeypots
 * stored, k assignments each, every rejection reason of submitLineLabels (nothing recorded), an
 * accepted submission recorded once, the deadline moved and annotation closed early, then the
 * consensus: programs without enough labels UNSCORABLE and left out of the policy update.
 */
const ctx = withWorkers('crlhf-annotate');
let pool: pg.Pool;
beforeAll(() => void (pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 })));
afterAll(async () => pool?.end());

function feedloopCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl') },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

const reasonOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return rejectionReason(err) ?? String(err);
  }
  return 'accepted';
};

describe('cRLHF annotation', () => {
  it('stores items and assignments, rejects every bad submission with its reason, records good ones once, extends and closes', async () => {
    const id = campaignId('crlhf-annotate');
    const config = crlhfConfig(ctx.queues, { ...SMALL, crowd: { annotators: ['ann', 'bob', 'cat'], k: 2, deadline: '1h', quorum: 0 }, consensus: { minLabels: 2 } });
    const handle = await ctx.client.workflow.start(crlhfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    const progress = await waitForAnnotation(ctx.client, id, 1);
    expect(progress.items).toBe(3 + 3);
    expect(progress.perAnnotator.reduce((n, a) => n + a.assigned, 0)).toBe(6 * 2);

    const items = (await pool.query<{ item_id: string; line_count: number; is_honeypot: boolean; known_labels: boolean[] | null; honeypot_kind: string | null }>(
      'select item_id, line_count, is_honeypot, known_labels, honeypot_kind from crowd_items where campaign_id = $1 and iteration = 1 order by item_id', [id])).rows;
    expect(items.filter((i) => i.honeypot_kind === 'mutant')).toHaveLength(2);
    expect(items.filter((i) => i.honeypot_kind === 'gold').every((i) => i.known_labels!.every(Boolean))).toBe(true);
    for (const m of items.filter((i) => i.honeypot_kind === 'mutant')) expect(m.known_labels!.filter((x) => !x).length).toBeGreaterThanOrEqual(1);
    const assignments = (await pool.query<{ item_id: string; annotator: string }>('select item_id, annotator from crowd_assignments where campaign_id = $1 and iteration = 1 order by item_id, annotator', [id])).rows;
    expect(assignments).toHaveLength(12);

    const program = items.find((i) => !i.is_honeypot)!;
    const [first, second] = assignments.filter((a) => a.item_id === program.item_id).map((a) => a.annotator);
    const outsider = ['ann', 'bob', 'cat'].find((a) => a !== first && a !== second)!;
    const all = (label: LineLabel, n = program.line_count) => Array.from({ length: n }, () => label);
    const submit = (s: Partial<LineLabelSubmission>) => reasonOf(submitLineLabels(ctx.client, id, 1, { annotator: first!, itemId: program.item_id, labels: all('correct'), ...s } as LineLabelSubmission));

    expect(await submit({ itemId: 'item-nope' })).toBe('unknown item item-nope');
    expect(await submit({ annotator: outsider })).toBe(`item ${program.item_id} is not assigned to ${outsider}`);
    expect(await submit({ labels: all('correct', program.line_count + 1) })).toMatch(new RegExp(`has ${program.line_count} line\\(s\\): labels must list one per line, got ${program.line_count + 1}`));
    expect(await submit({ labels: [...all('correct', program.line_count - 1), 'maybe' as LineLabel] })).toBe(`label of line ${program.line_count} must be "correct" or "wrong", got "maybe"`);
    expect(await submit({ notes: { [String(program.line_count + 1)]: 'x' } })).toBe(`note on line ${program.line_count + 1}: item ${program.item_id} has lines 1..${program.line_count}`);
    expect(await submit({ notes: { '1': 'x'.repeat(501) } })).toBe('note on line 1 is 501 characters, at most 500');
    expect((await pool.query('select 1 from crowd_labels where campaign_id = $1', [id])).rowCount).toBe(0);

    const mine = assignments.filter((a) => a.annotator === first).length;
    const receipt = await submitLineLabels(ctx.client, id, 1, { annotator: first!, itemId: program.item_id, labels: ['wrong', ...all('correct', program.line_count - 1)], notes: { '1': 'wrong name' } });
    expect(receipt).toEqual({ itemId: program.item_id, accepted: true, remaining: mine - 1 });
    expect(await submit({})).toBe(`item ${program.item_id} was already answered by ${first}`);
    // the CLI sends the same update: accepted, rejected (exit 1 with the reason), progress
    const cli = await feedloopCli(['annotate', 'submit', '--campaign', id, '--iteration', '1', '--annotator', second!, '--item', program.item_id, '--labels', all('correct').join(','), '--note', '2=fine']);
    expect(cli).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^accepted ${program.item_id}: \\d+ item\\(s\\) left for ${second}`)) as unknown });
    const again = await feedloopCli(['annotate', 'submit', '--campaign', id, '--iteration', '1', '--annotator', second!, '--item', program.item_id, '--labels', all('correct').join(',')]);
    expect(again).toEqual({ code: 1, out: `rejected: item ${program.item_id} was already answered by ${second}\n` });
    const shown = await feedloopCli(['annotate', 'progress', '--campaign', id, '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ iteration: 1, open: true, items: 6 });
    const stored = (await pool.query<{ annotator: string; labels: string[]; notes: Record<string, string> }>('select annotator, labels, notes from crowd_labels where campaign_id = $1 order by annotator', [id])).rows;
    expect(stored).toHaveLength(2);
    expect(stored.find((s) => s.annotator === first)).toMatchObject({ labels: ['wrong', ...all('correct', program.line_count - 1)], notes: { '1': 'wrong name' } });
    expect(stored.find((s) => s.annotator === second)).toMatchObject({ labels: all('correct'), notes: { '2': 'fine' } });

    const iteration = annotationHandle(ctx.client, id, 1);
    const before = await iteration.query(annotationProgressQuery);
    expect(await reasonOf(iteration.executeUpdate(extendAnnotationDeadlineUpdate, { args: [{ deadline: '2020-01-01T00:00:00Z', reason: 'r' }] }))).toMatch(/is not later than the current one/);
    expect(await reasonOf(iteration.executeUpdate(extendAnnotationDeadlineUpdate, { args: [{ deadline: 'tomorrow', reason: 'r' }] }))).toMatch(/must be an ISO time/);
    const later = new Date(Date.parse(before.deadline) + 3_600_000).toISOString();
    expect((await iteration.executeUpdate(extendAnnotationDeadlineUpdate, { args: [{ deadline: later, reason: 'people are slow' }] })).deadline).toBe(later);
    expect(await reasonOf(iteration.executeUpdate(closeAnnotationUpdate, { args: [{ reason: ' ' }] }))).toBe('say why annotation closes early (reason)');
    const closed = await iteration.executeUpdate(closeAnnotationUpdate, { args: [{ reason: 'enough for a test' }] });
    expect(closed.open).toBe(false);
    expect(closed.perAnnotator.find((a) => a.annotator === first)!.answered).toBe(1);
    expect(await submit({ annotator: second, itemId: assignments.find((a) => a.annotator === second && a.item_id !== program.item_id)!.item_id })).toMatch(/is closed \(enough for a test\)/);

    const result = await handle.result();
    expect(result.status).toBe('completed');
    // One program has its 2 labels; the other programs are UNSCORABLE, stored without a number and left out.
    const rewards = (await pool.query<{ status: string; reward: number | null; reason: string | null; source: string }>('select status, reward, reason, source from rollout_rewards where campaign_id = $1 order by status', [id])).rows;
    expect(rewards).toHaveLength(3);
    expect(rewards.filter((r) => r.status === 'scored')).toHaveLength(1);
    expect(rewards.every((r) => r.source === 'crowd-consensus')).toBe(true);
    for (const r of rewards.filter((x) => x.status === 'unscorable')) expect(r).toMatchObject({ reward: null, reason: expect.stringMatching(/too few crowd labels: 0 of the 2 label\(s\) needed/) as unknown });
    const job = (await pool.query<{ examples: number; note: string }>("select examples, note from training_jobs where campaign_id = $1 and kind = 'policy_update'", [id])).rows[0]!;
    expect(job.examples).toBe(1);
    expect(job.note).toMatch(/2 rollout\(s\) with an unscorable reward left out/);
    // the iteration's history, with accepted, rejected-in-handler, extended and closed annotation, replays
    await maybeRecordHistory(ctx.client, crlhfIds.iterationWorkflow(id, 1), 'crlhf-iteration-annotation');
  });

  it('closes at the deadline: below the quorum it fails the iteration (onDeadline fail) or goes on with every program unscorable (proceed)', { timeout: 120_000 }, async () => {
    const crowd = { annotators: ['ann', 'bob'], k: 2, deadline: '3s', quorum: 0.5 };
    const failing = campaignId('crlhf-quorum');
    const failed = await ctx.client.workflow
      .execute(crlhfCampaignWorkflow, { workflowId: failing, taskQueue: ctx.queues.workflow, args: [{ campaignId: failing, config: crlhfConfig(ctx.queues, { ...SMALL, crowd: { ...crowd, onDeadline: 'fail' } }) }] })
      .catch((err: unknown) => err as Error);
    expect(rootCause(failed)).toMatch(/annotation closed \(deadline passed\) with 0\/6 items labelled by 2\+ annotators, below the quorum of 0\.5/);
    const [row] = (await pool.query<{ status: string; phase: string }>('select status, phase from campaign_iterations where campaign_id = $1', [failing])).rows;
    expect(row).toEqual({ status: 'failed', phase: 'annotate' });

    const proceeding = campaignId('crlhf-deadline');
    const result = await ctx.client.workflow.execute(crlhfCampaignWorkflow, {
      workflowId: proceeding,
      taskQueue: ctx.queues.workflow,
      args: [{ campaignId: proceeding, config: crlhfConfig(ctx.queues, { ...SMALL, crowd: { ...crowd, onDeadline: 'proceed' } }) }],
    });
    expect(result.status).toBe('completed');
    const rewards = (await pool.query<{ status: string }>('select status from rollout_rewards where campaign_id = $1', [proceeding])).rows;
    expect(rewards.map((r) => r.status)).toEqual(['unscorable', 'unscorable', 'unscorable']);
    const [job] = (await pool.query<{ status: string; examples: number }>("select status, examples from training_jobs where campaign_id = $1 and kind = 'policy_update'", [proceeding])).rows;
    expect(job).toEqual({ status: 'skipped', examples: 0 });
  });
});
