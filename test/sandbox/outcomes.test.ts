import { describe, expect, it } from 'vitest';
import { useSandboxRunner } from '../helpers/sandbox';
import { DEFAULT_LIMITS, resolveLimits } from '../../activities/sandbox/types';
import { python } from './helpers/programs';

/** Every run yields exactly one typed outcome, with evidence; runs do not leak into each other. */
const runner = useSandboxRunner();

describe('Python outcomes and evidence', () => {
  it('passes a correct program, recording CPU and wall time and the limits', async () => {
    const result = await runner.run(python('def add(a, b):\n    return a + b', 'assert add(1, 2) == 3\nassert add(-1, 1) == 0'), DEFAULT_LIMITS);
    expect(result).toMatchObject({ outcome: 'passed', verdict: 'judge', limits: DEFAULT_LIMITS });
    // The judge decides; the program's process then normally ends by itself (exit 0), and one
    // that is slow to (a loaded machine) is stopped after a short grace: evidence, not verdict.
    expect([JSON.stringify({ exitCode: 0, signal: null }), JSON.stringify({ exitCode: null, signal: 'SIGKILL' })]).toContain(JSON.stringify({ exitCode: result.exitCode, signal: result.signal }));
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.cpuMs).toBeGreaterThan(0);
  });

  it('reports the failing assertion of the tests as failed, with the statement and traceback', async () => {
    const result = await runner.run(python('def add(a, b):\n    return a - b', 'assert add(0, 0) == 0\nassert add(1, 2) == 3'), DEFAULT_LIMITS);
    expect(result.outcome).toBe('failed');
    expect(result.detail).toBe('assertion failed at tests.py line 2: assert add(1, 2) == 3');
    expect(result.stderr).toContain('assert add(1, 2) == 3');
    expect(result.stderr).toContain('AssertionError');
  });

  it('counts an assertion inside a check() function of the tests (HumanEval style) as failed', async () => {
    const tests = 'def check(candidate):\n    assert candidate(2) == 4\n\ncheck(double)';
    const result = await runner.run(python('def double(x):\n    return x + 3', tests), DEFAULT_LIMITS);
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('assert candidate(2) == 4');
  });

  it('tells runtime errors from test failures, an assert in the program included', async () => {
    const raised = await runner.run(python('def f(x):\n    return x[10]', 'assert f([1]) == 1'), DEFAULT_LIMITS);
    expect(raised.outcome).toBe('runtime_error');
    expect(raised.detail).toMatch(/IndexError: list index out of range at program.py line 2/);
    const programAssert = await runner.run(python('def f(x):\n    assert x > 0\n    return x', 'assert f(-1) == -1'), DEFAULT_LIMITS);
    expect(programAssert.outcome).toBe('runtime_error');
    const recursion = await runner.run(python('def f(n):\n    return f(n + 1)', 'assert f(0) == 0'), DEFAULT_LIMITS);
    expect(recursion.outcome).toBe('runtime_error');
    expect(recursion.detail).toContain('RecursionError');
  });

  it('reports a syntax error in the tests as compile_error too', async () => {
    const result = await runner.run(python('def f():\n    return 1', 'assert f( == 1'), DEFAULT_LIMITS);
    expect(result.outcome).toBe('compile_error');
    expect(result.detail).toMatch(/the tests do not compile/);
  });

  it('runs each program with fresh globals and modules, whatever the previous one did', async () => {
    const polluter = ['import math, sys, builtins', 'math.pi = 3', 'builtins.len = lambda x: 0', "sys.modules['feedloop_leak'] = object()", 'LEAK = 1'].join('\n');
    // Two at once: both servers serve a polluter before the checks run on them.
    const polluted = await Promise.all([1, 2].map(() => runner.run(python(polluter), DEFAULT_LIMITS)));
    expect(polluted.map((r) => r.outcome)).toEqual(['passed', 'passed']);
    const checker = ['import math, sys', 'assert math.pi > 3.14', "assert len('ab') == 2", "assert 'feedloop_leak' not in sys.modules", "assert 'LEAK' not in globals()"].join('\n');
    const results = await Promise.all([1, 2, 3, 4].map(() => runner.run(python('', checker), DEFAULT_LIMITS)));
    expect(results.map((r) => r.outcome)).toEqual(['passed', 'passed', 'passed', 'passed']);
  });

  it('gives each program its own random state', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => runner.run(python('import random\nprint(random.random())'), DEFAULT_LIMITS)));
    expect(new Set(results.map((r) => r.stdout)).size).toBe(4);
  });

  it('applies the limits of the item and records them', async () => {
    const limits = resolveLimits({ cpuMs: 1500, memoryMb: 300 });
    const result = await runner.run(python('import resource\nprint(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20, resource.getrlimit(resource.RLIMIT_CPU)[0])'), limits);
    expect(result.outcome).toBe('passed');
    expect(result.stdout.trim()).toBe('300 3');
    expect(result.limits).toEqual(limits);
  });

  it('rejects nonsense limits instead of running without them', () => {
    expect(() => resolveLimits({ cpuMs: -1 })).toThrow(RangeError);
    expect(resolveLimits({ ...{ batchSize: 100 }, wallMs: 5000 } as never)).toEqual({ ...DEFAULT_LIMITS, wallMs: 5000 });
  });

  it('keeps only bounded excerpts of large output, head and tail', async () => {
    const result = await runner.run(python("for i in range(20000):\n    print('line', i)"), DEFAULT_LIMITS);
    expect(result.outcome).toBe('passed');
    expect(result.stdout).toContain('line 0\n');
    expect(result.stdout).toContain('line 19999');
    expect(result.stdout).toMatch(/bytes omitted/);
    expect(result.stdout.length).toBeLessThan(9000);
    expect(result.stdoutBytes).toBeGreaterThan(200_000);
  });
});
