import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_FAILURE } from '../../activities/models/failures';
import { createTrainingActivities, TRAINING_FAILURE, type FineTuningHeartbeat, type OpenAIFineTuningJobInput } from '../../activities/training';
import { JOB_ID_METADATA_KEY } from '../../activities/training/openai-trainer';
import { FakeOpenAIServer } from '../models/fake-openai-server';
import { activityEnv, rejectionOf, tempDir } from './helpers';

const KEY = 'sk-ft-test-key-0000';
let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await new FakeOpenAIServer({ apiKey: KEY, models: ['tiny-base'], fineTunePolls: 3 }).start();
});
afterAll(async () => {
  await server.stop();
});

const activities = createTrainingActivities({ workerTaskQueue: 'cpu-a', env: { FT_KEY: KEY } });

function job(jobId: string): OpenAIFineTuningJobInput {
  const dir = tempDir('ft');
  const datasetPath = path.join(dir, 'train.jsonl');
  fs.writeFileSync(datasetPath, `${JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] })}\n`);
  return {
    jobId,
    kind: 'sft',
    baseModel: 'tiny-base',
    datasetPath,
    hyperparameters: { n_epochs: 2 },
    trainer: { type: 'openai', baseUrl: server.baseURL, apiKeyEnv: 'FT_KEY', pollIntervalMs: 20 },
  };
}

const jobsOf = (jobId: string) => [...server.jobs.values()].filter((j) => j.metadata?.[JOB_ID_METADATA_KEY] === jobId);

describe('openai fine-tuning trainer', () => {
  it('uploads the dataset, creates one job tagged with our job id, polls it to success', async () => {
    const input = job('ft-ok');
    const creations = server.fineTuneCreations;
    const { heartbeats, run } = activityEnv();
    const result = await run(activities.runOpenAIFineTuningJob, input);
    expect(server.fineTuneCreations - creations).toBe(1);
    const [created] = jobsOf('ft-ok');
    expect(created).toMatchObject({ model: 'tiny-base', suffix: 'ft-ok', status: 'succeeded' });
    expect(server.files.get(created!.training_file)?.content).toBe(fs.readFileSync(input.datasetPath, 'utf8'));
    expect(result).toMatchObject({ jobId: 'ft-ok', modelPath: `ft:tiny-base:ft-ok:${created!.id}`, providerJobId: created!.id, taskQueue: 'cpu-a' });
    expect(result.metrics).toEqual({ trained_tokens: 1234 });
    expect((heartbeats as FineTuningHeartbeat[]).map((h) => h.status)).toContain('running');
    expect(JSON.stringify(heartbeats)).not.toContain(KEY);
  });

  it('a retry re-attaches to the job from the heartbeat details: nothing uploaded or created twice', async () => {
    const input = job('ft-reattach');
    // The first attempt dies (server error) after creating the job, while polling it.
    server.inject('GET', /^\/v1\/fine_tuning\/jobs\/ftjob-/, { status: 500, message: 'poll failed' });
    const first = activityEnv();
    const err = await rejectionOf(first.run(activities.runOpenAIFineTuningJob, input));
    expect(err).toMatchObject({ type: MODEL_FAILURE.serverError, nonRetryable: false });
    const details = first.heartbeats[first.heartbeats.length - 1] as FineTuningHeartbeat;
    expect(details.providerJobId).toBeDefined();
    const uploads = server.count('POST', /^\/v1\/files$/);
    const creations = server.fineTuneCreations;

    const result = await activityEnv({ attempt: 2, heartbeatDetails: details }).run(activities.runOpenAIFineTuningJob, input);
    expect(result.providerJobId).toBe(details.providerJobId);
    expect(result.resumedFrom).toBe(details.providerJobId);
    expect(server.fineTuneCreations).toBe(creations);
    expect(server.count('POST', /^\/v1\/files$/)).toBe(uploads);
    expect(jobsOf('ft-reattach')).toHaveLength(1);
  });

  it('a retry whose heartbeat was lost finds its job by our job id in the metadata', async () => {
    const input = job('ft-lost-heartbeat');
    server.inject('GET', /^\/v1\/fine_tuning\/jobs\/ftjob-/, { status: 503, message: 'unavailable' });
    await rejectionOf(activityEnv().run(activities.runOpenAIFineTuningJob, input));
    const creations = server.fineTuneCreations;
    const result = await activityEnv({ attempt: 2 }).run(activities.runOpenAIFineTuningJob, input);
    expect(server.fineTuneCreations).toBe(creations);
    expect(jobsOf('ft-lost-heartbeat').map((j) => j.id)).toEqual([result.providerJobId]);
  });

  it('a rate-limited create is retryable after Retry-After and creates nothing', async () => {
    const input = job('ft-429');
    const creations = server.fineTuneCreations;
    server.inject('POST', /^\/v1\/fine_tuning\/jobs$/, { status: 429, headers: { 'retry-after': '7' } });
    const err = await rejectionOf(activityEnv().run(activities.runOpenAIFineTuningJob, input));
    expect(err).toMatchObject({ type: MODEL_FAILURE.rateLimited, nonRetryable: false, nextRetryDelay: 7000 });
    expect(server.fineTuneCreations).toBe(creations);
  });

  it("a failed provider job fails non-retryably with the provider's reason", async () => {
    server.nextJobFailure = 'training file has invalid format on line 1';
    const err = await rejectionOf(activityEnv().run(activities.runOpenAIFineTuningJob, job('ft-fail')));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: TRAINING_FAILURE.providerJobFailed, nonRetryable: true });
    expect((err as Error).message).toContain('invalid format on line 1');
  });

  it('cancellation cancels the provider job too', async () => {
    const input = { ...job('ft-cancel'), trainer: { ...job('ft-cancel').trainer, pollIntervalMs: 60_000 } };
    const { env, heartbeats, run } = activityEnv();
    const running = run(activities.runOpenAIFineTuningJob, input);
    while (!(heartbeats as FineTuningHeartbeat[]).some((h) => h.providerJobId)) await new Promise((r) => setTimeout(r, 10));
    env.cancel();
    expect(await rejectionOf(running)).toBeInstanceOf(CancelledFailure);
    await new Promise((r) => setTimeout(r, 50));
    expect(jobsOf('ft-cancel').map((j) => j.status)).toEqual(['cancelled']);
  });
});
