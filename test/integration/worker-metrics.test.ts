import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { evaluationWorkflow } from '../../workflows/evaluation';
import { PROJECT_ROOT } from '../../infra/paths';
import { freePort } from '../../infra/processes';
import { testClient, uniqueQueues } from '../helpers/temporal';

/**
 * A worker's Prometheus endpoint (--metrics-address): the SDK's own metrics and feedloop's
 * counters, after a real evaluation ran through the real worker entry point.
 */
describe('worker metrics', () => {
  it('serves the SDK metrics and feedloop counts of programs by outcome, activities and queue backlog', async () => {
    const queues = uniqueQueues('metrics');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', 'combined.ts'), '--gpus', '1', '--host-id', 'metrics-host', '--workflow-queue', queues.workflow, '--cpu-queue', queues.cpu, '--gpu-queue', queues.gpu, '--metrics-address', `127.0.0.1:${port}`],
      { cwd: PROJECT_ROOT, env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const { client, close } = await testClient();
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('"workers started"')) {
        if (Date.now() > deadline) throw new Error(`worker did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const summary = await client.workflow.execute(evaluationWorkflow, {
        args: [{ dataset: 'humaneval', split: 'test', maxTasks: 4, policy: { backend: 'replay', source: 'gold' }, samplesPerTask: 1, ks: [1], batchSize: 10, taskQueues: queues }],
        taskQueue: queues.workflow,
        workflowId: `metrics-${queues.cpu}`,
      });
      expect(summary.outcomes).toEqual({ passed: 4 });
      // the SDK exports on its own schedule: poll until our counters show up
      let text = '';
      const until = Date.now() + 30_000;
      while (!/^feedloop_programs(_total)?\{[^}]*outcome="passed"[^}]*\} 4$/m.test(text) && Date.now() < until) {
        text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(text).toMatch(/^feedloop_programs(_total)?\{[^}]*outcome="passed"[^}]*\} 4$/m);
      expect(text).toMatch(/^feedloop_activities(_total)?\{[^}]*activity_type="runTestsBatch"[^}]*status="completed"/m);
      expect(text).toMatch(/^feedloop_task_queue_backlog\{/m);
      expect(text).toMatch(/^temporal_activity_execution_latency/m);
      expect(text).not.toContain(inject('databaseUrl'));
    } finally {
      await close();
      child.kill('SIGTERM');
      await exited;
    }
  });
});
