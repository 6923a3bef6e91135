import fs from 'node:fs';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import { formatConfigIssues } from '../../common/model-config';
import { connectOpenAI } from '../models/openai/connection';
import { toModelFailure } from '../models/openai/errors';
import { TRAINING_FAILURE } from './failures';
import { openaiFineTuningJobSchema, type OpenAIFineTuningJob, type TrainingJobResult } from './job-spec';

type FineTuningJob = OpenAI.FineTuning.Jobs.FineTuningJob;

/** Heartbeat details: what a retry needs to re-attach instead of uploading and creating again. */
export interface FineTuningHeartbeat {
  jobId: string;
  fileId?: string;
  providerJobId?: string;
  status?: string;
}

/** The metadata key that marks a provider job as ours (an idempotency key across retries). */
export const JOB_ID_METADATA_KEY = 'feedloop_job_id';

export interface OpenAITrainerDeps {
  host: string;
  workerTaskQueue?: string;
  env?: NodeJS.ProcessEnv;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

function parseJob(raw: unknown): OpenAIFineTuningJob {
  const parsed = openaiFineTuningJobSchema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid fine-tuning job:\n${formatConfigIssues(parsed.error.issues, 'job')}`, TRAINING_FAILURE.invalidJob);
  }
  return parsed.data;
}

/**
 * Fine-tunes through an OpenAI-compatible fine-tuning jobs API: upload the dataset, create the
 * job, poll while heartbeating. A retry re-attaches to the job it created, found by the provider
 * job id in the heartbeat details or, failing that, by our job id in the jobs' metadata, so the
 * provider never runs (or bills) the same job twice.
 */
export async function runOpenAIFineTuningJob(rawInput: unknown, deps: OpenAITrainerDeps): Promise<TrainingJobResult> {
  const ctx = Context.current();
  const job = parseJob(rawInput);
  const started = Date.now();
  const signal = ctx.cancellationSignal;
  const { client, baseURL, secrets } = connectOpenAI(job.trainer, deps.env);
  const call = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toModelFailure(err, { operation, baseURL, model: job.baseModel, secrets, signal });
    }
  };
  const previous = ctx.info.heartbeatDetails as FineTuningHeartbeat | undefined;
  const state: FineTuningHeartbeat = { jobId: job.jobId, ...(previous?.jobId === job.jobId ? previous : {}) };
  const heartbeat = () => ctx.heartbeat({ ...state });

  const attachOrCreate = async (): Promise<FineTuningJob> => {
    if (state.providerJobId) {
      const id = state.providerJobId;
      return call('fine_tuning.jobs.retrieve', () => client.fineTuning.jobs.retrieve(id, { signal }));
    }
    const existing = await call('fine_tuning.jobs.list', () => findOurJob(client, job, signal));
    if (existing) return existing;
    if (!fs.existsSync(job.datasetPath)) {
      throw ApplicationFailure.nonRetryable(`fine-tuning dataset not found: ${job.datasetPath}`, TRAINING_FAILURE.invalidJob);
    }
    if (!state.fileId) {
      const file = await call('files.create', () =>
        client.files.create({ file: fs.createReadStream(job.datasetPath), purpose: 'fine-tune' }, { signal }),
      );
      state.fileId = file.id;
      heartbeat();
    }
    const trainingFile = state.fileId;
    return call('fine_tuning.jobs.create', () =>
      client.fineTuning.jobs.create(
        {
          model: job.baseModel,
          training_file: trainingFile,
          suffix: job.trainer.suffix ?? job.jobId.slice(0, 64),
          metadata: { [JOB_ID_METADATA_KEY]: job.jobId },
          ...(Object.keys(job.hyperparameters).length
            ? { method: { type: 'supervised' as const, supervised: { hyperparameters: job.hyperparameters } } }
            : {}),
        },
        { signal },
      ),
    );
  };

  let provider: FineTuningJob = await attachOrCreate();
  state.providerJobId = provider.id;
  state.status = provider.status;
  heartbeat();

  while (!TERMINAL.has(provider.status)) {
    try {
      await sleepUnlessAborted(job.trainer.pollIntervalMs, signal);
    } catch (err) {
      const id = provider.id;
      // Cancelled: stop the provider's job too, best effort, then report the cancellation.
      await client.fineTuning.jobs.cancel(id).catch(() => undefined);
      throw err;
    }
    const id: string = provider.id;
    provider = await call('fine_tuning.jobs.retrieve', () => client.fineTuning.jobs.retrieve(id, { signal }));
    state.status = provider.status;
    heartbeat();
  }
  if (provider.status !== 'succeeded' || !provider.fine_tuned_model) {
    const reason = provider.error?.message ?? `status ${provider.status}`;
    throw ApplicationFailure.nonRetryable(`fine-tuning job ${provider.id} (ours: ${job.jobId}) ended ${provider.status}: ${reason}`, TRAINING_FAILURE.providerJobFailed);
  }
  return {
    jobId: job.jobId,
    modelPath: provider.fine_tuned_model,
    // The jobs API reports tokens, not optimizer steps.
    steps: 0,
    metrics: provider.trained_tokens == null ? {} : { trained_tokens: provider.trained_tokens },
    durationMs: Date.now() - started,
    host: deps.host,
    ...(deps.workerTaskQueue ? { taskQueue: deps.workerTaskQueue } : {}),
    resumedFrom: previous?.providerJobId ?? null,
    attempt: ctx.info.attempt,
    providerJobId: provider.id,
  };
}

/** Our job among the provider's most recent ones (metadata filter where supported, checked here too). */
async function findOurJob(client: OpenAI, job: OpenAIFineTuningJob, signal: AbortSignal): Promise<FineTuningJob | undefined> {
  let seen = 0;
  for await (const candidate of client.fineTuning.jobs.list(
    { limit: Math.min(100, job.trainer.lookback), metadata: { [JOB_ID_METADATA_KEY]: job.jobId } },
    { signal },
  )) {
    // Any status: a job of ours that failed is reported, not silently created again.
    if (candidate.metadata?.[JOB_ID_METADATA_KEY] === job.jobId) return candidate;
    if (++seen >= job.trainer.lookback) break;
  }
  return undefined;
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
