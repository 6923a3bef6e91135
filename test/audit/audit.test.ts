import { Command } from 'commander';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CampaignNotFoundError } from '../../audit/core';
import { auditNumbers, loadCampaignAudit, type AuditNumbers, type CampaignAudit } from '../../loops/ilf/audit';
import { formatAudit } from '../../loops/ilf/audit-text';
import { registerAuditCommands, runAuditCommand } from '../../cli/audit';
import { seedCampaign, standardIterations, uniqueCampaignId } from './seed';

/** `feedloop audit` against campaigns seeded straight into the real PostgreSQL of the suite. */
let pool: pg.Pool;
const simulatedId = uniqueCampaignId('audit-sim');
const realId = uniqueCampaignId('audit-real');

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  await seedCampaign({ id: simulatedId, simulated: true, iterations: standardIterations() });
  await seedCampaign({ id: realId, simulated: false, iterations: standardIterations().slice(0, 1) });
});
afterAll(async () => {
  await pool?.end();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

describe('loadCampaignAudit', () => {
  it('recounts every iteration from the rows', async () => {
    const a = await loadCampaignAudit(pool, simulatedId);
    expect(a.campaign).toMatchObject({ id: simulatedId, algorithm: 'ilf', status: 'completed', workflowId: simulatedId, simulated: true });
    expect(a.iterations.map((i) => i.iteration)).toEqual([1, 2]);
    const [one, two] = a.iterations as [CampaignAudit['iterations'][0], CampaignAudit['iterations'][0]];

    expect(one.samples).toMatchObject({ generated: 10, tested: 10, retriedResults: 0 });
    expect(one.samples.outcomes).toEqual({ passed: 3, failed: 4, runtime_error: 2, compile_error: 0, timeout: 1, memory_limit: 0, output_limit: 0, infra_error: 0 });
    expect(one.feedback).toEqual({
      requested: 7,
      received: 6,
      bySource: { dataset: { requested: 7, received: 6 }, llm: { requested: 0, received: 0 }, human: { requested: 0, received: 0 } },
      byStatus: { open: 0, answered: 6, closed: 0, unanswerable: 1 },
    });
    expect(one.refinements).toEqual({ generated: 6, tested: 6, kept: 4, refiners: ['dataset:human'] });
    expect(one.training).toMatchObject({ id: `${simulatedId}/iteration-1/sft`, trainer: 'simulated', status: 'completed', weights: 'simulated', steps: 8, examples: 4, checkpoint: `simulated://${simulatedId}/iteration-1/sft` });
    expect(one.training?.statement).toMatch(/SIMULATED training: no real weights/);
    expect(one.passAt1).toBe(0.3);
    expect(one.passAt10).toBeCloseTo(2 / 3, 12);
    expect(one.evaluation).toMatchObject({ status: 'completed', tasks: 3, samples: 30, scored: 30 });
    expect(one.evaluation?.outcomes).toMatchObject({ passed: 9, failed: 18, compile_error: 3 });
    expect(one.mismatches).toEqual([]);

    expect(two.samples.outcomes).toMatchObject({ passed: 5, failed: 3, runtime_error: 1, infra_error: 1 });
    expect(two.feedback.requested).toBe(4);
    expect(two.refinements.kept).toBe(3);
    expect(two.passAt1).toBe(0.5);
    expect(two.passAt10).toBe(1);
    // iteration 2 samples with iteration 1's simulated checkpoint, and says so
    expect(two.policy.label).toBe(`simulated:simulated://${simulatedId}/iteration-1/sft (SIMULATED)`);
  });

  it('names the workflow and run ids that hold each iteration\'s history', async () => {
    const a = await loadCampaignAudit(pool, simulatedId);
    const it1 = a.iterations[0]!;
    const [row] = (await pool.query<{ run_id: string }>('select run_id from campaign_iterations where campaign_id = $1 and iteration = 1', [simulatedId])).rows;
    const [evalRow] = (await pool.query<{ run_id: string }>('select run_id from eval_runs where id = $1', [`${simulatedId}/iteration-1/evaluation`])).rows;
    expect(it1.history.iteration).toEqual({ workflowId: `${simulatedId}/iteration-1`, runId: row!.run_id });
    expect(it1.history.evaluation).toEqual({ workflowId: `${simulatedId}/iteration-1/evaluation`, runId: evalRow!.run_id });
    expect(it1.history.trainSamples).toEqual({ workflowId: `${simulatedId}/iteration-1`, runId: row!.run_id });
    expect(it1.sandboxHosts).toEqual([{ hostname: 'cpu-host-1', cpu: 'Seed CPU @ 2.0GHz' }]);
  });

  it('has a stable JSON shape: every field present, record keys in a fixed order', async () => {
    const a = JSON.parse(JSON.stringify(await loadCampaignAudit(pool, realId))) as CampaignAudit;
    // Schema 2 added `start`, iteration 0's evaluation of the starting policy; 3, each iteration's `workerVersion`; 4, `endReason`.
    expect(Object.keys(a)).toEqual(['schemaVersion', 'campaign', 'refinerTraining', 'iterations', 'start']);
    expect(a.schemaVersion).toBe(5);
    expect(Object.keys(a.campaign)).toEqual(['id', 'algorithm', 'status', 'endReason', 'workflowId', 'createdAt', 'finishedAt', 'simulated', 'simulatedParts', 'datasetFile', 'config']);
    expect(Object.keys(a.iterations[0]!)).toEqual([
      'iteration', 'status', 'endReason', 'phase', 'policy', 'startedAt', 'finishedAt', 'workerVersion', 'samples', 'feedback', 'refinements', 'training',
      'evaluation', 'passAt1', 'passAt10', 'history', 'sandboxHosts', 'recordedCounts', 'mismatches',
    ]);
    expect(Object.keys(a.iterations[0]!.samples.outcomes)).toEqual(['passed', 'failed', 'runtime_error', 'compile_error', 'timeout', 'memory_limit', 'output_limit', 'infra_error']);
    expect(a.refinerTraining).toBeNull();
    // Recorded by unversioned workers (or before versions were recorded): no version.
    expect(a.iterations[0]!.workerVersion).toBeNull();
    expect(a.campaign.createdAt).toBe('2025-01-01T00:00:00.000Z');
  });

  it('labels simulated parts, and says plainly when no weights were trained', async () => {
    const sim = await loadCampaignAudit(pool, simulatedId);
    expect(sim.campaign.simulatedParts).toEqual(['models.policy', 'trainer']);
    expect(sim.campaign.config.models.policy).toEqual({ backend: 'simulated', label: 'simulated:simulated-base (SIMULATED)', simulated: true });

    const real = await loadCampaignAudit(pool, realId);
    expect(real.campaign.simulated).toBe(false);
    expect(real.campaign.simulatedParts).toEqual([]);
    expect(real.campaign.config.models.policy?.label).toBe('openai:codegen-6b-mono');
    expect(real.iterations[0]!.training).toMatchObject({ trainer: 'none', status: 'skipped', weights: 'none', steps: 0 });
    expect(real.iterations[0]!.training?.statement).toMatch(/^no weights were trained/);
  });

  it('narrows to one iteration, and rejects unknown campaigns and iterations', async () => {
    const a = await loadCampaignAudit(pool, simulatedId, { iteration: 2 });
    expect(a.iterations.map((i) => i.iteration)).toEqual([2]);
    await expect(loadCampaignAudit(pool, 'no-such-campaign')).rejects.toThrow(CampaignNotFoundError);
    await expect(loadCampaignAudit(pool, simulatedId, { iteration: 9 })).rejects.toThrow(/has no iteration 9 \(it has 2/);
  });

  it('audits a campaign that has not started an iteration yet', async () => {
    const id = uniqueCampaignId('audit-empty');
    await seedCampaign({ id, simulated: false, iterations: [] });
    const a = await loadCampaignAudit(pool, id);
    expect(a.iterations).toEqual([]);
    expect(auditNumbers(a)).toEqual({ refinerTraining: null, iterations: [] });
    expect(formatAudit(a)).toContain('no iterations recorded yet');
  });

  it('lists the counts a workflow recorded that the rows contradict', async () => {
    const id = uniqueCampaignId('audit-mismatch');
    await seedCampaign({ id, simulated: false, iterations: [{ ...standardIterations()[0]!, recordedCounts: { refinementsKept: 5 } }] });
    const a = await loadCampaignAudit(pool, id);
    expect(a.iterations[0]!.mismatches).toEqual(['refinementsKept: workflow recorded 5, rows say 4']);
    expect(formatAudit(a)).toContain('MISMATCH     refinementsKept: workflow recorded 5, rows say 4');
  });
});

describe('auditNumbers', () => {
  it('is equal for campaigns with equal results and different ids, times, hosts and retries', async () => {
    const a = uniqueCampaignId('audit-eq-a');
    const b = uniqueCampaignId('audit-eq-b');
    await seedCampaign({ id: a, simulated: true, iterations: standardIterations() });
    await seedCampaign({ id: b, simulated: true, iterations: standardIterations(), startedAt: new Date('2025-03-04T05:06:07Z'), hostname: 'other-host', attempt: 3 });
    const [auditA, auditB] = await Promise.all([loadCampaignAudit(pool, a), loadCampaignAudit(pool, b)]);
    expect(auditA.iterations[0]!.samples.retriedResults).toBe(0);
    expect(auditB.iterations[0]!.samples.retriedResults).toBe(10);
    expect(JSON.stringify(auditA)).not.toBe(JSON.stringify(auditB));
    expect(auditNumbers(auditB)).toEqual(auditNumbers(auditA));
    const numbers = JSON.stringify(auditNumbers(auditA));
    expect(numbers).not.toContain(a);
    expect(numbers).not.toMatch(/20\d\d-\d\d-\d\dT|host/);
  });

  it('differs when one count differs', async () => {
    const a = uniqueCampaignId('audit-ne-a');
    const b = uniqueCampaignId('audit-ne-b');
    const fewerKept = standardIterations();
    fewerKept[1]!.refinementsKept = 2;
    await seedCampaign({ id: a, simulated: true, iterations: standardIterations() });
    await seedCampaign({ id: b, simulated: true, iterations: fewerKept });
    const [na, nb] = (await Promise.all([loadCampaignAudit(pool, a), loadCampaignAudit(pool, b)])).map(auditNumbers);
    expect(nb).not.toEqual(na);
    expect(nb!.iterations[1]!.refinements.kept).toBe(2);
    expect(na!.iterations[1]!.refinements.kept).toBe(3);
  });
});

describe('feedloop audit (command)', () => {
  it('prints a human table with the key figures', async () => {
    const { io, out, err } = capture();
    expect(await runAuditCommand(simulatedId, { databaseUrl: inject('databaseUrl') }, io)).toBe(0);
    expect(err).toEqual([]);
    const text = out.join('\n');
    expect(text).toContain(`campaign     ${simulatedId} (ilf), completed`);
    expect(text).toMatch(/SIMULATED {4}simulated models \(models\.policy, trainer\)/);
    expect(text).toMatch(/iteration\s+status\s+samples\s+passed\s+feedback req\/recv\s+refinements gen\/kept\s+trained\s+pass@1\s+pass@10/);
    expect(text).toMatch(/\n1\s+completed\s+10\s+3\s+7\/6\s+6\/4\s+SIMULATED\s+30\.0%\s+66\.7%/);
    expect(text).toMatch(/\n2\s+completed\s+10\s+5\s+4\/4\s+4\/3\s+SIMULATED\s+50\.0%\s+100\.0%/);
    expect(text).toContain('outcomes     passed=3 failed=4 runtime_error=2 timeout=1');
    expect(text).toContain('feedback     7 requested, 6 received (dataset: 7 requested, 6 received); requests answered=6 unanswerable=1');
    expect(text).toContain(`${simulatedId}/iteration-1/sft: trainer simulated (SIMULATED), completed; 4 examples, 8 steps`);
    expect(text).toContain(`evaluation    ${simulatedId}/iteration-2/evaluation (run `);
  });

  it('says no weights were trained for trainer "none", without a simulated label', async () => {
    const { io, out } = capture();
    expect(await runAuditCommand(realId, { databaseUrl: inject('databaseUrl') }, io)).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('no weights were trained');
    expect(text).not.toMatch(/simulated/i);
  });

  it('prints JSON with --json', async () => {
    const { io, out } = capture();
    expect(await runAuditCommand(realId, { databaseUrl: inject('databaseUrl'), json: true, iteration: 1 }, io)).toBe(0);
    const parsed = JSON.parse(out.join('\n')) as CampaignAudit;
    expect(parsed.campaign.id).toBe(realId);
    expect(parsed.iterations[0]!.samples.generated).toBe(10);
  });

  it('prints only the numbers with --numbers', async () => {
    const { io, out } = capture();
    expect(await runAuditCommand(simulatedId, { databaseUrl: inject('databaseUrl'), numbers: true }, io)).toBe(0);
    const numbers = JSON.parse(out.join('\n')) as AuditNumbers;
    expect(numbers).toEqual(auditNumbers(await loadCampaignAudit(pool, simulatedId)));
    expect(numbers.iterations[1]!.evaluation?.passAtK).toEqual({ '1': 0.5, '10': 1 });
  });

  it('exits 1 with a clear error for an unknown campaign, also through commander', async () => {
    const { io, out, err } = capture();
    expect(await runAuditCommand('nope-campaign', { databaseUrl: inject('databaseUrl') }, io)).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/^feedloop audit: unknown campaign "nope-campaign"/);

    const saved = { url: process.env.DATABASE_URL, code: process.exitCode };
    process.env.DATABASE_URL = inject('databaseUrl');
    const errors: string[] = [];
    const origError = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(' '));
    try {
      const program = new Command('feedloop').exitOverride();
      registerAuditCommands(program);
      await program.parseAsync(['audit', 'nope-campaign'], { from: 'user' });
      expect(process.exitCode).toBe(1);
      expect(errors.join('\n')).toContain('unknown campaign "nope-campaign"');
    } finally {
      console.error = origError;
      process.exitCode = saved.code;
      if (saved.url === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved.url;
    }
  });
});
