import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { checkpointProblem, completeCheckpoints, RESULT_FILE, writeJsonAtomic, type CheckpointRef } from './checkpoints';
import { TRAINING_FAILURE } from './failures';
import { commandTrainingJobSchema, type CommandTrainingJob, type TrainerJobSpec, type TrainingJobResult } from './job-spec';
import { JobLock, type LockHolder } from './lock';
import { appendLossPoint } from './loss-curve';
import { sleep, stopGroup } from './process-group';
import { parseTrainerLine, TailBuffer, type TrainerEvent } from './protocol';
import { formatConfigIssues } from '../../common/model-config';
import type { Logger } from '../../infra/logger';
import { resolveJobTrainer, type TrainerRegistry } from './trainer-registry';
import { publishedProblem, type CheckpointStore } from './checkpoint-store';
import { modelDirProblem, trainerScriptProblem, unreadableProblem } from './preflight';

/** A job whose argv is the one that runs (trainer-registry.ts). */
type ResolvedJob = ReturnType<typeof resolveJobTrainer>;

/** What each heartbeat records; the next attempt reads it back to resume. */
export interface TrainingHeartbeat {
  jobId: string;
  step: number;
  totalSteps?: number;
  loss?: number;
  /** the last complete checkpoint */
  checkpoint: CheckpointRef | null;
  host: string;
}

export interface CommandTrainerDeps {
  host: string;
  workerTaskQueue?: string;
  logger?: Logger;
  /** heartbeats (and lock refreshes) happen at least this often, even while the trainer is quiet */
  heartbeatIntervalMs: number;
  /** the trainers this worker runs; unset: a job's own argv runs */
  registry?: TrainerRegistry;
  /**
   * This host's cache in front of the shared store: the trainer writes in the cache copy of
   * `outputDir`, and each complete checkpoint and the final model are published to `outputDir`
   * (the durable home, which keeps the lock, the result and the loss curve). Unset: the trainer
   * writes in `outputDir` itself.
   */
  store?: CheckpointStore;
}

interface StoredResult {
  jobId: string;
  modelPath: string;
  steps: number;
  metrics: Record<string, number>;
  exportPath?: string;
  host: string;
  finishedAt: string;
}

function parseJob(raw: unknown): CommandTrainingJob {
  const parsed = commandTrainingJobSchema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid training job:\n${formatConfigIssues(parsed.error.issues, 'job')}`, TRAINING_FAILURE.invalidJob);
  }
  return { ...parsed.data, outputDir: path.resolve(parsed.data.outputDir) };
}

function readStoredResult(outputDir: string, jobId: string): StoredResult | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(outputDir, RESULT_FILE), 'utf8')) as StoredResult;
    return r.jobId === jobId && fs.existsSync(r.modelPath) ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where to resume: the highest complete checkpoint among the one the last attempt heartbeated and
 * those on disk. If the last attempt reported a checkpoint this host cannot see, fail retryably
 * rather than train from scratch: outputDir must be shared storage for retries on other hosts.
 */
export function resumePoint(outputDir: string, previous: TrainingHeartbeat | undefined, workDir: string = outputDir): CheckpointRef | null {
  const candidates = completeCheckpoints(outputDir);
  if (workDir !== outputDir) candidates.push(...completeCheckpoints(workDir));
  const reported = previous?.checkpoint ?? null;
  if (reported) {
    const problem = checkpointProblem(reported);
    if (problem === null) candidates.push(reported);
    else if (!candidates.some((c) => c.step >= reported.step)) {
      throw ApplicationFailure.retryable(
        `the previous attempt reported checkpoint step ${reported.step} at ${reported.path}, but it is not usable here: ${problem}. ` +
          `Refusing to train from scratch; outputDir must be on storage every GPU host that may retry can read.`,
        TRAINING_FAILURE.checkpointMissing,
      );
    }
  }
  return candidates.sort((a, b) => b.step - a.step)[0] ?? null;
}

/**
 * Where a job's trainer writes (this host's cache copy of outputDir when a store is configured)
 * and how its results reach the durable home.
 */
function jobCache(outputDir: string, store: CheckpointStore | undefined) {
  const cached = store !== undefined && store.inStore(outputDir);
  const workDir = cached ? store.localPath(outputDir) : outputDir;
  const durablePathOf = (local: string) => {
    const rel = path.relative(workDir, local);
    return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : path.join(outputDir, rel);
  };
  return {
    workDir,
    /** the durable ref of a checkpoint (published ones are; a local one is named as it is) */
    durable: (ref: CheckpointRef): CheckpointRef => {
      if (!cached) return ref;
      const shared = durablePathOf(ref.path);
      return shared && checkpointProblem({ path: shared, step: ref.step }) === null ? { path: shared, step: ref.step } : ref;
    },
    /** a model or checkpoint path as the trainer on this host reads it (pulled into the cache when needed) */
    local: async (p: string): Promise<string> => (cached ? (await store.localize(p)).path : p),
    /** publishes a complete checkpoint the trainer reported; returns its durable ref */
    publishCheckpoint: async (ref: CheckpointRef): Promise<CheckpointRef> => {
      const shared = cached ? durablePathOf(ref.path) : undefined;
      if (!shared) return ref;
      await store!.publish(ref.path, shared);
      return { path: shared, step: ref.step };
    },
    /** publishes the final model (or export) unless it is inside one already published; returns its durable path */
    publishModel: async (local: string): Promise<string> => {
      const shared = cached ? durablePathOf(local) : undefined;
      if (!shared) return local;
      const unit = store!.publishedUnit(shared);
      if (unit !== undefined && publishedProblem(unit) === null) return shared;
      if (fs.statSync(local).isDirectory()) await store!.publish(local, shared);
      else {
        fs.mkdirSync(path.dirname(shared), { recursive: true });
        fs.copyFileSync(local, `${shared}.tmp-${process.pid}`);
        fs.renameSync(`${shared}.tmp-${process.pid}`, shared);
      }
      return shared;
    },
  };
}

/** Takes the job lock, stopping an orphaned trainer and waiting (heartbeating) for a live holder up to lockWaitMs. */
async function acquireLock(lock: JobLock, job: CommandTrainingJob, deps: CommandTrainerDeps, heartbeat: () => void): Promise<LockHolder> {
  const ctx = Context.current();
  const deadline = Date.now() + job.trainer.lockWaitMs;
  for (;;) {
    const mine = lock.tryAcquire(job.jobId);
    if (mine) return mine;
    const state = lock.inspect();
    if (state.state === 'orphaned' && state.holder.trainerPid) {
      deps.logger?.warn({ jobId: job.jobId, pid: state.holder.trainerPid }, 'stopping the trainer of a dead worker before taking over its job');
      await stopGroup(state.holder.trainerPid, job.trainer.cancelGraceMs);
      continue;
    }
    if (Date.now() >= deadline) {
      const h = state.state === 'free' ? undefined : state.holder;
      throw ApplicationFailure.retryable(
        h
          ? `training job ${job.jobId} is already running: lock held by worker pid ${h.workerPid} on ${h.host}` +
              `${h.trainerPid ? ` (trainer pid ${h.trainerPid})` : ''} since ${h.acquiredAt}`
          : `training job ${job.jobId}: could not take the lock in ${job.outputDir}`,
        TRAINING_FAILURE.locked,
      );
    }
    heartbeat();
    ctx.cancellationSignal.throwIfAborted();
    await sleep(Math.min(1000, Math.max(50, deadline - Date.now())));
  }
}

function argvWithSpec(argv: readonly string[], specPath: string): string[] {
  return argv.includes('{spec}') ? argv.map((a) => (a === '{spec}' ? specPath : a)) : [...argv, specPath];
}

function failureText(what: string, stderr: TailBuffer, log: TailBuffer): string {
  const err = stderr.toString().trim();
  const out = log.toString().trim();
  return `${what}${err ? `\n--- stderr (tail) ---\n${err}` : ''}${!err && out ? `\n--- output (tail) ---\n${out}` : ''}`;
}

/**
 * Runs one training job with a command trainer (trainers/PROTOCOL.md), resuming from the last
 * complete checkpoint on retry and holding the job's lock throughout.
 */
export async function runCommandTrainingJob(rawInput: unknown, deps: CommandTrainerDeps): Promise<TrainingJobResult> {
  const ctx = Context.current();
  const job = resolveJobTrainer(parseJob(rawInput), deps.registry);
  const { outputDir } = job;
  const started = Date.now();
  const attempt = ctx.info.attempt;
  const previous = ctx.info.heartbeatDetails as TrainingHeartbeat | undefined;
  const base = { jobId: job.jobId, host: deps.host, attempt, ...(deps.workerTaskQueue ? { taskQueue: deps.workerTaskQueue } : {}) };

  fs.mkdirSync(outputDir, { recursive: true });
  const finished = readStoredResult(outputDir, job.jobId);
  if (finished) {
    const exported = finished.exportPath ? { exportPath: finished.exportPath } : {};
    return { ...base, modelPath: finished.modelPath, steps: finished.steps, metrics: finished.metrics, ...exported, durationMs: Date.now() - started, resumedFrom: null };
  }

  preflight(job, deps.registry);
  const state: TrainingHeartbeat = { jobId: job.jobId, step: previous?.step ?? 0, checkpoint: previous?.checkpoint ?? null, host: deps.host };
  const heartbeat = () => ctx.heartbeat({ ...state });
  const lock = new JobLock(outputDir, deps.host, job.trainer.lockStaleAfterMs);
  const holder = await acquireLock(lock, job, deps, heartbeat);
  const cache = jobCache(outputDir, deps.store);
  try {
    // the durable checkpoints (the store's), and this host's own where it has a later one
    const resume = resumePoint(outputDir, previous, cache.workDir);
    state.checkpoint = resume && cache.durable(resume);
    state.step = resume?.step ?? 0;
    heartbeat();
    const resumeHere = resume && (await cache.local(resume.path));
    const specPath = path.join(cache.workDir, 'job-spec.json');
    fs.mkdirSync(cache.workDir, { recursive: true });
    const spec: TrainerJobSpec = {
      protocol: 1,
      jobId: job.jobId,
      kind: job.kind,
      baseModel: await cache.local(job.baseModel),
      datasetPath: path.resolve(job.datasetPath),
      evalDatasetPath: job.evalDatasetPath ? path.resolve(job.evalDatasetPath) : null,
      outputDir: cache.workDir,
      resumeFromCheckpoint: resumeHere ?? null,
      resumeFromStep: resume?.step ?? 0,
      hyperparameters: job.hyperparameters,
      attempt,
    };
    writeJsonAtomic(specPath, spec);
    deps.logger?.info({ jobId: job.jobId, attempt, resumeFrom: resumeHere ?? null, cache: cache.workDir === outputDir ? undefined : cache.workDir }, 'starting trainer');
    const done = await superviseTrainer({ ...job, outputDir: cache.workDir }, specPath, state, lock, holder, deps, attempt, { durableDir: outputDir, onCheckpoint: cache.publishCheckpoint });
    // The final model (and an export outside it) move to the durable home before the job counts as done.
    const modelPath = await cache.publishModel(path.resolve(cache.workDir, done.modelPath));
    const steps = done.step ?? state.step;
    const exported = done.exportPath ? { exportPath: await cache.publishModel(done.exportPath) } : {};
    writeJsonAtomic(path.join(outputDir, RESULT_FILE), {
      jobId: job.jobId,
      modelPath,
      steps,
      metrics: done.metrics,
      ...exported,
      host: deps.host,
      finishedAt: new Date().toISOString(),
    } satisfies StoredResult);
    return { ...base, modelPath, steps, metrics: done.metrics, ...exported, durationMs: Date.now() - started, resumedFrom: resume?.path ?? null };
  } finally {
    lock.release(holder);
  }
}

/**
 * What no retry can fix fails the step at once, in one line naming the field: a trainer script
 * that is not there, a dataset that cannot be read, a base model directory with no model.
 */
function preflight(job: ResolvedJob, registry: TrainerRegistry | undefined): void {
  const cwd = job.trainer.cwd ?? process.cwd();
  const trainerField = job.trainer.name !== undefined && registry ? `trainers.${job.trainer.name}.argv in ${registry.file}` : 'trainer.command';
  const problems = [
    [trainerField, trainerScriptProblem(job.trainer.argv, cwd)],
    ['datasetPath', unreadableProblem(path.resolve(job.datasetPath))],
    ['evalDatasetPath', job.evalDatasetPath ? unreadableProblem(path.resolve(job.evalDatasetPath)) : undefined],
    ['baseModel', modelDirProblem(job.baseModel, cwd)],
  ] as const;
  const [field, problem] = problems.find(([, p]) => p !== undefined) ?? [];
  if (problem) throw ApplicationFailure.nonRetryable(`training job ${job.jobId}: ${field}: ${problem}`, TRAINING_FAILURE.missingFile);
}

interface Finished {
  modelPath: string;
  step?: number;
  metrics: Record<string, number>;
  exportPath?: string;
}

/** Spawns the trainer in its own process group and follows its protocol until it exits. */
async function superviseTrainer(
  job: ResolvedJob,
  specPath: string,
  state: TrainingHeartbeat,
  lock: JobLock,
  holder: LockHolder,
  deps: CommandTrainerDeps,
  attempt: number,
  durable: { durableDir: string; onCheckpoint: (ref: CheckpointRef) => Promise<CheckpointRef> },
): Promise<Finished> {
  const ctx = Context.current();
  const [command, ...args] = argvWithSpec(job.trainer.argv, specPath);
  const logDir = path.join(job.outputDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = fs.createWriteStream(path.join(logDir, `trainer-attempt-${attempt}.log`), { flags: 'a' });
  const stderr = new TailBuffer();
  const output = new TailBuffer();
  const metrics: Record<string, number> = {};
  let done: TrainerEvent & { event: 'done' } | undefined;
  let error: TrainerEvent & { event: 'error' } | undefined;
  let stopReason: 'cancelled' | 'stalled' | 'lock-lost' | undefined;
  let lastOutputAt = Date.now();
  let publishing: Promise<void> = Promise.resolve();

  const child = spawn(command!, args, {
    cwd: job.trainer.cwd,
    env: { ...process.env, ...job.trainer.env, FEEDLOOP_JOB_SPEC: specPath, FEEDLOOP_JOB_ID: job.jobId },
    // Its own process group, so a stop reaches the trainer's children too.
    detached: true,
    // stdin stays open and unused: a trainer that sees EOF knows its worker died.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  if (child.pid !== undefined) {
    holder.trainerPid = child.pid;
    lock.update(holder);
  }
  const heartbeat = () => ctx.heartbeat({ ...state });

  let stopping: Promise<unknown> | undefined;
  const stop = (reason: NonNullable<typeof stopReason>) => {
    if (stopping || child.pid === undefined) return;
    stopReason = reason;
    deps.logger?.warn({ jobId: job.jobId, reason, pid: child.pid }, 'stopping trainer');
    stopping = stopGroup(child.pid, job.trainer.cancelGraceMs, exited);
  };
  const onAbort = () => stop('cancelled');
  ctx.cancellationSignal.addEventListener('abort', onAbort);
  if (ctx.cancellationSignal.aborted) onAbort();

  const handle = (event: TrainerEvent) => {
    switch (event.event) {
      case 'progress':
        state.step = event.step;
        if (event.totalSteps !== undefined) state.totalSteps = event.totalSteps;
        if (event.loss !== undefined) {
          state.loss = event.loss;
          metrics.loss = event.loss;
          appendLossPoint(durable.durableDir, attempt, event.step, event.loss);
        }
        break;
      case 'checkpoint': {
        const ref = { path: path.resolve(job.outputDir, event.path), step: event.step };
        const problem = checkpointProblem(ref);
        if (problem) {
          // Not complete: it does not count, and a retry will not resume from it.
          deps.logger?.warn({ jobId: job.jobId, problem }, 'ignoring an incomplete checkpoint');
          output.push(`[feedloop] ignored incomplete checkpoint: ${problem}\n`);
          return;
        }
        state.step = Math.max(state.step, event.step);
        // Heartbeated once durable: a retry on another host resumes from the published copy.
        publishing = publishing.then(async () => {
          try {
            state.checkpoint = await durable.onCheckpoint(ref);
          } catch (err) {
            deps.logger?.warn({ jobId: job.jobId, err: (err as Error).message }, 'could not publish a checkpoint; the next one will be');
            return;
          }
          heartbeat();
        });
        break;
      }
      case 'metrics':
        Object.assign(metrics, event.metrics);
        break;
      case 'done':
        done = event;
        Object.assign(metrics, event.metrics ?? {});
        break;
      case 'error':
        error = event;
        break;
    }
    heartbeat();
  };

  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    lastOutputAt = Date.now();
    logFile.write(`${line}\n`);
    const parsed = parseTrainerLine(line);
    if (parsed.kind === 'event') handle(parsed.event);
    else if (parsed.kind === 'invalid') output.push(`[feedloop] invalid protocol line (${parsed.problem}): ${line}\n`);
    else output.push(`${line}\n`);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    lastOutputAt = Date.now();
    stderr.push(chunk);
    logFile.write(chunk);
  });
  // A dead trainer closes stdin's other end; ignore the resulting EPIPE.
  child.stdin!.on('error', () => undefined);

  const timer = setInterval(() => {
    heartbeat();
    if (!lock.refresh(holder)) stop('lock-lost');
    else if (Date.now() - lastOutputAt > job.trainer.stallTimeoutMs) stop('stalled');
  }, deps.heartbeatIntervalMs);

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let startError: Error | undefined;
  try {
    const first = await Promise.race([exited, spawnError]);
    if (first instanceof Error) startError = first;
    else exit = first;
    await stopping;
    await publishing;
  } finally {
    clearInterval(timer);
    ctx.cancellationSignal.removeEventListener('abort', onAbort);
    await new Promise<void>((resolve) => logFile.end(resolve));
  }

  const where = `training job ${job.jobId} (attempt ${attempt}, step ${state.step}, last checkpoint ${state.checkpoint?.path ?? 'none'})`;
  if (startError) {
    throw ApplicationFailure.nonRetryable(`${where}: cannot start ${command}: ${startError.message}`, TRAINING_FAILURE.spawnFailed);
  }
  if (stopReason === 'cancelled') throw ctx.cancellationSignal.reason ?? new Error('cancelled');
  if (stopReason === 'lock-lost') {
    throw ApplicationFailure.retryable(`${where}: lost the job lock to another worker; stopped the trainer`, TRAINING_FAILURE.lockLost);
  }
  if (stopReason === 'stalled') {
    throw ApplicationFailure.create({
      message: failureText(`${where}: no output for ${job.trainer.stallTimeoutMs} ms; killed the trainer`, stderr, output),
      type: TRAINING_FAILURE.stalled,
      nonRetryable: false,
      details: [{ stderrTail: stderr.toString() }],
    });
  }
  if (error) {
    throw ApplicationFailure.create({
      message: failureText(`${where}: trainer error ${error.errorClass}: ${error.message}`, stderr, output),
      type: error.errorClass,
      nonRetryable: !error.retryable,
      details: [{ stderrTail: stderr.toString() }],
    });
  }
  if (exit?.code === 0 && done) {
    const modelPath = path.resolve(job.outputDir, done.modelPath);
    if (!fs.existsSync(modelPath)) {
      throw ApplicationFailure.retryable(`${where}: trainer reported done with model ${modelPath}, which does not exist`, TRAINING_FAILURE.protocol);
    }
    if (done.export === undefined) return { modelPath, step: done.step, metrics };
    const exportPath = path.resolve(job.outputDir, done.export);
    if (!fs.existsSync(exportPath)) {
      throw ApplicationFailure.retryable(`${where}: trainer reported done with export ${exportPath}, which does not exist`, TRAINING_FAILURE.protocol);
    }
    return { modelPath, step: done.step, metrics, exportPath };
  }
  const how = exit?.code === 0 ? 'exited 0 without a "done" event' : `exited with ${exit?.signal ? `signal ${exit.signal}` : `code ${exit?.code}`}`;
  throw ApplicationFailure.create({
    message: failureText(`${where}: trainer ${how}`, stderr, output),
    type: exit?.code === 0 ? TRAINING_FAILURE.protocol : TRAINING_FAILURE.crashed,
    nonRetryable: false,
    details: [{ stderrTail: stderr.toString(), exitCode: exit?.code ?? null, signal: exit?.signal ?? null }],
  });
}
