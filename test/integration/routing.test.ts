import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import { startWorkers, type RunningWorkers } from '../../workers/run-workers';
import { createLogger } from '../../infra/logger';
import { ilfIds } from '../../loops/ilf/types';
import { activityPlacements, type HistoryEvent } from '../helpers/history';
import { testClient, testWorkerOptions, uniqueQueues, workflowBundle } from '../helpers/temporal';
import { campaignId, exampleConfig } from '../ilf/helpers';
import { FakeOpenAIServer } from '../models/fake-openai-server';
import { evaluationWorkflow } from '../../workflows/evaluation';
import { policyBackendSchema } from '../../common/campaign-schema';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/**
 * Routing, read back from the recorded histories: GPU activities run only on GPU queues and
 * GPU workers, and the evaluation of a freshly trained checkpoint runs on the host that
 * trained it (its worker-specific queue), with two GPU hosts competing for work.
 */
const queues = uniqueQueues('route');
const hosts: RunningWorkers[] = [];
let client: Client;
let close: () => Promise<void>;
const GPU_ACTIVITIES = new Set(['generateSamples', 'ilfFineTune']);

beforeAll(async () => {
  const log = createLogger('test', 'warn');
  const bundle = await workflowBundle();
  hosts.push(await startWorkers(['workflow', 'cpu'], testWorkerOptions(queues), { workflowBundle: bundle, log }));
  for (const hostId of ['gpu-a', 'gpu-b']) hosts.push(await startWorkers(['gpu'], testWorkerOptions(queues, { hostId }), { log }));
  ({ client, close } = await testClient());
});
afterAll(async () => {
  for (const h of hosts) h.shutdown();
  await Promise.all(hosts.map((h) => h.done));
  await close?.();
});

async function events(workflowId: string): Promise<HistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

describe('task queue routing', () => {
  it('sends GPU work only to GPU workers, and evaluates each checkpoint on the host that trained it', async () => {
    const id = campaignId('route');
    const config = exampleConfig('ilf-dry-run.yaml', queues, { dataset: { maxTrainTasks: 12, maxTestTasks: 6 }, sampling: { train: { n: 1 }, eval: { n: 2, ks: [1, 2] } }, iterations: 2 });
    const result = await client.workflow.execute(ilfCampaignWorkflow, { workflowId: id, taskQueue: queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');

    for (let k = 1; k <= 2; k++) {
      const iteration = await events(ilfIds.iterationWorkflow(id, k));
      const evaluation = await events(ilfIds.evaluation(id, k));
      for (const p of [...activityPlacements(iteration), ...activityPlacements(evaluation)]) {
        if (GPU_ACTIVITIES.has(p.type)) {
          expect(p.taskQueue.startsWith(queues.gpu), `${p.type} on ${p.taskQueue}`).toBe(true);
          expect(p.startedBy).toMatch(/@gpu-[ab]\/gpu$/);
        } else {
          expect(p.taskQueue).toBe(queues.cpu);
          expect(p.startedBy).toMatch(/\/cpu$/);
        }
      }
      // The training activity names its host's queue; the evaluation's generation ran there.
      const training = activityPlacements(iteration).find((p) => p.type === 'ilfFineTune')!;
      const trainerHost = /@(gpu-[ab])\/gpu$/.exec(training.startedBy)![1];
      const completed = iteration.find((e) => e.activityTaskCompletedEventAttributes && e.activityTaskCompletedEventAttributes.scheduledEventId?.toString() === training.scheduledEventId);
      const out = defaultPayloadConverter.fromPayload<{ workerTaskQueue: string }>(completed!.activityTaskCompletedEventAttributes!.result!.payloads![0]!);
      expect(out.workerTaskQueue).toBe(`${queues.gpu}@${trainerHost}`);
      const generation = activityPlacements(evaluation).filter((p) => p.type === 'generateSamples');
      expect(generation.length).toBeGreaterThan(0);
      for (const g of generation) {
        expect(g.taskQueue).toBe(`${queues.gpu}@${trainerHost}`);
        expect(g.startedBy).toMatch(new RegExp(`@${trainerHost}/gpu$`));
      }
    }
  });

  it('samples a remote (OpenAI-compatible) policy from CPU workers, and keeps its API key out of the history', async () => {
    const key = 'sk-test-routing-0123456789';
    process.env.FEEDLOOP_TEST_POLICY_KEY = key;
    const server = await new FakeOpenAIServer({ apiKey: key }).start();
    try {
      const workflowId = `eval-openai-${campaignId('r')}`;
      const summary = await client.workflow.execute(evaluationWorkflow, {
        workflowId,
        taskQueue: queues.workflow,
        args: [
          {
            dataset: 'mbpp',
            split: 'test',
            maxTasks: 3,
            policy: policyBackendSchema.parse({ backend: 'openai', baseUrl: server.baseURL, model: 'tiny-base', api: 'completions', apiKeyEnv: 'FEEDLOOP_TEST_POLICY_KEY' }),
            samplesPerTask: 2,
            ks: [1, 2],
            taskQueues: queues,
          },
        ],
      });
      expect(summary.samples).toBe(6);
      expect(summary.scored).toBe(6);
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const generation = activityPlacements(history.events ?? []).filter((p) => p.type === 'generateSamples');
      expect(generation).toHaveLength(1);
      expect(generation[0]!.taskQueue).toBe(queues.cpu);
      expect(generation[0]!.startedBy).toMatch(/\/cpu$/);
      expect(historyToJSON(history)).not.toContain(key);
      expect(server.count('POST', /\/v1\/completions/)).toBeGreaterThanOrEqual(3);
    } finally {
      await server.stop();
      delete process.env.FEEDLOOP_TEST_POLICY_KEY;
    }
  });
});
