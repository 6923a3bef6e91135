import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect } from 'vitest';
import { learningModels, runLearningCampaign, serveLearningJudge, type LearningCurve, type LearningLoop } from '../../cli/learning';
import { createLogger } from '../../infra/logger';
import { ensureTrainerPython } from '../../infra/trainer-env';
import { startWorkers, type RunningWorkers } from '../../workers/run-workers';
import { campaignId } from '../ilf/helpers';
import { tempDir } from './temp-dir';
import { testClient, testWorkerOptions, uniqueQueues, workflowBundle } from './temporal';

/**
 * The learning proof, CI's reduced form (`npm run e2e:learning` is the full one): each loop's
 * learning campaign on the synthetic family, with the starting policy made here, beside the same
 * campaign with its feedback made uninformative. It fails when the learning machinery is broken:
 * an advantage with the wrong sign or rewards joined to the wrong rollouts leave held-out pass@1
 * where it started, and an ILF fine-tuning set whose programs sit under another task's prompt
 * drives it to nothing.
 *
 * The reduced form evaluates fewer tasks and samples, so its noise is larger than the full
 * run's (a standard error of about 5 points): it asks for a clear gain over iteration 0 and over
 * the control, not the full run's bar.
 *
 * The loops run in two files (learning-rlcf-ilf, learning-crlhf-rlaif), which vitest starts
 * first, one per fork (vitest.config.mts): each file makes models for a quarter of an hour or
 * more (RLCF's Java policy and ILF's teacher; RLAIF's judge), and together they take about an hour.
 */
export const MIN_GAIN = 0.1;
export const MIN_GAIN_OVER_CONTROL = 0.08;

export interface LearningEnv {
  client: () => Client;
  queues: ReturnType<typeof uniqueQueues>;
}

/** Workers and a client for one learning test file, started before its cases and stopped after. */
export function learningWorkers(name: string): LearningEnv {
  const queues = uniqueQueues(name);
  let workers: RunningWorkers | undefined;
  let client: Client | undefined;
  let closeClient: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ensureTrainerPython();
    workers = await startWorkers(['workflow', 'cpu', 'gpu'], testWorkerOptions(queues, { blobDir: tempDir(`${name}-blobs`) }), { workflowBundle: await workflowBundle(), log: createLogger('test', 'warn') });
    ({ client, close: closeClient } = await testClient());
  }, 900_000);
  afterAll(async () => {
    workers?.shutdown();
    await workers?.done;
    await closeClient?.();
  });
  return { client: () => client!, queues };
}

/** A loop's reduced learning campaign and then its control, seed 1, with the models they need (made here the first time, cached by recipe). */
export async function learningAndControl(env: LearningEnv, loop: LearningLoop): Promise<{ learning: LearningCurve; control: LearningCurve }> {
  const judge = await serveLearningJudge(learningModels([loop], 1, (line) => console.log(line)), () => undefined);
  try {
    const run = (control: boolean) =>
      runLearningCampaign(env.client(), loop, campaignId(`${loop}-learning${control ? '-control' : ''}`), { seed: 1, control, reduced: true, models: judge.models, taskQueues: env.queues });
    return { learning: await run(false), control: await run(true) };
  } finally {
    await judge.close();
  }
}

const best = (c: LearningCurve) => Math.max(...c.iterations);
const pts = (x: number) => `${(100 * x).toFixed(1)}%`;

export const curvesOf = (learning: LearningCurve, control: LearningCurve) =>
  `learning ${[learning.start!, ...learning.iterations].map(pts).join(' -> ')} (${learning.wallSeconds} s); control ${[control.start!, ...control.iterations].map(pts).join(' -> ')} (${control.wallSeconds} s)`;

/** Both campaigns completed from the same start, and the learning one gained clearly, over iteration 0 and over the control. `detail` goes into every failure. */
export function expectLearned(learning: LearningCurve, control: LearningCurve, detail: string): void {
  expect(learning.status, detail).toBe('completed');
  expect(control.status, detail).toBe('completed');
  // the same starting policy, evaluated the same way
  expect(control.start, detail).toBe(learning.start);
  expect(best(learning) - learning.start!, detail).toBeGreaterThanOrEqual(MIN_GAIN);
  expect(best(learning) - best(control), detail).toBeGreaterThanOrEqual(MIN_GAIN_OVER_CONTROL);
}

/** The case of a loop whose feedback is a reward (cRLHF, RLCF, RLAIF): its control shuffles the rewards across rollouts. */
export async function rewardLoopLearns(env: LearningEnv, loop: LearningLoop): Promise<void> {
  const { learning, control } = await learningAndControl(env, loop);
  const curves = curvesOf(learning, control);
  console.log(`${loop} (reduced): ${curves}`);
  expectLearned(learning, control, curves);
}
