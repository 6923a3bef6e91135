import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CODE_RUBRIC_VERSION } from '../../activities/feedback/ai-feedback-rubric';
import { formatRlaifAudit } from '../../loops/rlaif/audit-text';
import { parseRlaifCampaignConfig } from '../../loops/rlaif/config';
import { loadRlaifAudit, rlaifAuditNumbers } from '../../loops/rlaif/audit';
import { runAuditCommand } from '../../cli/audit';
import { rejectionReason, startCampaign } from '../../cli/campaign';
import { writeCampaignReport } from '../../cli/report';
import { RLAIF_PHASES, rlaifIds } from '../../loops/rlaif/types';
import { rlaifCampaignWorkflow } from '../../loops/rlaif/workflow';
import { campaignStatusQuery, pauseCampaignUpdate, resumeCampaignUpdate, stopCampaignUpdate } from '../../workflows/control';
import { maybeRecordHistory } from '../helpers/history';
import { withWorkers } from '../helpers/temporal';
import { campaignId } from '../ilf/helpers';
import { rlaifConfig } from './helpers';
import { JudgeServer } from './judge-server';
import { tempDir } from '../helpers/temp-dir';

/**
 * The RLAIF dry run, end to end on the suite's real Temporal server and PostgreSQL: a simulated
 * API-code policy, AI feedback from a judge speaking the OpenAI protocol over HTTP (with logprobs,
 * and some malformed answers), the reward model and the policy updates through a real protocol
 * trainer process, scoring through onnxruntime, and the paper's metrics, audit and report.
 */
const ctx = withWorkers('rlaif-dry');
const judge = new JudgeServer({ logprobs: true, malformedEvery: 7 });
let pool: pg.Pool;

beforeAll(async () => {
  await judge.start();
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});
afterAll(async () => {
  await pool?.end();
  await judge.stop();
});

const config = (overrides: Record<string, unknown> = {}) => rlaifConfig(ctx.queues, { models: { feedback: judge.backendConfig() }, ...overrides });

describe('RLAIF dry-run campaign', () => {
  it('runs three iterations: rollouts, AI feedback, reward model, scores, policy update, evaluation; audit and report show the paper\'s metrics', async () => {
    const id = campaignId('rlaif-dry');
    const result = await ctx.client.workflow.execute(rlaifCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config: config() }] });
    expect(result.status).toBe('completed');
    expect(result.iterations).toHaveLength(3);

    const its = (await pool.query<{ iteration: number; status: string; counts: Record<string, unknown>; policy: { trained?: { examples: number } } }>(
      'select iteration, status, counts, policy from campaign_iterations where campaign_id = $1 order by iteration',
      [id],
    )).rows;
    expect(its.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    for (const r of its) expect(r.counts.phases).toEqual([...RLAIF_PHASES]);

    const audit = await loadRlaifAudit(pool, id);
    expect(audit.campaign).toMatchObject({ algorithm: 'rlaif', status: 'completed', simulated: true });
    expect(audit.campaign.simulatedParts).toEqual(['models.policy', 'trainer']);
    const [one, two, three] = audit.iterations;
    for (const it of audit.iterations) {
      expect(it.mismatches).toEqual([]);
      expect(it.rollouts.generated).toBe(48);
      expect(it.feedback.judged).toBe(48);
      expect(it.feedback.unscorable).toBeGreaterThan(0);
      expect(it.feedback.scored + it.feedback.unscorable).toBe(48);
      expect(it.feedback.byMethod).toEqual({ logprobs: it.feedback.scored, parsed: 0, mixed: 0 });
      expect(it.rewards.scored + it.rewards.unscorable).toBe(48);
      expect(it.policyUpdate).toMatchObject({ kind: 'policy_update', status: 'completed', weights: 'simulated', examples: it.rewards.scored, steps: 6 });
      expect(it.evaluation).toMatchObject({ status: 'completed', samples: 30, questions: 30 });
      expect(it.evaluation!.runs.note).toMatch(/^not measured: .* has none of transformers, torch, tensorflow, tensorflow_hub installed/);
      for (const metric of [it.evaluation!.executabilityRate, it.evaluation!.codebleu, it.evaluation!.astAccuracy, it.evaluation!.hallucinationRate]) {
        expect(metric).toBeGreaterThanOrEqual(0);
        expect(metric).toBeLessThanOrEqual(1);
      }
      expect(Object.keys(it.evaluation!.perHub).sort()).toEqual(['huggingface', 'tensorflowhub', 'torchhub']);
    }
    // The reward model: trained on iteration 1 and (retrainEvery 2) on 3, on every scored record so far.
    expect(one!.rewardModel).toMatchObject({ trainedThisIteration: true, job: { kind: 'reward_model', weights: 'simulated', examples: one!.feedback.scored } });
    expect(two!.rewardModel.trainedThisIteration).toBe(false);
    expect(two!.rewardModel.scoredWith).toBe(one!.rewardModel.job!.checkpoint);
    expect(three!.rewardModel.job!.examples).toBe(one!.feedback.scored + two!.feedback.scored + three!.feedback.scored);
    // Unscorable feedback never reaches the reward model's training set, and no score is a stand-in 0.
    const dataset = fs.readFileSync(three!.rewardModel.job!.datasetPath!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { score: unknown });
    expect(dataset).toHaveLength(three!.rewardModel.job!.examples);
    for (const row of dataset) expect(typeof row.score).toBe('number');
    const [{ n: zeroUnscorable }] = (await pool.query<{ n: string }>(`select count(*) as n from ai_feedback where campaign_id = $1 and status = 'unscorable' and score is not null`, [id])).rows as [{ n: string }];
    expect(Number(zeroUnscorable)).toBe(0);
    // The policy learns from its updates: iteration k+1 samples the policy iteration k's update wrote.
    expect(its[0]!.policy.trained?.examples ?? 0).toBe(0);
    expect(its[1]!.policy.trained?.examples).toBe(one!.policyUpdate!.examples);
    expect(its[2]!.policy.trained?.examples).toBe(one!.policyUpdate!.examples + two!.policyUpdate!.examples);
    expect(three!.evaluation!.astAccuracy!).toBeGreaterThan(one!.evaluation!.astAccuracy!);
    expect(rlaifAuditNumbers(audit).iterations).toHaveLength(3);

    // `feedloop audit` and `feedloop report` show all three metrics per iteration.
    const out: string[] = [];
    expect(await runAuditCommand(id, { databaseUrl: inject('databaseUrl') }, { out: (t) => void out.push(t), err: (t) => void out.push(t) })).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/executability\s+CodeBLEU\s+AST acc\s+halluc\./);
    expect(text).toContain('UNSCORABLE (kept out of training)');
    expect(text).toMatch(/runs: not measured/);
    const dir = tempDir('rlaif-report');
    const page = fs.readFileSync(await writeCampaignReport(inject('databaseUrl'), id, { out: path.join(dir, 'r.html') }), 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(page).toContain('<title>it 3: executability ');
    expect(page).toContain('<title>it 2: CodeBLEU ');
    expect(page).toContain('<title>it 1: hallucination ');
    expect(page).toContain('banner-simulated');
    expect(page).toContain('UNSCORABLE: kept out of training');
    expect(page).not.toMatch(/<script/i);

    await maybeRecordHistory(ctx.client, id, 'rlaif-campaign-dry-run');
    await maybeRecordHistory(ctx.client, rlaifIds.iterationWorkflow(id, 1), 'rlaif-iteration-dry-run');
    await maybeRecordHistory(ctx.client, rlaifIds.evaluation(id, 1), 'apibench-evaluation-dry-run');
    await maybeRecordHistory(ctx.client, id, 'rlaif-campaign-dry-run-kernel');
    await maybeRecordHistory(ctx.client, rlaifIds.iterationWorkflow(id, 1), 'rlaif-iteration-dry-run-kernel');
  });

  it('pauses, refuses a second pause with the reason, resumes, and stops after the current step', async () => {
    const id = campaignId('rlaif-pause');
    // Started as `feedloop campaign start` does: from a file, whose algorithm picks the workflow.
    const file = path.join(tempDir('rlaif-config'), 'campaign.json');
    fs.writeFileSync(file, JSON.stringify(config({ iterations: 4, dataset: { rolloutQuestions: 6, maxEvalQuestionsPerHub: 2 } })));
    const started = await startCampaign(ctx.client, id, file);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    expect((await started.describe()).type).toBe('rlaifCampaignWorkflow');
    const handle = ctx.client.workflow.getHandle<typeof rlaifCampaignWorkflow>(id);
    expect((await handle.executeUpdate(pauseCampaignUpdate)).paused).toBe(true);
    expect(rejectionReason(await handle.executeUpdate(pauseCampaignUpdate).catch((e: unknown) => e))).toMatch(/already paused/);
    // While paused, no iteration gets past its current step.
    const rows = async () => JSON.stringify((await pool.query('select iteration, phase, counts from campaign_iterations where campaign_id = $1 order by iteration', [id])).rows);
    const before = await rows();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await rows()).toBe(before);
    expect((await handle.query(campaignStatusQuery)).paused).toBe(true);
    await handle.executeUpdate(resumeCampaignUpdate);
    expect(rejectionReason(await handle.executeUpdate(resumeCampaignUpdate).catch((e: unknown) => e))).toMatch(/not paused/);
    expect((await handle.executeUpdate(stopCampaignUpdate)).stopRequested).toBe(true);
    const result = await handle.result();
    expect(result.status).toBe('stopped');
    expect(result.iterations.length).toBeLessThan(4);
    const [campaign] = (await pool.query<{ status: string }>('select status from campaigns where id = $1', [id])).rows;
    expect(campaign!.status).toBe('stopped');
    await expect(handle.executeUpdate(stopCampaignUpdate)).rejects.toThrow();
  });

  it('keeps payloads small and an iteration\'s event count independent of the number of rollouts', async () => {
    const events: number[] = [];
    for (const questions of [4, 40]) {
      const id = campaignId(`rlaif-claim-${questions}`);
      await ctx.client.workflow.execute(rlaifCampaignWorkflow, {
        workflowId: id,
        taskQueue: ctx.queues.workflow,
        args: [{ campaignId: id, config: config({ iterations: 1, dataset: { rolloutQuestions: questions, maxEvalQuestionsPerHub: questions / 4 } }) }],
      });
      let largest = 0;
      for (const wf of [id, rlaifIds.iterationWorkflow(id, 1), rlaifIds.evaluation(id, 1)]) {
        const history = await ctx.client.workflow.getHandle(wf).fetchHistory();
        for (const e of history.events ?? []) {
          for (const a of Object.values(e).filter((v) => v && typeof v === 'object') as Array<Record<string, unknown>>) {
            for (const field of ['input', 'result', 'details']) {
              for (const p of (a[field] as { payloads?: Array<{ data?: Uint8Array }> } | undefined)?.payloads ?? []) largest = Math.max(largest, p.data?.length ?? 0);
            }
          }
        }
        if (wf === rlaifIds.iterationWorkflow(id, 1)) events.push(history.events?.length ?? 0);
      }
      expect(largest).toBeLessThan(64 * 1024);
    }
    expect(events[1]).toBe(events[0]);
  });
});

/**
 * RLAIF on a code dataset with unit tests (here MBPP): the policy's programs for the train
 * split's tasks are judged with the code rubric, the reward model and the policy update run as on
 * APIBench, and the campaign's metric is held-out pass@1 on the test split, from iteration 0 on.
 * The tests never reach the reward.
 */
describe('RLAIF on a code dataset', () => {
  it('judges programs with the code rubric and evaluates held-out pass@k', async () => {
    const base = rlaifConfig(ctx.queues, { models: { feedback: judge.backendConfig() }, iterations: 1 });
    const config = parseRlaifCampaignConfig({
      ...base,
      models: { ...base.models, policy: { backend: 'simulated', role: 'program', seed: 3 } },
      dataset: { name: 'mbpp', rolloutTasks: 6, maxEvalTasks: 4, ks: [1, 2] },
      sampling: { rollout: { n: 2 }, eval: { n: 2 } },
      feedback: { scoring: 'auto' },
    });
    expect(config.feedback.questions).toEqual(['correct']);
    const id = campaignId('rlaif-code');
    const result = await ctx.client.workflow.execute(rlaifCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    expect(result.iterations[0]!.passAtK).toMatchObject({ '1': expect.any(Number), '2': expect.any(Number) });

    const status = await ctx.client.workflow.getHandle(id).query(campaignStatusQuery);
    expect(status.metric).toMatchObject({ name: 'pass@1', start: expect.any(Number), history: [result.iterations[0]!.passAtK!['1']] });
    // the result carries the same curve, for a caller that should not query a closed workflow
    expect(result.startMetric).toBe(status.metric.start);
    expect(result.metricHistory).toEqual(status.metric.history);

    const rubrics = await pool.query<{ rubric_version: string; n: string }>('select rubric_version, count(*) as n from ai_feedback where campaign_id = $1 group by rubric_version', [id]);
    expect(rubrics.rows).toEqual([{ rubric_version: CODE_RUBRIC_VERSION, n: '12' }]);
    const [run] = (await pool.query<{ dataset: string; split: string }>('select dataset, split from eval_runs where id = $1', [`${id}/iteration-1/rollouts`])).rows;
    expect(run).toEqual({ dataset: 'mbpp', split: 'train' });
    // the rollouts were never tested: the judge, not the tests, scores them
    const tested = await pool.query('select 1 from sandbox_items i join generations g on g.id = i.generation_id where g.eval_run_id = $1', [`${id}/iteration-1/rollouts`]);
    expect(tested.rowCount).toBe(0);

    const audit = await loadRlaifAudit(pool, id);
    expect(audit.campaign.config.dataset).toBe('mbpp');
    expect(audit.start?.evaluation.passAtK).toMatchObject({ '1': status.metric.start });
    expect(audit.iterations[0]!.evaluation?.passAtK).toEqual(result.iterations[0]!.passAtK);
    expect(audit.iterations[0]!.feedback).toMatchObject({ judged: 12, rubricVersion: CODE_RUBRIC_VERSION });
    const text = formatRlaifAudit(audit);
    expect(text).toMatch(/dataset mbpp/);
    expect(text).toMatch(/start {8}iteration 0, the starting policy .*: held-out pass@1 /);
    expect(text).toMatch(/pass@1 +pass@2/);
    expect(text).not.toMatch(/executability/);
  });

  it('reward ai-feedback: the judge\'s scores are the rewards, no reward model is trained, and the audit says so', async () => {
    const base = rlaifConfig(ctx.queues, { models: { feedback: judge.backendConfig() }, iterations: 2 });
    const { rewardModel: _unused, ...withoutRewardModel } = base;
    const config = parseRlaifCampaignConfig({
      ...withoutRewardModel,
      reward: 'ai-feedback',
      models: { ...base.models, policy: { backend: 'simulated', role: 'program', seed: 3 } },
      dataset: { name: 'mbpp', rolloutTasks: 5, maxEvalTasks: 3, ks: [1] },
      sampling: { rollout: { n: 2 }, eval: { n: 2 } },
      feedback: { scoring: 'auto' },
    });
    const id = campaignId('rlaif-direct');
    const result = await ctx.client.workflow.execute(rlaifCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    const its = (await pool.query<{ counts: { phases: string[] } }>('select counts from campaign_iterations where campaign_id = $1 order by iteration', [id])).rows;
    for (const r of its) expect(r.counts.phases).toEqual(RLAIF_PHASES.filter((p) => p !== 'reward_model'));
    const jobs = (await pool.query<{ kind: string }>('select kind from training_jobs where id like $1 order by id', [`${id}/%`])).rows;
    expect(jobs.map((j) => j.kind)).toEqual(['policy_update', 'policy_update']);
    // every rollout's reward is the judge's score of it; the malformed answers' rollouts are unscorable
    const pairs = (
      await pool.query<{ iteration: number; status: string; reward: number | null; source: string; score: number | null }>(
        `select r.iteration, r.status, r.reward, r.source, f.score from rollout_rewards r
         join ai_feedback f on f.campaign_id = r.campaign_id and f.iteration = r.iteration and f.generation_id = r.generation_id where r.campaign_id = $1`,
        [id],
      )
    ).rows;
    expect(pairs).toHaveLength(20);
    for (const p of pairs) expect(p).toMatchObject({ source: 'ai-feedback', reward: p.score, status: p.score === null ? 'unscorable' : 'scored' });

    const audit = await loadRlaifAudit(pool, id);
    expect(audit.campaign.config.reward).toBe('ai-feedback');
    for (const it of audit.iterations) {
      expect(it.rewardModel.trainedThisIteration).toBe(false);
      expect(it.mismatches).toEqual([]);
    }
    expect(audit.iterations[0]!.rewards).toMatchObject({ source: 'ai-feedback', scored: audit.iterations[0]!.feedback.scored, unscorable: audit.iterations[0]!.feedback.unscorable });
    const text = formatRlaifAudit(audit);
    expect(text).toMatch(/rewards: the judge's scores \(no reward model\)/);
    expect(text).toMatch(/reward model +none: the judge's scores are the rewards \(openai:/);
    expect(text).toMatch(/none \(judge\)/);
    expect(text).not.toMatch(/reward model on iteration 1/);
    const dir = tempDir('rlaif-direct-report');
    const page = fs.readFileSync(await writeCampaignReport(inject('databaseUrl'), id, { out: path.join(dir, 'r.html') }), 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(page).toMatch(/<dt>data<\/dt><dd>mbpp: 2 rollouts per training task each iteration, judged and never tested/);
    expect(page).toMatch(/rewards: the judge&#39;s scores \(no reward model\)/);
    expect(page).not.toMatch(/TorchHub&#39;s training split/);
  });

  it('names rewardModel when it is missing for a reward model, or given when the judge\'s scores are the rewards', () => {
    const base = rlaifConfig(ctx.queues, { iterations: 1 });
    const { rewardModel, ...rest } = base;
    expect(() => parseRlaifCampaignConfig(rest)).toThrow(/rewardModel: is required when reward is reward-model/);
    expect(() => parseRlaifCampaignConfig({ ...base, reward: 'ai-feedback' })).toThrow(/rewardModel: is not used when reward is ai-feedback/);
    expect(() => parseRlaifCampaignConfig({ ...rest, reward: 'judge' })).toThrow(/reward/);
    expect(parseRlaifCampaignConfig({ ...rest, reward: 'ai-feedback' }).rewardModel).toBeUndefined();
    expect(parseRlaifCampaignConfig({ ...base, rewardModel }).reward).toBe('reward-model');
  });

  it('names a question of the other rubric, and pass@k beyond the samples', () => {
    const base = rlaifConfig(ctx.queues, { iterations: 1 });
    expect(() => parseRlaifCampaignConfig({ ...base, dataset: { name: 'mbpp', ks: [1, 4] }, feedback: { questions: ['api'] } })).toThrow(
      /feedback\.questions\.0: "api" is not a question of the code rubric \(correct\)[\s\S]*dataset\.ks\.1: pass@4 needs at least 4 samples per task/,
    );
    expect(() => parseRlaifCampaignConfig({ ...base, dataset: { name: 'mbjp' } })).toThrow(/dataset\.name/);
    expect(parseRlaifCampaignConfig({ ...base, dataset: { hubs: ['torchhub'] } }).dataset).toMatchObject({ name: 'apibench', hubs: ['torchhub'] });
  });
});
