import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS } from '../../activities/sandbox/types';
import { CPU_LIMITS, java } from './helpers/programs';

/** Java programs run the MBXP way (program + test in Main.java), in the same confinement. */
let runner: SandboxPoolRunner;

/** An MBXP-style test harness calling Solution.answer(). */
function mbxpTest(expected: string): string {
  return [
    'class Main {',
    '    public static void main(String[] args) throws Exception {',
    '        int x0 = Solution.answer();',
    `        if (x0 != ${expected}) {`,
    '            throw new java.lang.Exception("Exception -- test case 0 did not pass. x0 = " + x0);',
    '        }',
    '    }',
    '}',
  ].join('\n');
}

function solution(body: string, imports = ''): string {
  return `${imports}\nclass Solution {\n    public static int answer() {\n        ${body}\n    }\n}\n`;
}

beforeAll(async () => {
  runner = createSandboxRunner({ size: 2 });
  await runner.warmUp();
});

afterAll(async () => {
  await runner.close();
});

describe('Java programs', () => {
  it('passes a correct program and fails a wrong one with the test exception as evidence', async () => {
    const [passed, failed] = await Promise.all([
      runner.run(java(solution('return 42;'), mbxpTest('42')), DEFAULT_LIMITS),
      runner.run(java(solution('return 41;'), mbxpTest('42')), DEFAULT_LIMITS),
    ]);
    expect(passed.outcome).toBe('passed');
    expect(passed.compileMs).toBeGreaterThan(0);
    expect(failed.outcome).toBe('failed');
    expect(failed.detail).toContain('test case 0 did not pass. x0 = 41');
    expect(failed.stderr).toContain('at Main.main');
  });

  it('reports a javac failure as compile_error with the diagnostics', async () => {
    const result = await runner.run(java(solution('return "forty-two";'), mbxpTest('42')), DEFAULT_LIMITS);
    expect(result.outcome).toBe('compile_error');
    expect(result.stderr).toMatch(/incompatible types: String cannot be converted to int/);
  });

  it('stops an infinite loop at the CPU-time limit', async () => {
    const result = await runner.run(java(solution('long i = 0; while (true) { i++; }'), mbxpTest('42')), CPU_LIMITS);
    expect(result.outcome).toBe('timeout');
    expect(result.detail).toMatch(/CPU time limit/);
  });

  it('never passes System.exit(0) or Runtime.halt(0) before the tests ran', async () => {
    const results = await Promise.all(
      ['System.exit(0); return 42;', 'Runtime.getRuntime().halt(0); return 42;'].map((body) => runner.run(java(solution(body), mbxpTest('42')), DEFAULT_LIMITS)),
    );
    for (const result of results) {
      expect(result.outcome).toBe('runtime_error');
      expect(result.exitCode).toBe(0);
      expect(result.detail).toMatch(/exited with status 0 before the tests completed/);
    }
  });

  it('tells a runtime exception and an exhausted heap from a test failure', async () => {
    const [npe, oom] = await Promise.all([
      runner.run(java(solution('String s = null; return s.length();'), mbxpTest('42')), DEFAULT_LIMITS),
      runner.run(java(solution('java.util.List<long[]> l = new java.util.ArrayList<>(); while (true) l.add(new long[1 << 20]);'), mbxpTest('42')), {
        ...DEFAULT_LIMITS,
        memoryMb: 128,
      }),
    ]);
    expect(npe.outcome).toBe('runtime_error');
    expect(npe.detail).toContain('NullPointerException');
    expect(oom.outcome).toBe('memory_limit');
  });

  it('has no network and cannot write outside its working dir', async () => {
    let connections = 0;
    const listener = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as net.AddressInfo;
    const escape = path.join(PROJECT_ROOT, `feedloop-java-escape-${randomBytes(4).toString('hex')}`);
    try {
      const body = [
        'int blocked = 0;',
        `try { new java.net.Socket("127.0.0.1", ${port}).close(); } catch (java.io.IOException e) { blocked++; }`,
        `try { new java.io.FileOutputStream(${JSON.stringify(escape)}).close(); } catch (java.io.IOException e) { blocked++; }`,
        'return blocked;',
      ].join('\n        ');
      const result = await runner.run(java(solution(body), mbxpTest('2')), DEFAULT_LIMITS);
      expect(result.outcome).toBe('passed');
      expect(connections).toBe(0);
      expect(fs.existsSync(escape)).toBe(false);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('compiles each program on its own: a class one program declares is not visible to the next', async () => {
    // One server, so both programs go through the same warm compile server (and its reused javac context).
    const single = createSandboxRunner({ size: 1 });
    try {
      const probe = 'class FeedloopLeakProbe { static int value() { return 7; } }\n';
      const uses = solution('return FeedloopLeakProbe.value();');
      expect((await single.run(java(probe + uses, mbxpTest('7')), DEFAULT_LIMITS)).outcome).toBe('passed');
      expect((await single.compileJava(probe + uses, DEFAULT_LIMITS)).outcome).toBe('compiled');
      for (let i = 0; i < 2; i++) {
        const run = await single.run(java(uses, mbxpTest('7')), DEFAULT_LIMITS);
        expect(run.outcome).toBe('compile_error');
        expect(run.stderr).toMatch(/cannot find symbol/);
        const compiled = await single.compileJava(uses, DEFAULT_LIMITS);
        expect(compiled.outcome).toBe('compile_error');
        expect(compiled.items[0]).toMatchObject({ kind: 'ERROR', code: 'compiler.err.cant.resolve.location' });
      }
    } finally {
      await single.close();
    }
  });
  it('never passes halts, exits from shutdown hooks, static initialisers or threads, nor a forged report; records the verdict as in-process', async () => {
    const cases = [
      solution('Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("hook"))); System.exit(0); return 42;'),
      'class Solution {\n    static { if (true) throw new RuntimeException("static"); }\n    public static int answer() { return 42; }\n}\n',
      'class Solution {\n    static { Runtime.getRuntime().halt(0); }\n    public static int answer() { return 42; }\n}\n',
      solution('new Thread(() -> System.exit(0)).start(); try { Thread.sleep(2000); } catch (InterruptedException e) {} return 41;'),
      solution('try (java.io.FileOutputStream f = new java.io.FileOutputStream("/proc/self/fd/3")) { f.write("{\\"status\\":\\"passed\\"}\\n".getBytes()); } catch (java.io.IOException e) {} Runtime.getRuntime().halt(0); return 42;'),
    ];
    const results = await Promise.all(cases.map((program) => runner.run(java(program, mbxpTest('42')), DEFAULT_LIMITS)));
    for (const [i, r] of results.entries()) {
      expect(r.outcome, `${cases[i]}: ${r.detail}`).toBe('runtime_error');
      expect(r.verdict).toBe('in-process');
    }
    // A thread that outlives main cannot change a verdict already given: the launcher halts the JVM.
    const outlives = await runner.run(java(solution('Thread t = new Thread(() -> { try { Thread.sleep(500); } catch (InterruptedException e) {} System.exit(3); }); t.start(); return 42;'), mbxpTest('42')), DEFAULT_LIMITS);
    expect(outlives.outcome).toBe('passed');
    expect(outlives.verdict).toBe('in-process');
  });
});
