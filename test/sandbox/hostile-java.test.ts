import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS } from '../../activities/sandbox/types';
import { CPU_LIMITS, java } from './helpers/programs';

/**
 * Java programs against MBXP-style tests, in the same confinement. Where the tests call the
 * program's static methods on plain values, the Java judge runs them in its own JVM (verdict
 * 'judge'); otherwise they run the MBXP way, program + tests in one Main.java ('in-process').
 */
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
      expect(result.detail).toMatch(/before the tests completed/);
      expect(result.verdict).toBe('judge');
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
  it('never passes halts, exits from shutdown hooks, static initialisers or threads, nor a forged report; the judge decides', async () => {
    const cases = [
      solution('Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("hook"))); System.exit(0); return 42;'),
      'class Solution {\n    static { if (true) throw new RuntimeException("static"); }\n    public static int answer() { return 42; }\n}\n',
      'class Solution {\n    static { Runtime.getRuntime().halt(0); }\n    public static int answer() { return 42; }\n}\n',
      solution('new Thread(() -> System.exit(0)).start(); try { Thread.sleep(2000); } catch (InterruptedException e) {} return 41;'),
      solution('try (java.io.FileOutputStream f = new java.io.FileOutputStream("/proc/self/fd/3")) { f.write("{\\"status\\":\\"passed\\"}\\n".getBytes()); } catch (java.io.IOException e) {} Runtime.getRuntime().halt(0); return 42;'),
      // a frame of its own on the judge's channel: an answer claiming a list of 2^31-1 items
      solution('try { java.io.FileOutputStream f = new java.io.FileOutputStream("/proc/self/fd/3"); f.write(new byte[] {0, 0, 0, 7, \'R\', \'l\', \'a\', 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}); f.flush(); } catch (java.io.IOException e) {} return 42;'),
    ];
    const results = await Promise.all(cases.map((program) => runner.run(java(program, mbxpTest('42')), DEFAULT_LIMITS)));
    for (const [i, r] of results.entries()) {
      expect(r.outcome, `${cases[i]}: ${r.detail}`).toBe('runtime_error');
      expect(r.verdict).toBe('judge');
    }
    // A thread that outlives the call cannot change a verdict already given.
    const outlives = await runner.run(java(solution('Thread t = new Thread(() -> { try { Thread.sleep(500); } catch (InterruptedException e) {} System.exit(3); }); t.start(); return 42;'), mbxpTest('42')), DEFAULT_LIMITS);
    expect(outlives.outcome).toBe('passed');
    expect(outlives.verdict).toBe('judge');
  });

  it('compares with the judge\'s equals: a returned List subclass whose equals says true arrives as its plain content', async () => {
    const liar = [
      'import java.util.*;',
      'class Solution {',
      '    public static List<Integer> answer() {',
      '        return new ArrayList<Integer>() {',
      '            @Override public boolean equals(Object o) { return true; }',
      '            @Override public int hashCode() { return Arrays.asList(1, 2).hashCode(); }',
      '            @Override public String toString() { return "[1, 2]"; }',
      '        };',
      '    }',
      '}',
    ].join('\n');
    const tests = [
      'class Main {',
      '    public static boolean compare(Object a, Object b) { return a == null ? b == null : a.equals(b); }',
      '    public static void main(String[] args) throws Exception {',
      '        List<Integer> x0 = Solution.answer();',
      '        if (!(compare(x0, Arrays.asList(1, 2)))) throw new java.lang.Exception("Exception -- test case 0 did not pass. x0 = " + x0);',
      '    }',
      '}',
    ].join('\n');
    const honest = liar.replace(/new ArrayList<Integer>\(\) \{[\s\S]*?\n {8}\};/, 'new ArrayList<>(Arrays.asList(1, 2));');
    const [lied, told] = await Promise.all([runner.run(java(liar, tests), DEFAULT_LIMITS), runner.run(java(honest, tests), DEFAULT_LIMITS)]);
    expect(lied.outcome, lied.detail).toBe('failed');
    expect(lied.detail).toContain('x0 = []');
    expect(lied.verdict).toBe('judge');
    expect(told.outcome, told.detail).toBe('passed');
  });

  it('builds the expected values with the JDK, not with a program class that shadows one (its own Arrays)', async () => {
    const program = [
      'import java.util.*;',
      'class Arrays {',
      '    @SafeVarargs static <T> List<T> asList(T... items) { return new ArrayList<>(); }',
      '}',
      'class Solution {',
      '    public static List<Integer> answer() { return new ArrayList<>(); }',
      '}',
    ].join('\n');
    const tests = [
      'class Main {',
      '    public static boolean compare(Object a, Object b) { return a == null ? b == null : a.equals(b); }',
      '    public static void main(String[] args) throws Exception {',
      '        List<Integer> x0 = Solution.answer();',
      '        List<Integer> v0 = Arrays.asList(1, 2);',
      '        if (!(compare(x0, v0))) throw new java.lang.Exception("Exception -- test case 0 did not pass. x0 = " + x0);',
      '    }',
      '}',
    ].join('\n');
    const result = await runner.run(java(program, tests), DEFAULT_LIMITS);
    expect(result.outcome, result.detail).toBe('failed');
    expect(result.verdict).toBe('judge');
  });

  it('cannot find the tests nor the expected values: not in its memory (/proc/self/mem), not on any file it can read', async () => {
    // The expected value is a marker the program looks for everywhere it can read; it answers
    // right only if it finds it.
    const marker = 700000 + Number.parseInt(randomBytes(2).toString('hex'), 16);
    const search = [
      'import java.io.*;',
      'import java.nio.charset.StandardCharsets;',
      'import java.nio.file.*;',
      'class Solution {',
      // XOR-ed, so that the program's own memory and files never hold the text it looks for
      `    static final byte[] NEEDLE = ${JSON.stringify(Buffer.from(Buffer.from('did not pass').map((b) => b ^ 0x5a)).toString('latin1'))}.getBytes(StandardCharsets.ISO_8859_1);`,
      '    static int found = 0;',
      '    static void scan(byte[] b, int n) { outer: for (int i = 0; i + NEEDLE.length <= n; i++) { for (int j = 0; j < NEEDLE.length; j++) if ((b[i + j] ^ 0x5a) != NEEDLE[j]) continue outer; found++; return; } }',
      '    public static int answer() {',
      '        try (BufferedReader maps = new BufferedReader(new FileReader("/proc/self/maps")); RandomAccessFile mem = new RandomAccessFile("/proc/self/mem", "r")) {',
      '            for (String line = maps.readLine(); line != null; line = maps.readLine()) {',
      '                String[] f = line.split(" ");',
      '                if (!f[1].startsWith("r")) continue;',
      '                String[] range = f[0].split("-");',
      '                long from = Long.parseUnsignedLong(range[0], 16), to = Long.parseUnsignedLong(range[1], 16);',
      '                byte[] buf = new byte[1 << 20];',
      '                for (long at = from; at < to; at += buf.length) {',
      '                    int n = (int) Math.min(buf.length, to - at);',
      '                    try { mem.seek(at); mem.readFully(buf, 0, n); scan(buf, n); } catch (IOException e) { break; }',
      '                }',
      '            }',
      '        } catch (IOException e) { System.out.println("no mem: " + e); }',
      '        try { Files.walk(Paths.get("/")).filter(p -> !p.startsWith("/proc") && !p.startsWith("/usr") && !p.startsWith("/sys")).forEach(p -> {',
      '            try { if (Files.isRegularFile(p) && Files.size(p) < (8 << 20)) { byte[] b = Files.readAllBytes(p); scan(b, b.length); if (p.getFileName().toString().equals("Main.class")) found++; } } catch (IOException | UncheckedIOException e) {}',
      '        }); } catch (IOException | UncheckedIOException e) {}',
      '        if (Solution.class.getClassLoader().getResource("Main.class") != null) found++;',
      '        System.out.println("found " + found);',
      `        return found > 0 ? ${marker} : 0;`,
      '    }',
      '}',
    ].join('\n');
    // The same search where the tests read a field of the program (not stubbed): MBXP's single
    // JVM, whose Main.class the program finds. It shows the search works.
    const inProcessTests = mbxpTest(String(marker)).replace('Solution.answer();', 'Solution.answer(); int seen = Solution.found;');
    const limits = { ...DEFAULT_LIMITS, cpuMs: 20_000, wallMs: 40_000 };
    const [result, inProcess] = await Promise.all([runner.run(java(search, mbxpTest(String(marker))), limits), runner.run(java(search, inProcessTests), limits)]);
    expect(result.outcome, result.detail).toBe('failed');
    expect(result.stdout).toContain('found 0');
    expect(result.verdict).toBe('judge');
    expect(inProcess.verdict).toBe('in-process');
    expect(inProcess.stdout).not.toContain('found 0');
    expect(inProcess.outcome).toBe('passed');
  });

  it('cannot create a user namespace (unshare -U through ProcessBuilder), while the JVM runs its threads', async () => {
    const body = [
      'try {',
      '            Process p = new ProcessBuilder("unshare", "-U", "-r", "id", "-u").redirectErrorStream(true).start();',
      '            System.out.print(new String(p.getInputStream().readAllBytes()));',
      '            int code = p.waitFor();',
      '            Thread t = new Thread(() -> System.out.println("thread ran")); t.start(); t.join();',
      '            return code;',
      '        } catch (Exception e) { System.out.println(e); return -1; }',
    ].join('\n');
    const result = await runner.run(java(solution(body), mbxpTest('1')), DEFAULT_LIMITS);
    expect(result.outcome, result.detail).toBe('passed');
    expect(result.stdout).toContain('unshare failed: Operation not permitted');
    expect(result.stdout).toContain('thread ran');
  });

  it('keeps the in-process path, recorded as such, where the tests use more than plain static calls', async () => {
    const program = 'class Counter {\n    int n;\n    int next() { return ++n; }\n}\n';
    const tests = [
      'class Main {',
      '    public static void main(String[] args) throws Exception {',
      '        Counter c = new Counter(); c.next();',
      '        if (c.next() != 2) throw new java.lang.Exception("Exception -- test case 0 did not pass.");',
      '    }',
      '}',
    ].join('\n');
    const result = await runner.run(java(program, tests), DEFAULT_LIMITS);
    expect(result.outcome, result.detail).toBe('passed');
    expect(result.verdict).toBe('in-process');
  });
});
