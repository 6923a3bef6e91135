import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LearningSignalAudit, TrainingJobAudit } from '../../audit/core';
import { startTinyJudge } from '../../cli/tiny-judge';
import { ensureTinyModel, runTinyRealCampaign } from '../../cli/tiny-real';
import type { OnnxOpenAiServer } from '../../activities/models/onnx/openai-server';
import { createLogger } from '../../infra/logger';
import { ensureTrainerPython } from '../../infra/trainer-env';
import { startWorkers, type RunningWorkers } from '../../workers/run-workers';
import { campaignId } from '../ilf/helpers';
import { tempDir } from '../helpers/temp-dir';
import { testClient, testWorkerOptions, uniqueQueues, workflowBundle } from '../helpers/temporal';

/**
 * Real weights through the whole loop, CI's reduced form of `npm run e2e:tiny-real` (fewer tasks,
 * samples and trainer steps): the tiny code model through the onnx backend on the GPU queue, the
 * sandbox, the released human feedback (ILF) or the tiny judge over the OpenAI protocol (RLAIF),
 * the reference trainer through the trainer protocol, its ONNX export as the next policy, and the
 * learning signal in the audit. The tiny model is FEEDLOOP_TINY_MODEL_DIR when set (.ci/run names
 * one under the tools directory), else a 40-step one made here.
 */
const queues = uniqueQueues('tiny-real');
let workers: RunningWorkers | undefined;
let client: Client;
let closeClient: (() => Promise<void>) | undefined;
let pool: pg.Pool;
let judge: OnnxOpenAiServer | undefined;
let modelDir: string;

beforeAll(async () => {
  ensureTrainerPython();
  modelDir = process.env.FEEDLOOP_TINY_MODEL_DIR ?? ensureTinyModel(path.join(tempDir('tiny-real-model'), 'tiny-code'), undefined, 40);
  if (process.env.FEEDLOOP_TINY_MODEL_DIR) ensureTinyModel(modelDir);
  judge = await startTinyJudge(modelDir);
  workers = await startWorkers(['workflow', 'cpu', 'gpu'], testWorkerOptions(queues, { blobDir: tempDir('tiny-real-blobs') }), { workflowBundle: await workflowBundle(), log: createLogger('test', 'warn') });
  ({ client, close: closeClient } = await testClient());
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
}, 600_000);

afterAll(async () => {
  await judge?.close();
  workers?.shutdown();
  await workers?.done;
  await closeClient?.();
  await pool?.end();
});

/** What every real fine-tuning job must show: its loss curve, and its own training set's likelihood rising. */
function expectLearned(job: TrainingJobAudit | null | undefined, from: string): LearningSignalAudit {
  expect(job).toMatchObject({ status: 'completed', weights: 'trained' });
  const l = job!.learningSignal!;
  expect(l.policyBefore).toBe(from);
  expect(fs.existsSync(path.join(l.policyAfter, 'model.onnx'))).toBe(true);
  expect(l.lossCurve.length).toBe(job!.steps);
  expect(l.heldOut).toMatchObject({ set: 'mbpp-test-gold-20', pairs: 20 });
  expect(l.heldOut!.before.perplexity).toBeGreaterThan(1);
  expect(l.heldOut!.after.perplexity).not.toBe(l.heldOut!.before.perplexity);
  expect(l.trainingSet!.pairs).toBeGreaterThan(0);
  return l;
}

describe('tiny-real campaigns (reduced), real weights end to end', () => {
  it('ILF: two iterations of sft on the kept human refinements; iteration 2 samples iteration 1\'s export', async () => {
    const run = await runTinyRealCampaign(client, pool, 'ilf', campaignId('ilf-tiny-real'), { reduced: true, modelDir, taskQueues: queues });
    expect(run.status).toBe('completed');
    const audit = run.audit as { campaign: { simulated: boolean }; start: { passAt1: number } | null; iterations: { policy: { label: string }; training: TrainingJobAudit; refinements: { kept: number }; evaluation: { status: string; policy: { label: string } } }[] };
    expect(audit.campaign.simulated).toBe(false);
    expect(audit.start?.passAt1).toBeGreaterThanOrEqual(0);
    const [one, two] = audit.iterations;
    expect(one!.refinements.kept).toBeGreaterThan(0);
    const first = expectLearned(one!.training, path.join(modelDir, 'onnx'));
    expect(first.policyBeforeFrom).toBeNull();
    // sft on a handful of programs must fit them: their likelihood rises, and nothing is flagged
    expect(first.trainingSet!.after.meanLogprob).toBeGreaterThan(first.trainingSet!.before.meanLogprob);
    expect(first.flags).toEqual([]);
    expect(one!.evaluation).toMatchObject({ status: 'completed', policy: { label: `onnx:${first.policyAfter}` } });
    expect(two!.policy.label).toBe(`onnx:${first.policyAfter}`);
    const second = expectLearned(two!.training, first.policyAfter);
    expect(second.policyBeforeFrom).toBe(one!.training.id);
    expect(run.text).toMatch(/held-out mbpp-test-gold-20 \(20 programs, \d+ tokens\): perplexity [\d.]+ -> [\d.]+/);
  }, 600_000);

  it('RLAIF: the tiny judge scores rollouts over HTTP, reward_model then policy_update; its export is evaluated', async () => {
    const run = await runTinyRealCampaign(client, pool, 'rlaif', campaignId('rlaif-tiny-real'), { reduced: true, modelDir, taskQueues: queues, judgeBaseUrl: judge!.baseUrl, iterations: 1 });
    expect(run.status).toBe('completed');
    const [one] = (run.audit as { iterations: { feedback: { scored: number }; rewardModel: { job: TrainingJobAudit }; policyUpdate: TrainingJobAudit; evaluation: { status: string } }[] }).iterations;
    expect(one!.feedback.scored).toBeGreaterThan(0);
    expect(one!.rewardModel.job).toMatchObject({ kind: 'reward_model', status: 'completed', weights: 'trained' });
    expectLearned(one!.policyUpdate, path.join(modelDir, 'onnx'));
    expect(one!.evaluation.status).toBe('completed');
  }, 600_000);
});
