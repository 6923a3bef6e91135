import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Outcome, ProgramSpec, RunResult, SandboxLimits, SandboxRunner } from './types';

/**
 * The baseline runner: one fresh `python3 -I -S` per program in a temporary directory, with a
 * scrubbed environment and a wall-clock limit, and NO isolation (same uid, network, no
 * rlimits). Python only. Kept as the reference the benchmark and the mutant tests compare the
 * sandbox (createSandboxRunner) with; never use it for generated code.
 */
const EXCERPT = 4000;

function excerpt(s: string): string {
  return s.length <= EXCERPT ? s : `${s.slice(0, EXCERPT / 2)}\n…[${s.length - EXCERPT} chars cut]…\n${s.slice(-EXCERPT / 2)}`;
}

/** Classifies a finished Python run from its exit status and the last exception line. */
export function classifyPython(exitCode: number | null, stderr: string, sentinelSeen: boolean): Outcome {
  if (exitCode === 0) return sentinelSeen ? 'passed' : 'runtime_error';
  const lastLine = stderr.trim().split('\n').at(-1) ?? '';
  if (/^(SyntaxError|IndentationError|TabError)\b/.test(lastLine)) return 'compile_error';
  if (/^AssertionError\b/.test(lastLine)) return 'failed';
  if (/^MemoryError\b/.test(lastLine)) return 'memory_limit';
  return 'runtime_error';
}

// Printed after the tests: a program that exits early (sys.exit(0)) never prints it.
const SENTINEL = '__FEEDLOOP_TESTS_DONE_7f3a__';

export function createSubprocessRunner(python = 'python3'): SandboxRunner {
  return {
    async run(spec: ProgramSpec, limits: SandboxLimits): Promise<RunResult> {
      if (spec.language !== 'python') throw new Error(`the subprocess runner runs Python only, not ${spec.language}`);
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'feedloop-run-'));
      const file = path.join(dir, 'main.py');
      await fs.writeFile(file, `${spec.program}\n\n${spec.tests}\n\nprint(${JSON.stringify(SENTINEL)})\n`);
      const started = process.hrtime.bigint();
      try {
        return await new Promise<RunResult>((resolve, reject) => {
          const child = spawn(python, ['-I', '-S', file], { cwd: dir, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' }, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          let timedOut = false;
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          const timer = setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, limits.wallMs);
          child.once('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
          child.once('close', (code, signal) => {
            clearTimeout(timer);
            const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
            const sentinelSeen = stdout.includes(SENTINEL);
            const outcome = timedOut ? 'timeout' : classifyPython(code, stderr, sentinelSeen);
            resolve({ outcome, durationMs, exitCode: code, signal, stdout: excerpt(stdout.replace(`${SENTINEL}\n`, '')), stderr: excerpt(stderr), limits });
          });
        });
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
    async close() {},
  };
}
