import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS, type RunResult, type SandboxLimits } from '../../activities/sandbox/types';
import { compareOutput, encodeStdioTests, type StdioCase, type StdioChecker } from '../../common/stdio-tests';
import { SHORT_LIMITS } from './helpers/programs';

let runner: SandboxPoolRunner;

beforeAll(async () => {
  runner = createSandboxRunner({ size: 2 });
  await runner.warmUp();
});

afterAll(async () => {
  await runner.close();
});

function run(language: 'python' | 'java', program: string, cases: StdioCase[], checker?: StdioChecker, limits: SandboxLimits = SHORT_LIMITS): Promise<RunResult> {
  return runner.run({ language, program, tests: encodeStdioTests({ cases, ...(checker ? { checker } : {}) }) }, limits);
}

const SUM_CASES: StdioCase[] = [
  { input: '1 2\n', output: '3\n' },
  { input: '10 -4\n', output: '6' },
  { input: '0 0\n', output: '0\n' },
];

describe('the checker', () => {
  it('compares whitespace-separated tokens, with an optional float tolerance', () => {
    expect(compareOutput('1 2\n3\n', '1   2 3   \n\n')).toBeNull();
    expect(compareOutput('1 2', '1 2 3')).toEqual({ token: 2, expected: undefined, got: '3' });
    expect(compareOutput('0.3333333', '0.33333334')).not.toBeNull();
    expect(compareOutput('0.3333333', '0.33333334', { floatTolerance: 1e-6 })).toBeNull();
    expect(compareOutput('1000000', '1000001', { floatTolerance: 1e-5 })).toBeNull(); // relative
    expect(compareOutput('yes', 'YES', { floatTolerance: 1e-5 })).not.toBeNull();
  });
});

describe('stdin/stdout tests, Python', () => {
  it('runs each case with its input on stdin and compares outside: pass, wrong answer with the first differing case', async () => {
    const ok = await run('python', 'a, b = map(int, input().split())\nprint(a + b)', SUM_CASES);
    expect(ok.outcome, ok.detail).toBe('passed');
    expect(ok.cases?.results.map((r) => r.outcome)).toEqual(['passed', 'passed', 'passed']);
    const wrong = await run('python', 'import sys\na, b = map(int, sys.stdin.read().split())\nprint(a - b if a > 5 else a + b)', SUM_CASES);
    expect(wrong.outcome).toBe('failed');
    expect(wrong.failedCase).toMatchObject({ index: 1, input: '10 -4\n', expected: '6', got: '14\n' });
    expect(wrong.detail).toContain('case 2 of 3');
    expect(wrong.cases?.results.map((r) => r.outcome)).toEqual(['passed', 'failed']);
  });

  it('an early exit 0 with no output is failed; sys.exit(0) after the answer passes', async () => {
    const early = await run('python', 'import sys\nsys.exit(0)', SUM_CASES);
    expect(early.outcome).toBe('failed');
    const os_exit = await run('python', 'import os\nos._exit(0)', SUM_CASES);
    expect(os_exit.outcome).toBe('failed');
    const clean = await run('python', 'import sys\na, b = map(int, input().split())\nprint(a + b)\nsys.exit(0)', SUM_CASES);
    expect(clean.outcome, clean.detail).toBe('passed');
  });

  it('runtime_error, timeout, memory_limit, output_limit and compile_error per case, with the limits recorded', async () => {
    const [crash, loop, memory, flood, syntax, exitCode] = await Promise.all([
      run('python', 'a, b = map(int, input().split())\nif a == 10:\n    raise ValueError("boom")\nprint(a + b)', SUM_CASES),
      run('python', 'while True:\n    pass', SUM_CASES),
      run('python', 'x = bytearray(1 << 30)\nprint(len(x))', SUM_CASES),
      run('python', 'import sys\nwhile True:\n    sys.stdout.write("y" * 65536)', SUM_CASES),
      run('python', 'print(', SUM_CASES),
      run('python', 'import sys\nprint(3)\nsys.exit(3)', SUM_CASES),
    ]);
    expect(crash!.outcome).toBe('runtime_error');
    expect(crash!.detail).toContain('case 2 of 3');
    expect(crash!.stderr).toContain('ValueError');
    expect(loop!.outcome).toBe('timeout');
    expect(loop!.limits.cpuMs).toBe(SHORT_LIMITS.cpuMs);
    expect(memory!.outcome).toBe('memory_limit');
    expect(flood!.outcome).toBe('output_limit');
    expect(syntax!.outcome).toBe('compile_error');
    expect(exitCode!.outcome).toBe('runtime_error');
  });

  it('never has the expected outputs where the program can read them', async () => {
    const marker = `expected-${randomBytes(6).toString('hex')}`;
    const program = [
      'import os',
      `needle = ${JSON.stringify(marker.slice(0, 9))} + ${JSON.stringify(marker.slice(9))}`,
      'found = []',
      "for root in ('/tmp', os.getcwd(), '/dev/shm'):",
      '    for d, _, files in os.walk(root):',
      '        for name in files:',
      '            try:',
      "                if needle.encode() in open(os.path.join(d, name), 'rb').read(1 << 20):",
      '                    found.append(name)',
      '            except OSError:',
      '                pass',
      "maps = open('/proc/self/maps').read().splitlines()",
      "mem = open('/proc/self/mem', 'rb', 0)",
      'hits = 0',
      'for line in maps:',
      '    addr, perms = line.split()[:2]',
      "    lo, hi = (int(x, 16) for x in addr.split('-'))",
      "    if perms.startswith('r') and hi - lo < 1 << 28:",
      '        try:',
      '            mem.seek(lo)',
      '            hits += mem.read(hi - lo).count(needle.encode())',
      '        except (OSError, ValueError, OverflowError):',
      '            pass',
      // its own `needle` string is in its memory once (or twice); the expected output would add more
      "print('FOUND' if found else 'NOT FOUND', hits <= 2)",
    ].join('\n');
    const result = await run('python', program, [{ input: '', output: `${marker} ${marker} ${marker}` }], undefined, { ...DEFAULT_LIMITS, cpuMs: 8000, wallMs: 15_000 });
    expect(result.outcome).toBe('failed');
    expect(result.failedCase?.got).toBe('NOT FOUND True\n');
  });

  it('batches the cases: 60 cases of one program in a few requests, quickly', async () => {
    const cases = Array.from({ length: 60 }, (_, i) => ({ input: `${i} ${i}\n`, output: `${2 * i}\n` }));
    const started = performance.now();
    const result = await run('python', 'a, b = map(int, input().split())\nprint(a + b)', cases);
    const ms = performance.now() - started;
    expect(result.outcome, result.detail).toBe('passed');
    expect(result.cases?.results).toHaveLength(60);
    expect(ms).toBeLessThan(15_000);
  });

  it('applies the float tolerance of the checker', async () => {
    const cases = [{ input: '1 3\n', output: '0.333333333\n' }];
    const exact = await run('python', 'a, b = map(int, input().split())\nprint("%.5f" % (a / b))', cases);
    expect(exact.outcome).toBe('failed');
    const tolerant = await run('python', 'a, b = map(int, input().split())\nprint("%.5f" % (a / b))', cases, { floatTolerance: 1e-4 });
    expect(tolerant.outcome).toBe('passed');
  });
});

describe('stdin/stdout tests, Java', () => {
  const JAVA_LIMITS: SandboxLimits = { ...DEFAULT_LIMITS, cpuMs: 5000, wallMs: 20_000, memoryMb: 512 };
  const sum = [
    'import java.util.Scanner;',
    'public class Main {',
    '    public static void main(String[] args) {',
    '        Scanner in = new Scanner(System.in);',
    '        long a = in.nextLong(), b = in.nextLong();',
    '        System.out.println(a + b);',
    '    }',
    '}',
  ].join('\n');

  it('compiles once, runs each case (its public class), compares outside; wrong answers, exceptions and compile errors are their outcomes', async () => {
    const [ok, wrong, thrown, broken, solution] = await Promise.all([
      run('java', sum, SUM_CASES, undefined, JAVA_LIMITS),
      run('java', sum.replace('a + b', 'a * b'), SUM_CASES, undefined, JAVA_LIMITS),
      run('java', sum.replace('System.out.println(a + b);', 'if (a == 10) throw new IllegalStateException("boom"); System.out.println(a + b);'), SUM_CASES, undefined, JAVA_LIMITS),
      run('java', 'public class Main { public static void main(String[] a) { int x = } }', SUM_CASES, undefined, JAVA_LIMITS),
      run('java', sum.replace('public class Main', 'public final class Solution'), SUM_CASES, undefined, JAVA_LIMITS),
    ]);
    expect(ok!.outcome, `${ok!.detail} ${ok!.stderr}`).toBe('passed');
    expect(ok!.cases?.results).toHaveLength(3);
    expect(wrong!.outcome).toBe('failed');
    expect(wrong!.failedCase?.index).toBe(0);
    expect(thrown!.outcome).toBe('runtime_error');
    expect(thrown!.stderr).toContain('IllegalStateException');
    expect(broken!.outcome).toBe('compile_error');
    expect(solution!.outcome, solution!.detail).toBe('passed'); // its public class, whatever its name
  }, 120_000);
});
