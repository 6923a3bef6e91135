import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createTrainingActivities, LOCK_FILE, TRAINING_FAILURE, type TrainingHeartbeat } from '../../activities/training';
import { isAlive, isGroupAlive } from '../../activities/training/process-group';
import { activityEnv, readLedger, rejectionOf, simulatedJob, stepsByProcess, tempDir } from './helpers';

const activities = createTrainingActivities({ workerTaskQueue: 'gpu-host-a', heartbeatIntervalMs: 100 });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const lastHeartbeat = (beats: unknown[]) => beats[beats.length - 1] as TrainingHeartbeat;

describe('command trainer: a clean run', () => {
  it('trains every step once, heartbeats complete checkpoints, returns a small result', async () => {
    const root = tempDir('train-ok');
    const job = simulatedJob(root);
    const { heartbeats, run } = activityEnv();
    const result = await run(activities.runTrainingJob, job);
    const out = job.outputDir;
    expect(result).toMatchObject({ jobId: job.jobId, steps: 40, taskQueue: 'gpu-host-a', resumedFrom: null, attempt: 1 });
    expect(result.modelPath).toBe(path.join(out, 'final'));
    expect(fs.existsSync(path.join(result.modelPath, 'feedloop-simulated-model.json'))).toBe(true);
    expect(result.metrics).toMatchObject({ train_examples: 320, dataset_examples: 2 });
    expect(stepsByProcess(readLedger(out))).toEqual([range(1, 40)]);
    const checkpoints = heartbeats.map((h) => (h as TrainingHeartbeat).checkpoint?.step).filter((s) => s !== undefined);
    expect(new Set(checkpoints)).toEqual(new Set([10, 20, 30, 40]));
    const spec = JSON.parse(fs.readFileSync(path.join(out, 'job-spec.json'), 'utf8')) as Record<string, unknown>;
    expect(spec).toMatchObject({ protocol: 1, jobId: job.jobId, kind: 'sft', resumeFromCheckpoint: null, outputDir: out });
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
    expect(fs.readFileSync(path.join(out, 'logs', 'trainer-attempt-1.log'), 'utf8')).toContain('"event":"done"');

    // A retry after the job finished (the worker died before reporting) returns the stored result, training nothing.
    const again = await activityEnv({ attempt: 2 }).run(activities.runTrainingJob, job);
    expect(again).toMatchObject({ modelPath: result.modelPath, steps: 40 });
    expect(readLedger(out)).toHaveLength(40);
  });
});

describe('command trainer: crash and resume', () => {
  it('a crash is retryable with the stderr tail; the retry resumes from the last complete checkpoint', async () => {
    const root = tempDir('train-crash');
    const job = simulatedJob(root, { simulate: { crashAtStep: 25 } });
    const first = activityEnv();
    const err = await rejectionOf(first.run(activities.runTrainingJob, job));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: TRAINING_FAILURE.crashed, nonRetryable: false });
    expect((err as Error).message).toContain('illegal memory access');
    expect((err as Error).message).toContain('exited with code 1');
    const details = lastHeartbeat(first.heartbeats);
    expect(details.checkpoint).toEqual({ path: path.join(job.outputDir, 'checkpoint-20'), step: 20 });

    // Attempt 2 gets the last heartbeat back, as Temporal hands it over.
    const second = activityEnv({ attempt: 2, heartbeatDetails: details });
    const result = await second.run(activities.runTrainingJob, job);
    expect(result).toMatchObject({ steps: 40, resumedFrom: path.join(job.outputDir, 'checkpoint-20'), attempt: 2 });
    const [run1, run2] = stepsByProcess(readLedger(job.outputDir));
    expect(run1).toEqual(range(1, 25));
    // only the steps after the last checkpoint are trained again, and every step is covered
    expect(run2).toEqual(range(21, 40));
    const spec = JSON.parse(fs.readFileSync(path.join(job.outputDir, 'job-spec.json'), 'utf8')) as Record<string, unknown>;
    expect(spec).toMatchObject({ resumeFromCheckpoint: path.join(job.outputDir, 'checkpoint-20'), resumeFromStep: 20, attempt: 2 });
  });

  it('resumes only from complete checkpoints, and never from scratch when the reported one is gone', async () => {
    const root = tempDir('train-verify');
    const job = simulatedJob(root, { totalSteps: 30 });
    const out = job.outputDir;
    // checkpoint-10 complete; checkpoint-20 half-written (no completion marker)
    fs.mkdirSync(path.join(out, 'checkpoint-10'), { recursive: true });
    fs.writeFileSync(path.join(out, 'checkpoint-10', 'state.json'), JSON.stringify({ step: 10 }));
    fs.writeFileSync(path.join(out, 'checkpoint-10', 'feedloop-checkpoint.json'), JSON.stringify({ step: 10 }));
    fs.mkdirSync(path.join(out, 'checkpoint-20'));
    fs.writeFileSync(path.join(out, 'checkpoint-20', 'state.json'), JSON.stringify({ step: 20 }));

    const missing = { jobId: job.jobId, step: 20, host: 'x', checkpoint: { path: path.join(out, 'checkpoint-20'), step: 20 } };
    const err = await rejectionOf(activityEnv({ attempt: 3, heartbeatDetails: missing }).run(activities.runTrainingJob, job));
    expect(err).toMatchObject({ type: TRAINING_FAILURE.checkpointMissing, nonRetryable: false });
    expect((err as Error).message).toContain('Refusing to train from scratch');
    expect(readLedger(out)).toHaveLength(0);

    const result = await activityEnv({ attempt: 2 }).run(activities.runTrainingJob, job);
    expect(result.resumedFrom).toBe(path.join(out, 'checkpoint-10'));
    expect(stepsByProcess(readLedger(out))).toEqual([range(11, 30)]);
  });
});

describe('command trainer: failures that must not retry', () => {
  it("a bad config fails non-retryable with the trainer's error class", async () => {
    const job = simulatedJob(tempDir('train-bad'), { simulate: { failWith: 'BadConfig' } });
    const err = await rejectionOf(activityEnv().run(activities.runTrainingJob, job));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'BadConfig', nonRetryable: true });
    expect((err as Error).message).toContain('simulated configuration error');
  });

  it('an invalid job input and a missing trainer command fail non-retryable', async () => {
    const job = simulatedJob(tempDir('train-invalid'));
    const invalid = await rejectionOf(activityEnv().run(activities.runTrainingJob, { ...job, kind: 'pretrain' } as never));
    expect(invalid).toMatchObject({ type: TRAINING_FAILURE.invalidJob, nonRetryable: true });
    expect((invalid as Error).message).toContain('job.kind');
    const noCommand = await rejectionOf(
      activityEnv().run(activities.runTrainingJob, { ...job, trainer: { ...job.trainer, argv: ['/nonexistent/trainer'] } }),
    );
    expect(noCommand).toMatchObject({ type: TRAINING_FAILURE.spawnFailed, nonRetryable: true });
  });

  it('a missing trainer script, an unreadable dataset, a base model directory with no model: non-retryable, one line naming the field, the trainer never started', async () => {
    const root = tempDir('train-missing');
    const job = simulatedJob(root);
    const emptyModel = path.join(root, 'empty-model');
    fs.mkdirSync(emptyModel);
    const cases: Array<[unknown, RegExp]> = [
      [{ ...job, trainer: { ...job.trainer, argv: [process.execPath, path.join(root, 'no-such-trainer.mjs')] } }, /^training job \S+: trainer\.command: the trainer script \S+no-such-trainer\.mjs does not exist \(/],
      [{ ...job, datasetPath: path.join(root, 'gone.jsonl') }, /^training job \S+: datasetPath: cannot read \S+gone\.jsonl \(ENOENT\)$/],
      [{ ...job, baseModel: emptyModel }, /^training job \S+: baseModel: the model directory \S+empty-model holds no model /],
    ];
    for (const [input, message] of cases) {
      const err = await rejectionOf(activityEnv().run(activities.runTrainingJob, input as never));
      expect(err).toMatchObject({ type: TRAINING_FAILURE.missingFile, nonRetryable: true });
      expect((err as Error).message.split('\n'), (err as Error).message).toHaveLength(1);
      expect((err as Error).message).toMatch(message);
    }
    expect(readLedger(job.outputDir)).toEqual([]);
  });
});

describe('command trainer: stopping', () => {
  it('cancellation stops the trainer within the grace period', async () => {
    const job = simulatedJob(tempDir('train-cancel'), { totalSteps: 100000, stepMs: 20 });
    const { env, heartbeats, run } = activityEnv();
    const running = run(activities.runTrainingJob, job);
    while (!heartbeats.some((h) => (h as TrainingHeartbeat).step > 2)) await new Promise((r) => setTimeout(r, 20));
    const trainerPid = (JSON.parse(fs.readFileSync(path.join(job.outputDir, LOCK_FILE), 'utf8')) as { trainerPid: number }).trainerPid;
    const cancelledAt = Date.now();
    env.cancel();
    const err = await rejectionOf(running);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - cancelledAt).toBeLessThan(1000); // it honours SIGTERM: well within the 2 s grace
    expect(isAlive(trainerPid)).toBe(false);
    expect(fs.existsSync(path.join(job.outputDir, LOCK_FILE))).toBe(false);
  });

  it('a trainer ignoring SIGTERM is SIGKILLed after the grace period', async () => {
    const job = simulatedJob(tempDir('train-kill'), { totalSteps: 100000, stepMs: 20, simulate: { ignoreSigterm: true } }, { cancelGraceMs: 500 });
    const { env, heartbeats, run } = activityEnv();
    const running = run(activities.runTrainingJob, job);
    while (!heartbeats.some((h) => (h as TrainingHeartbeat).step > 2)) await new Promise((r) => setTimeout(r, 20));
    const trainerPid = (JSON.parse(fs.readFileSync(path.join(job.outputDir, LOCK_FILE), 'utf8')) as { trainerPid: number }).trainerPid;
    const cancelledAt = Date.now();
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    const took = Date.now() - cancelledAt;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2000);
    expect(isGroupAlive(trainerPid)).toBe(false);
  });

  it('a silent trainer is killed as stalled, retryably', async () => {
    const job = simulatedJob(tempDir('train-stall'), {}, { argv: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], stallTimeoutMs: 1000, cancelGraceMs: 200 });
    const started = Date.now();
    const err = await rejectionOf(activityEnv().run(activities.runTrainingJob, job));
    expect(err).toMatchObject({ type: TRAINING_FAILURE.stalled, nonRetryable: false });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('command trainer: never two copies of one job', () => {
  it('a second copy fails retryably while the first holds the lock, and the first finishes', async () => {
    const job = simulatedJob(tempDir('train-lock'), { totalSteps: 30, stepMs: 20 });
    const first = activityEnv();
    const running = first.run(activities.runTrainingJob, job);
    while (first.heartbeats.length === 0) await new Promise((r) => setTimeout(r, 10));
    const err = await rejectionOf(activityEnv().run(activities.runTrainingJob, { ...job, trainer: { ...job.trainer, lockWaitMs: 300 } }));
    expect(err).toMatchObject({ type: TRAINING_FAILURE.locked, nonRetryable: false });
    expect((err as Error).message).toContain(`worker pid ${process.pid}`);
    expect((await running).steps).toBe(30);
    expect(stepsByProcess(readLedger(job.outputDir))).toEqual([range(1, 30)]);
  });

  it('takes over a stale lock from a dead worker, stopping its orphaned trainer first', async () => {
    const job = simulatedJob(tempDir('train-orphan'), { totalSteps: 10 });
    fs.mkdirSync(job.outputDir, { recursive: true });
    const orphan = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const deadWorker = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => deadWorker.once('exit', r));
    fs.writeFileSync(
      path.join(job.outputDir, LOCK_FILE),
      JSON.stringify({ token: 't', jobId: job.jobId, host: (await import('node:os')).hostname(), workerPid: deadWorker.pid, trainerPid: orphan.pid, acquiredAt: 'then' }),
    );
    const result = await activityEnv().run(activities.runTrainingJob, job);
    expect(result.steps).toBe(10);
    expect(isGroupAlive(orphan.pid!)).toBe(false);
  });

  it("treats another host's lock as live while it is refreshed, and as stale once it is not", async () => {
    const job = simulatedJob(tempDir('train-remote'), { totalSteps: 5 }, { lockStaleAfterMs: 2000 });
    fs.mkdirSync(job.outputDir, { recursive: true });
    const lockFile = path.join(job.outputDir, LOCK_FILE);
    fs.writeFileSync(lockFile, JSON.stringify({ token: 'r', jobId: job.jobId, host: 'gpu-host-b', workerPid: 1, acquiredAt: 'now' }));
    const err = await rejectionOf(activityEnv().run(activities.runTrainingJob, job));
    expect(err).toMatchObject({ type: TRAINING_FAILURE.locked });
    expect((err as Error).message).toContain('gpu-host-b');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockFile, old, old);
    expect((await activityEnv().run(activities.runTrainingJob, job)).steps).toBe(5);
  });
});
