import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTrainingActivities, type TrainingHeartbeat } from '../../activities/training';
import { CheckpointStore, PUBLISHED_MARKER, publishedProblem } from '../../activities/training/checkpoint-store';
import { ModelBackendCache } from '../../activities/models/index';
import { activityEnv, readLedger, rejectionOf, simulatedJob, stepsByProcess, tempDir } from './helpers';

/**
 * Host caches in front of the shared store: a trainer writes in its host's cache and publishes
 * each complete checkpoint and the final model to the store; another host resumes from the
 * store's copy and loads the model into its own cache.
 */
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function hosts(root: string) {
  const shared = path.join(root, 'shared');
  const a = new CheckpointStore(shared, path.join(root, 'cache-a'), 'host-a');
  const b = new CheckpointStore(shared, path.join(root, 'cache-b'), 'host-b');
  return { shared, a, b };
}

describe('checkpoint store', () => {
  it('publishes atomically, verifies by the marker, and pulls into another host cache', async () => {
    const root = tempDir('ckpt-store');
    try {
      const { shared, a, b } = hosts(root);
      const local = a.localPath(path.join(shared, 'c1', 'model'));
      fs.mkdirSync(path.join(local, 'onnx'), { recursive: true });
      fs.writeFileSync(path.join(local, 'weights.bin'), Buffer.alloc(1000, 7));
      fs.writeFileSync(path.join(local, 'onnx', 'model.onnx'), 'onnx');
      await a.publish(local, path.join(shared, 'c1', 'model'));
      expect(publishedProblem(path.join(shared, 'c1', 'model'))).toBeNull();
      expect(publishedProblem(local)).toBeNull();
      expect(fs.readdirSync(path.join(shared, 'c1'))).toEqual(['model']); // no temporary left

      // host b has no copy: it pulls the published directory, and a path inside it maps to its cache
      const pulled = await b.localize(path.join(shared, 'c1', 'model', 'onnx'));
      expect(pulled).toEqual({ path: path.join(root, 'cache-b', 'c1', 'model', 'onnx'), pulled: true });
      expect(fs.readFileSync(path.join(root, 'cache-b', 'c1', 'model', 'weights.bin'))).toHaveLength(1000);
      expect(await b.localize(path.join(shared, 'c1', 'model'))).toMatchObject({ pulled: false });
      // host a reads its own copy
      expect(await a.localize(path.join(shared, 'c1', 'model'))).toEqual({ path: local, pulled: false });
      // paths outside the store, or never published, are read where they are
      expect(await b.localize('/elsewhere/base-model')).toEqual({ path: '/elsewhere/base-model', pulled: false });

      // a truncated cache copy is not trusted: it is pulled again
      fs.truncateSync(path.join(root, 'cache-b', 'c1', 'model', 'weights.bin'), 10);
      expect(publishedProblem(path.join(root, 'cache-b', 'c1', 'model'))).toContain('weights.bin has 10 bytes');
      expect(await b.localize(path.join(shared, 'c1', 'model'))).toMatchObject({ pulled: true });
      expect(fs.statSync(path.join(root, 'cache-b', 'c1', 'model', 'weights.bin')).size).toBe(1000);
      // a damaged store copy is refused with the reason, never loaded
      fs.rmSync(path.join(shared, 'c1', 'model', 'onnx', 'model.onnx'));
      fs.rmSync(path.join(root, 'cache-b', 'c1'), { recursive: true });
      await expect(b.localize(path.join(shared, 'c1', 'model'))).rejects.toThrow(/onnx\/model.onnx is missing/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a job trains in host a cache, crashes, and resumes on host b from the published checkpoint', async () => {
    const root = tempDir('ckpt-resume');
    try {
      const { shared, a, b } = hosts(root);
      const job = { ...simulatedJob(root, { simulate: { crashAtStep: 25 } }), outputDir: path.join(shared, 'c1', 'sft') };
      const onA = createTrainingActivities({ workerTaskQueue: 'gpu@host-a', host: 'host-a', heartbeatIntervalMs: 100, store: a });
      const onB = createTrainingActivities({ workerTaskQueue: 'gpu@host-b', host: 'host-b', heartbeatIntervalMs: 100, store: b });
      const first = activityEnv();
      await rejectionOf(first.run(onA.runTrainingJob, job));
      const details = first.heartbeats[first.heartbeats.length - 1] as TrainingHeartbeat;
      // the heartbeat names the durable copy, so another host can resume from it
      expect(details.checkpoint).toEqual({ path: path.join(shared, 'c1', 'sft', 'checkpoint-20'), step: 20 });
      expect(publishedProblem(path.join(shared, 'c1', 'sft', 'checkpoint-20'))).toBeNull();

      fs.rmSync(path.join(root, 'cache-a'), { recursive: true }); // host a is gone, with its disk
      const result = await activityEnv({ attempt: 2, heartbeatDetails: details }).run(onB.runTrainingJob, job);
      expect(result).toMatchObject({ steps: 40, attempt: 2, host: 'host-b', resumedFrom: path.join(shared, 'c1', 'sft', 'checkpoint-20') });
      // pulled into host b's cache, where its trainer resumed from it
      const spec = JSON.parse(fs.readFileSync(path.join(b.localPath(job.outputDir), 'job-spec.json'), 'utf8')) as Record<string, unknown>;
      expect(spec).toMatchObject({ resumeFromCheckpoint: path.join(root, 'cache-b', 'c1', 'sft', 'checkpoint-20'), outputDir: b.localPath(job.outputDir) });
      expect(result.modelPath).toBe(path.join(shared, 'c1', 'sft', 'final'));
      expect(publishedProblem(result.modelPath)).toBeNull();
      expect(fs.existsSync(path.join(result.modelPath, PUBLISHED_MARKER))).toBe(true);
      // host b trained only the steps after the durable checkpoint, in its own cache
      expect(stepsByProcess(readLedger(b.localPath(job.outputDir)))).toEqual([range(21, 40)]);
      // the loss curve and the result live in the durable home
      expect(fs.existsSync(path.join(shared, 'c1', 'sft', 'loss-curve.jsonl'))).toBe(true);
      expect(fs.existsSync(path.join(shared, 'c1', 'sft', 'feedloop-result.json'))).toBe(true);

      // a third host loading the model (a simulated policy names it) pulls it into its cache
      const c = new CheckpointStore(shared, path.join(root, 'cache-c'), 'host-c');
      const models = new ModelBackendCache(process.env, c);
      const policy = { backend: 'simulated' as const, role: 'program' as const, model: result.modelPath, seed: 1, quality: { initial: 0.5, ceiling: 0.9, halfwayExamples: 10 }, trained: { steps: 40, examples: 2 } };
      const out = await models.get(policy).generate({ prompt: 'p', n: 1, temperature: 0.8, topP: 0.95, maxTokens: 64, seed: 1, taskId: '11', sampleIndexStart: 0 });
      expect(out.samples).toHaveLength(1);
      expect(publishedProblem(c.localPath(result.modelPath))).toBeNull();
      await models.closeAll();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
