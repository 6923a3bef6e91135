import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, inject, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import { withWorkers } from '../helpers/temporal';
import { tempDir } from '../helpers/temp-dir';
import { expectOneLineError, feedloop } from '../helpers/cli';
import { campaignId, exampleConfig, query } from '../ilf/helpers';

/**
 * Close-out of a step that keeps failing: while Temporal retries it, `campaign status` (text and
 * JSON) shows the attempt and the last error; once its retries are exhausted, status, audit and
 * report say the campaign failed in that step, after its retries, with the last error. A trainer
 * script that is not there fails at once (attempt 1, not retryable), and validate says so offline.
 * Real Temporal, real store, a real trainer process, the CLI as a user runs it.
 */
const ctx = withWorkers('retry-close-out');
const dir = tempDir('retry-close-out');
const run = (args: string[]) => feedloop(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl'), FEEDLOOP_HOME: dir });

/** An ILF campaign whose fine-tune runs `command` with `maxAttempts` attempts. */
function config(command: string[], maxAttempts: number) {
  return exampleConfig('ilf-dry-run.yaml', ctx.queues, {
    dataset: { maxTrainTasks: 8, maxTestTasks: 6 },
    evaluateStart: false,
    iterations: 1,
    trainer: { kind: 'command', command, baseModel: 'tiny' },
    timeouts: { maxAttempts },
  });
}

async function start(id: string, command: string[], maxAttempts: number): Promise<WorkflowHandle> {
  return ctx.client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config: config(command, maxAttempts) }] });
}

/**
 * A trainer that crashes (exit 1, a CUDA error on stderr); its attempt `gateAttempt` first waits,
 * talking, for `gate` to exist, so the test can read status while the step is being retried.
 */
function crashingTrainer(gate: string, gateAttempt: number): string {
  const file = path.join(dir, 'crashing-trainer.mjs');
  fs.writeFileSync(
    file,
    `import fs from 'node:fs';
const spec = JSON.parse(fs.readFileSync(process.env.FEEDLOOP_JOB_SPEC, 'utf8'));
if (spec.attempt >= ${gateAttempt}) while (!fs.existsSync(${JSON.stringify(gate)})) { console.log('waiting for the gate'); await new Promise((r) => setTimeout(r, 200)); }
process.stderr.write('CUDA error: out of memory (attempt ' + spec.attempt + ')\\n');
process.exit(1);
`,
  );
  return file;
}

describe('a step that keeps failing, then one that cannot succeed', () => {
  it('while retried, status shows the attempt and the last error; exhausted, status, audit and report say so', async () => {
    const id = campaignId('exhaust');
    const gate = path.join(dir, 'gate');
    const handle = await start(id, ['node', crashingTrainer(gate, 3)], 3);

    // Attempt 3 waits at the gate: the step is being retried, attempt 2's error is the last one.
    let retrying: string | undefined;
    for (const deadline = Date.now() + 180_000; !retrying && Date.now() < deadline; ) {
      const s = await run(['campaign', 'status', id]);
      expect(s.code, s.stderr).toBe(0);
      retrying = s.stdout.split('\n').find((l) => l.startsWith('retrying activity ilfFineTune (attempt 3)'));
    }
    expect(retrying).toMatch(new RegExp(`^retrying activity ilfFineTune \\(attempt 3\\) in ${id}/iteration-1; last error at \\d{4}-\\d\\d-\\d\\dT\\S+Z: training job \\S+ \\(attempt 2, .*\\): trainer exited with code 1$`));
    const json = JSON.parse((await run(['campaign', 'status', id, '--json'])).stdout) as { retrying: Array<Record<string, unknown>> };
    expect(json.retrying).toEqual([
      expect.objectContaining({ workflowId: `${id}/iteration-1`, activity: 'ilfFineTune', attempt: 3, lastError: expect.stringContaining('CUDA error: out of memory (attempt 2)'), lastErrorAt: expect.any(String) }),
    ]);
    fs.writeFileSync(gate, '');
    await handle.result().catch(() => undefined);

    // Exhausted: the campaign failed in that step, after its retries, with attempt 3's error, everywhere.
    const status = await run(['campaign', 'status', id]);
    const ended = new RegExp(`^${id} \\(ilf\\): failed: iteration 1 of campaign ${id} failed in activity ilfFineTune \\(retries exhausted\\): training job \\S+ \\(attempt 3, .*\\): trainer exited with code 1; reached iteration 1/1; ended `);
    expect(status.stdout.trim()).toMatch(ended);
    const [row] = await query<{ status: string; end_reason: string }>('select status, end_reason from campaigns where id = $1', [id]);
    expect(row!.status).toBe('failed');
    expect(row!.end_reason).toContain('CUDA error: out of memory (attempt 3)');
    const text = `failed: ${row!.end_reason.split('\n')[0]}`;
    const audit = await run(['audit', id]);
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toContain(`campaign     ${id} (ilf), ${text}; started`);
    // The iteration's row names the exhausted step and its last error too; no training left "in progress".
    expect(audit.stdout).toMatch(/── iteration 1: failed: in activity ilfFineTune \(retries exhausted\): training job \S+ \(attempt 3, .*\): trainer exited with code 1/);
    expect(audit.stdout).not.toContain('training in progress');
    const json2 = JSON.parse((await run(['audit', id, '--json'])).stdout) as { campaign: { status: string; endReason: string } };
    expect(json2.campaign).toMatchObject({ status: 'failed', endReason: row!.end_reason });
    const report = await run(['report', id]);
    expect(report.code, report.stderr).toBe(0);
    expect(fs.readFileSync(report.stdout.trim().replace(/^wrote /, ''), 'utf8')).toContain(`<dd>${text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll("'", '&#39;').replaceAll('"', '&quot;')}; started`);
    console.log(`while retrying:\n${retrying}\nafter:\n${status.stdout.trim()}\n${audit.stdout.split('\n').slice(0, 4).join('\n')}`);
  });

  it('a trainer script that is not there fails at once (attempt 1, not retryable) in one line; validate and start refuse it offline', async () => {
    const id = campaignId('missing');
    const script = path.join(dir, 'no-such-trainer.mjs');
    const handle = await start(id, ['node', script], 5);
    await handle.result().catch(() => undefined);
    const history = await ctx.client.workflow.getHandle(`${id}/iteration-1`).fetchHistory();
    const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts.length).toBeGreaterThan(0);
    expect(Math.max(...attempts.map(Number))).toBe(1);
    const status = await run(['campaign', 'status', id]);
    expect(status.stdout.trim().split('\n')).toHaveLength(1);
    expect(status.stdout.trim()).toMatch(
      new RegExp(`^${id} \\(ilf\\): failed: iteration 1 of campaign ${id} failed in activity ilfFineTune \\(not retryable\\): training job \\S+: trainer\\.command: the trainer script ${script} does not exist \\(node ${script}\\) \\(on \\d+@\\S+/gpu\\); reached iteration 1/1; ended `),
    );
    expect((await run(['audit', id])).stdout).toContain('── iteration 1: failed: in activity ilfFineTune (not retryable): training job');
    console.log(`missing trainer: ${status.stdout.trim()}`);

    const file = path.join(dir, 'missing.yaml');
    fs.writeFileSync(file, stringify({ ...config(['node', script], 5), taskQueues: ctx.queues }));
    const expected = new RegExp(`^feedloop: ${file}: trainer\\.command: the trainer script ${script} does not exist \\(node ${script}\\)$`);
    for (const args of [['campaign', 'validate', '--config', file], ['campaign', 'start', '--config', file, '--id', `${id}-2`]]) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expectOneLineError(r, expected);
    }
  });
});
