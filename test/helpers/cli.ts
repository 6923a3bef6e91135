import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';

const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

/** Runs the `feedloop` CLI as a user does (a process of its own), with extra environment, in `cwd` (default: the project root). */
export function feedloop(args: string[], env: Record<string, string> = {}, cwd = PROJECT_ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(PROJECT_ROOT, 'cli', 'main.ts'), ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A user error as the CLI must report it: non-zero, one line on stderr matching `pattern`, no stack trace. */
export function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}
