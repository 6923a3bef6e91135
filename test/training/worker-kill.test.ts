import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import type { trainOnce } from './workflows';
import { readLedger, simulatedJob, stepsByProcess, tempDir } from './helpers';

const ROOT = path.join(__dirname, '..', '..');

/** Starts training-activity worker process `name`; resolves once it polls. */
async function startActivityWorker(address: string, taskQueue: string, name: string): Promise<ChildProcess> {
  // node --import tsx (not the tsx wrapper), so SIGKILL hits the worker itself.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'activity-worker.ts'), address, taskQueue, name], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('worker ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`activity worker ${name} exited ${code}: ${stderr}`)));
  });
  return child;
}

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('command trainer under a real Temporal server', () => {
  it('a SIGKILLed worker mid-job: the retry on a new worker resumes from the last checkpoint and the steps add up', async () => {
    const address = inject('temporalAddress');
    const stamp = Date.now();
    const workflowQueue = `training-wf-${stamp}`;
    const activityQueue = `training-gpu-${stamp}`;
    const job = simulatedJob(tempDir('train-worker-kill'), { totalSteps: 60, checkpointEvery: 10, stepMs: 40 });
    const connection = await NativeConnection.connect({ address });
    const clientConnection = await Connection.connect({ address });
    const client = new Client({ connection: clientConnection });
    const workflowWorker = await Worker.create({ connection, taskQueue: workflowQueue, workflowsPath: path.join(__dirname, 'workflows.ts') });
    const workers: ChildProcess[] = [];
    try {
      workers.push(await startActivityWorker(address, activityQueue, 'a'));
      const workflowId = `train-kill-${stamp}`;
      const result = await workflowWorker.runUntil(async () => {
        const handle = await client.workflow.start<typeof trainOnce>('trainOnce', { taskQueue: workflowQueue, workflowId, args: [job, activityQueue] });
        await waitUntil('checkpoint-20', () => fs.existsSync(path.join(job.outputDir, 'checkpoint-20', 'feedloop-checkpoint.json')));
        await new Promise((r) => setTimeout(r, 300)); // let a heartbeat report it
        workers[0]!.kill('SIGKILL');
        workers.push(await startActivityWorker(address, activityQueue, 'b'));
        return handle.result();
      });

      expect(result).toMatchObject({ jobId: job.jobId, steps: 60, attempt: 2, taskQueue: `${activityQueue}-b` });
      const resumedStep = Number(/checkpoint-(\d+)$/.exec(result.resumedFrom ?? '')?.[1]);
      expect(resumedStep).toBeGreaterThanOrEqual(20);
      const runs = stepsByProcess(readLedger(job.outputDir));
      expect(runs).toHaveLength(2);
      const [killed, resumed] = runs as [number[], number[]];
      // The killed run trained 1..k; the resumed one trained exactly (last complete checkpoint + 1)..60.
      expect(killed).toEqual(Array.from({ length: killed.length }, (_, i) => i + 1));
      expect(resumed).toEqual(Array.from({ length: 60 - resumedStep }, (_, i) => resumedStep + 1 + i));
      expect(resumedStep).toBeLessThanOrEqual(killed.length);
      // Steps retrained: only those after the checkpoint the killed run had completed.
      expect(killed.length - resumedStep).toBeLessThan(10);

      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const started = history.events?.find((e) => e.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes;
      expect(started?.attempt).toBe(2);
      expect(started?.lastFailure?.timeoutFailureInfo).toBeTruthy();
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await clientConnection.close();
      await connection.close();
    }
  });
});
