import { describe, expect, it } from 'vitest';
import type { SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { useSandboxRunner } from '../helpers/sandbox';
import { DEFAULT_LIMITS, type RunResult } from '../../activities/sandbox/types';
import { SHORT_LIMITS, java, python } from './helpers/programs';

/**
 * A program cannot make its own failure an infra_error (which the batch would retry forever),
 * nor disturb the programs running beside it. The rule (activities/sandbox/README.md):
 * infra_error only when the trusted side failed before any program code ran or failed on its
 * own; whatever the program does to its process, its channel, its work dir or its processes is
 * the program's outcome, with the evidence.
 */
const runner = useSandboxRunner();

const healthy = python('def add(a, b):\n    return a + b', 'assert add(2, 3) == 5');

/** Runs each hostile program beside a healthy one (the pool's other server): the neighbour must pass. */
async function besideHealthy(specs: Array<Parameters<SandboxPoolRunner['run']>[0]>, limits = SHORT_LIMITS): Promise<RunResult[]> {
  const before = runner.stats();
  const results: RunResult[] = [];
  for (const spec of specs) {
    const [hostile, neighbour] = await Promise.all([runner.run(spec, limits), runner.run(healthy, DEFAULT_LIMITS)]);
    expect(neighbour.outcome, spec.program).toBe('passed');
    results.push(hostile);
  }
  expect(runner.stats().serverFailures).toBe(before.serverFailures);
  expect((await runner.run(healthy, DEFAULT_LIMITS)).outcome).toBe('passed');
  return results;
}

function expectProgramOutcome(results: RunResult[], allowed: string[]): void {
  for (const r of results) {
    expect(r.outcome, r.detail).not.toBe('infra_error');
    expect(r.outcome, r.detail).not.toBe('passed');
    expect(allowed, `${r.outcome}: ${r.detail}`).toContain(r.outcome);
    expect(r.detail).toBeTruthy();
  }
}

describe('a program cannot make itself an infra_error', () => {
  it('closing or dup2-ing every fd, the judge channel included', async () => {
    const results = await besideHealthy([
      python('import os\nos.closerange(0, 1024)\ndef add(a, b):\n    return a + b', 'assert add(2, 3) == 5'),
      python("import os\nn = os.open('/dev/null', os.O_RDWR)\nfor fd in range(64):\n    try:\n        os.dup2(n, fd)\n    except OSError:\n        pass\ndef add(a, b):\n    return a + b", 'assert add(2, 3) == 5'),
      python('import os\ndef add(a, b):\n    os.closerange(0, 1024)\n    return a + b', 'assert add(2, 3) == 5'),
    ]);
    expectProgramOutcome(results, ['runtime_error']);
    for (const r of results) expect(r.detail).toMatch(/before the tests completed/);
  });

  it('killing or stopping its supervisor, the judge, or everything it may signal', async () => {
    const results = await besideHealthy([
      python('import os, signal\nos.kill(-1, signal.SIGKILL)\ndef f():\n    return 1', 'assert f() == 2'),
      python('import os, signal\nfor pid in range(1, 200):\n    try:\n        os.kill(pid, signal.SIGSTOP)\n    except OSError:\n        pass\nos.kill(-1, signal.SIGSTOP)', 'assert add(1, 1) == 2'),
      python('import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ndef f():\n    return 1', 'assert f() == 1'),
    ]);
    expectProgramOutcome(results, ['failed', 'runtime_error', 'timeout']);
    expect(results[0]!.outcome).toBe('failed');
    expect(results[2]!.detail).toMatch(/PermissionError/);
  });

  it('exhausting processes, file descriptors or the work dir space', async () => {
    const results = await besideHealthy([
      python('import os, time\nwhile True:\n    try:\n        if os.fork() == 0:\n            time.sleep(60)\n    except OSError:\n        break\ndef f():\n    return 1', 'assert f() == 2'),
      python("fds = []\ntry:\n    while True:\n        fds.append(open('/dev/null'))\nexcept OSError:\n    pass\ndef f():\n    return 1", 'assert f() == 2'),
      python("i = 0\nwhile True:\n    with open('fill%d' % i, 'wb') as f:\n        f.write(b'x' * (15 << 20))\n    i += 1", 'assert True'),
    ], { ...SHORT_LIMITS, wallMs: 10_000 });
    expectProgramOutcome(results, ['failed', 'output_limit', 'memory_limit', 'runtime_error']);
    expect(results[0]!.outcome).toBe('failed');
    expect(results[1]!.outcome).toBe('failed');
    // the work dir is a tmpfs: its pages count toward the run's memory (cgroup), else its size
    expect(['output_limit', 'memory_limit'], results[2]!.detail).toContain(results[2]!.outcome);
  });

  it('garbage or a flood on the judge channel', async () => {
    const results = await besideHealthy([
      python("import os\nos.write(3, os.urandom(4096))\ndef f():\n    return 1", 'assert f() == 1'),
      python("import os\ndef f():\n    while True:\n        os.write(3, b'\\x00' * 65536)", 'assert f() == 1'),
    ]);
    expectProgramOutcome(results, ['runtime_error', 'timeout']);
  });

  it('a very deep directory tree in its work dir: clean-up copes, the outcome is the program’s', async () => {
    const deep = "import os\nfor i in range(5000):\n    os.mkdir('d')\n    os.chdir('d')\nopen('leaf', 'w').write('x')\ndef f():\n    return 1";
    const [result] = await besideHealthy([python(deep, 'assert f() == 2')], { ...SHORT_LIMITS, wallMs: 10_000 });
    expect(result!.outcome).toBe('failed');
    const passing = await runner.run(python(deep, 'assert f() == 1'), { ...SHORT_LIMITS, wallMs: 10_000 });
    expect(passing.outcome).toBe('passed');
  });

  it('Java: killing everything it may signal, halting in a static initialiser', async () => {
    const test = 'class Main {\n    public static void main(String[] args) throws Exception {\n        if (Solution.answer() != 42) throw new java.lang.Exception("wrong");\n    }\n}';
    const results = await besideHealthy(
      [
        java('class Solution {\n    static int answer() {\n        ProcessHandle.allProcesses().forEach(ProcessHandle::destroyForcibly);\n        return 42;\n    }\n}', test),
        java('class Solution {\n    static { Runtime.getRuntime().halt(0); }\n    static int answer() { return 42; }\n}', test),
      ],
      DEFAULT_LIMITS,
    );
    for (const r of results) expect(r.outcome, r.detail).not.toBe('infra_error');
    expect(results[1]!.outcome).toBe('runtime_error');
  });
});
