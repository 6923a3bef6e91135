import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLearningCampaign, type LearningCurve, type LearningLoop, type LearningModels } from '../../cli/learning';
import { ensureSynthPolicy } from '../../cli/synth-policy';
import { createLogger } from '../../infra/logger';
import { ensureTrainerPython } from '../../infra/trainer-env';
import { startWorkers, type RunningWorkers } from '../../workers/run-workers';
import { campaignId } from '../ilf/helpers';
import { tempDir } from '../helpers/temp-dir';
import { testClient, testWorkerOptions, uniqueQueues, workflowBundle } from '../helpers/temporal';

/**
 * The learning proof, CI's reduced form (`npm run e2e:learning` is the full one): each loop's
 * learning campaign on the synthetic family, with the starting policy made here, beside the same
 * campaign with its feedback made uninformative. It fails when the learning machinery is broken:
 * an advantage with the wrong sign, rewards joined to the wrong rollouts, or a fine-tuning set
 * whose programs sit under another task's prompt all leave held-out pass@1 where it started.
 *
 * The reduced form evaluates fewer tasks and samples, so its noise is larger than the full
 * run's (a standard error of about 5 points): it asks for a clear gain over iteration 0 and over
 * the control, not the full run's bar.
 */
const MIN_GAIN = 0.1;
const MIN_GAIN_OVER_CONTROL = 0.08;

const queues = uniqueQueues('learning');
let workers: RunningWorkers | undefined;
let client: Client;
let closeClient: (() => Promise<void>) | undefined;
let models: LearningModels;

beforeAll(async () => {
  ensureTrainerPython();
  models = { policy: ensureSynthPolicy({ seed: 1 }).modelDir };
  workers = await startWorkers(['workflow', 'cpu', 'gpu'], testWorkerOptions(queues, { blobDir: tempDir('learning-blobs') }), { workflowBundle: await workflowBundle(), log: createLogger('test', 'warn') });
  ({ client, close: closeClient } = await testClient());
}, 900_000);

afterAll(async () => {
  workers?.shutdown();
  await workers?.done;
  await closeClient?.();
});

const best = (c: LearningCurve) => Math.max(...c.iterations);

async function learningAndControl(loop: LearningLoop): Promise<{ learning: LearningCurve; control: LearningCurve }> {
  const run = (control: boolean) => runLearningCampaign(client, loop, campaignId(`${loop}-learning${control ? '-control' : ''}`), { seed: 1, control, reduced: true, models, taskQueues: queues });
  return { learning: await run(false), control: await run(true) };
}

describe('learning proof (reduced)', () => {
  it('cRLHF: consensus rewards from a simulated crowd raise held-out pass@1; shuffled rewards do not', async () => {
    const { learning, control } = await learningAndControl('crlhf');
    expect(learning.status).toBe('completed');
    expect(control.status).toBe('completed');
    // the same starting policy, evaluated the same way
    expect(control.start).toBe(learning.start);
    const pts = (x: number) => `${(100 * x).toFixed(1)}%`;
    const curves = `learning ${[learning.start!, ...learning.iterations].map(pts).join(' -> ')}; control ${[control.start!, ...control.iterations].map(pts).join(' -> ')}`;
    expect(best(learning) - learning.start!, curves).toBeGreaterThanOrEqual(MIN_GAIN);
    expect(best(learning) - best(control), curves).toBeGreaterThanOrEqual(MIN_GAIN_OVER_CONTROL);
  }, 1_800_000);
});
