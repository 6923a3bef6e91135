import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';

/** The real worker entry points, as a deployment runs them. */
function startWorker(entry: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', entry), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function waitForOutput(read: () => string, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${read()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('worker entry points', () => {
  it('start, log structured lines, and stop gracefully on SIGTERM', async () => {
    const w = startWorker('combined.ts', ['--gpus', '1', '--host-id', 'test-host', '--cpu-queue', 'proc-cpu', '--gpu-queue', 'proc-gpu', '--workflow-queue', 'proc-wf'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: inject('databaseUrl'),
    });
    await waitForOutput(w.output, /"msg":"workers started"/);
    const started = JSON.parse(w.output().split('\n').find((l) => l.includes('"workers started"'))!);
    expect(started.queues).toEqual(['proc-wf', 'proc-cpu', 'proc-gpu', 'proc-gpu@test-host']);
    // The database URL (a secret) never reaches the logs.
    expect(w.output()).not.toContain(inject('databaseUrl'));
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.output()).toMatch(/"msg":"workers stopped"/);
  });

  it('refuses a bad flag with a message naming it, before connecting anywhere', async () => {
    const w = startWorker('gpu.ts', ['--gpus', 'zero'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(await w.exited).toBe(2);
    expect(w.output()).toMatch(/--gpus \/ FEEDLOOP_GPUS: Invalid input/);
  });
});
