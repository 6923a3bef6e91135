import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir';
import { expectOneLineError, feedloop as feedloopCli } from '../helpers/cli';
import { EXEC_EXIT_CODES } from '../../cli/sandbox';

/** `feedloop sandbox exec|check --json`, run as a command the way an outside verifier does. */
const run = promisify(execFile);
const CLI = path.join(__dirname, 'fixtures', 'sandbox-cli.ts');
let dir: string;

async function feedloop(args: string[]): Promise<{ json: Record<string, unknown>; code: number }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], { maxBuffer: 16 << 20 });
    return { json: JSON.parse(stdout) as Record<string, unknown>, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; code?: number };
    return { json: JSON.parse(e.stdout ?? '{}') as Record<string, unknown>, code: e.code ?? -1 };
  }
}

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

beforeAll(() => {
  dir = tempDir('cli-test');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('feedloop sandbox exec', () => {
  it('prints one JSON object with the outcome, duration and output', async () => {
    const program = file('add.py', 'def add(a, b):\n    print("adding", a, b)\n    return a + b\n');
    const good = await feedloop(['sandbox', 'exec', '--language', 'python', '--program', program, '--tests', file('good.py', 'assert add(1, 2) == 3\n'), '--json']);
    expect(good.code).toBe(0);
    expect(good.json).toMatchObject({ outcome: 'passed', stdout: 'adding 1 2\n', stderr: '' });
    expect(typeof good.json.durationMs).toBe('number');
    const bad = await feedloop(['sandbox', 'exec', '--language', 'python', '--program', program, '--tests', file('bad.py', 'assert add(1, 2) == 4\n'), '--json']);
    expect(bad.json).toMatchObject({ outcome: 'failed' });
    expect(bad.code).toBe(EXEC_EXIT_CODES.failed);
    expect(bad.json.stderr).toContain('assert add(1, 2) == 4');
  });

  it('applies --timeout-ms and --memory-mb', async () => {
    const started = performance.now();
    const loop = await feedloop(['sandbox', 'exec', '--language', 'python', '--program', file('loop.py', 'while True:\n    pass\n'), '--tests', file('none.py', ''), '--timeout-ms', '500', '--json']);
    expect(loop.json).toMatchObject({ outcome: 'timeout', limits: { cpuMs: 500 } });
    expect(loop.code).toBe(5);
    expect(performance.now() - started).toBeLessThan(10_000);
    const hog = await feedloop(['sandbox', 'exec', '--language', 'python', '--program', file('hog.py', 'x = bytearray(300 * 2 ** 20)\n'), '--tests', file('none.py', ''), '--memory-mb', '200', '--json']);
    expect(hog.json).toMatchObject({ outcome: 'memory_limit', limits: { memoryMb: 200 } });
    expect(hog.code).toBe(5);
  });

  it('exits 0 only for passed: one documented code per class of outcome', async () => {
    expect(EXEC_EXIT_CODES).toEqual({ passed: 0, failed: 1, infra_error: 3, compile_error: 4, runtime_error: 4, timeout: 5, memory_limit: 5, output_limit: 5 });
    const crash = await feedloop(['sandbox', 'exec', '--language', 'python', '--program', file('crash.py', 'raise ValueError("no")\n'), '--tests', file('none.py', ''), '--json']);
    expect(crash.json).toMatchObject({ outcome: 'runtime_error' });
    expect(crash.code).toBe(4);
  });

  it('a missing --program or --tests file is one line naming the flag and the file, exit 2', async () => {
    const tests = file('t.py', 'assert True\n');
    for (const [args, pattern] of [
      [['--program', path.join(dir, 'missing.py'), '--tests', tests], /^feedloop: --program .*missing\.py: no such file$/],
      [['--program', tests, '--tests', path.join(dir, 'nope.py')], /^feedloop: --tests .*nope\.py: no such file$/],
    ] as const) {
      const r = await feedloopCli(['sandbox', 'exec', '--language', 'python', ...args]);
      expect(r.code).toBe(2);
      expectOneLineError(r, pattern);
    }
  });

  it('runs Java joined the MBXP way', async () => {
    const program = file('Solution.java', 'class Solution {\n    static int twice(int x) { return 2 * x; }\n}\n');
    const tests = file('Test.java', 'class Main {\n    public static void main(String[] a) throws Exception {\n        if (Solution.twice(21) != 42) throw new Exception("wrong");\n    }\n}\n');
    const result = await feedloop(['sandbox', 'exec', '--language', 'java', '--program', program, '--tests', tests, '--json']);
    expect(result.json).toMatchObject({ outcome: 'passed', language: 'java' });
  });
});

describe('feedloop sandbox check', () => {
  it('summarizes a dataset: counts per outcome, programs/s and the ids that did not pass', async () => {
    const { json, code } = await feedloop(['sandbox', 'check', '--dataset', 'humaneval', '--json']);
    expect(code).toBe(0);
    expect(json).toMatchObject({ dataset: 'humaneval', total: 164, outcomes: { passed: 164 }, notPassedIds: [], unexpected: [] });
    expect(json.programsPerSecond).toBeGreaterThan(10);
  });
});
