import fs from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { CommandTrainingJobInput } from '../../activities/training';

export const SIMULATED_TRAINER = path.join(__dirname, '..', '..', 'trainers', 'simulated', 'trainer.mjs');

export { tempDir } from '../helpers/temp-dir';

/** A job for the simulated protocol trainer, with a small JSONL dataset. */
export function simulatedJob(
  root: string,
  hyperparameters: Record<string, unknown> = {},
  trainer: Partial<CommandTrainingJobInput['trainer']> = {},
): CommandTrainingJobInput {
  const datasetPath = path.join(root, 'train.jsonl');
  fs.writeFileSync(datasetPath, ['{"prompt":"a","completion":"b"}', '{"prompt":"c","completion":"d"}'].join('\n') + '\n');
  return {
    jobId: `job-${path.basename(root)}`,
    kind: 'sft',
    baseModel: 'tiny-base',
    datasetPath,
    outputDir: path.join(root, 'out'),
    hyperparameters: { totalSteps: 40, checkpointEvery: 10, stepMs: 5, ...hyperparameters },
    trainer: { type: 'command', argv: [process.execPath, SIMULATED_TRAINER], cancelGraceMs: 2000, lockWaitMs: 0, ...trainer },
  };
}

export interface LedgerEntry {
  pid: number;
  step: number;
}

export function readLedger(outputDir: string): LedgerEntry[] {
  const file = path.join(outputDir, 'ledger.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LedgerEntry);
}

/** Steps trained by each trainer process, in order of first appearance. */
export function stepsByProcess(ledger: readonly LedgerEntry[]): number[][] {
  const byPid = new Map<number, number[]>();
  for (const e of ledger) {
    if (!byPid.has(e.pid)) byPid.set(e.pid, []);
    byPid.get(e.pid)!.push(e.step);
  }
  return [...byPid.values()];
}

/** A mock activity context that records every heartbeat. */
export function activityEnv(info: { attempt?: number; heartbeatDetails?: unknown } = {}) {
  // Failures are asserted by the tests; the SDK's own warning for each would only be noise.
  const env = new MockActivityEnvironment({ attempt: info.attempt ?? 1, heartbeatDetails: info.heartbeatDetails }, { logger: new DefaultLogger('ERROR') });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  // env.run cannot infer the activity's result type; this keeps it.
  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args) as Promise<R>;
  return { env, heartbeats, run };
}

export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the activity to fail');
    },
    (err: unknown) => err,
  );
}
