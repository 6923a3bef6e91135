import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { ProgramSpec, RunResult, SandboxLimits, SandboxRunner } from '../activities/sandbox/types';

/**
 * The floor of the sandbox's per-program cost: each program (Python, program + tests) run by a
 * fork from a warm Python parent, with no isolation, no limits and no judge (fork-floor.py).
 * One parent per slot; a run is one line out and one line back. Outcomes: passed (exit 0) or
 * failed. For the benchmark only.
 */
export function createForkFloorRunner(python: string, size: number): SandboxRunner {
  const script = path.join(__dirname, 'fork-floor.py');
  const slots = Array.from({ length: size }, () => {
    const child: ChildProcessWithoutNullStreams = spawn(python, ['-I', '-S', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = readline.createInterface({ input: child.stdout });
    const waiting: Array<(line: string) => void> = [];
    lines.on('line', (line) => waiting.shift()?.(line));
    return { child, waiting };
  });
  const idle = [...slots];
  const queue: Array<(slot: (typeof slots)[number]) => void> = [];
  const take = () => new Promise<(typeof slots)[number]>((resolve) => (idle.length ? resolve(idle.pop()!) : queue.push(resolve)));
  const give = (slot: (typeof slots)[number]) => (queue.length ? queue.shift()!(slot) : idle.push(slot));
  return {
    async run(spec: ProgramSpec, limits: SandboxLimits): Promise<RunResult> {
      const slot = await take();
      const started = performance.now();
      try {
        const line = await new Promise<string>((resolve) => {
          slot.waiting.push(resolve);
          slot.child.stdin.write(`${JSON.stringify({ program: spec.program, tests: spec.tests })}\n`);
        });
        const reply = JSON.parse(line) as { status: number; cpuMs: number };
        return { outcome: reply.status === 0 ? 'passed' : 'failed', durationMs: performance.now() - started, cpuMs: reply.cpuMs, stdout: '', stderr: '', limits };
      } finally {
        give(slot);
      }
    },
    async close(): Promise<void> {
      for (const slot of slots) slot.child.kill();
      await Promise.resolve();
    },
  };
}
