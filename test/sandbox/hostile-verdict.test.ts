import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS, type RunResult } from '../../activities/sandbox/types';
import { codeDataset } from '../../activities/datasets/registry';
import { SHORT_LIMITS, python } from './helpers/programs';

/**
 * Programs that try to make wrong answers pass. The tests run in the judge process; the
 * program's process only answers calls with plain values, so none of these may pass. Each
 * program below answers wrong (or not at all) and tries to make the verdict say otherwise.
 */
let runner: SandboxPoolRunner;

beforeAll(async () => {
  runner = createSandboxRunner({ size: 2 });
  await runner.warmUp();
});

afterAll(async () => {
  await runner.close();
});

async function runAll(cases: Array<[program: string, tests: string]>): Promise<RunResult[]> {
  return Promise.all(cases.map(([program, tests]) => runner.run(python(program, tests), SHORT_LIMITS)));
}

function expectNotPassed(results: RunResult[], cases: Array<[string, string]>, outcome?: string): void {
  results.forEach((r, i) => {
    const label = `${cases[i]![0]}\n--- tests:\n${cases[i]![1]}\n--- got: ${r.outcome} ${r.detail}`;
    expect(r.outcome, label).not.toBe('passed');
    expect(r.outcome, label).not.toBe('infra_error');
    if (outcome) expect(r.outcome, label).toBe(outcome);
  });
}

describe('the verdict is decided outside the program', () => {
  it('judges in the judge process: gold passes, a wrong answer fails, with the failing statement as evidence', async () => {
    const [ok, wrong] = await runAll([
      ['def add(a, b):\n    return a + b', 'assert add(2, 3) == 5\nassert add(-1, 1) == 0'],
      ['def add(a, b):\n    return a - b', 'assert add(2, 3) == 5'],
    ]);
    expect(ok!.outcome).toBe('passed');
    expect(ok!.verdict).toBe('judge');
    expect(wrong!.outcome).toBe('failed');
    expect(wrong!.verdict).toBe('judge');
    expect(wrong!.detail).toContain('assert add(2, 3) == 5');
  });

  it("uses the dataset prompt's helpers, not the program's: redefining HumanEval's poly or encode_cyclic does not pass", async () => {
    const tasks = codeDataset('humaneval').tasks();
    const task = (id: string) => tasks.find((t) => t.taskId === id)!;
    const [poly, cyclic] = [task('HumanEval/32'), task('HumanEval/38')];
    // Wrong answers, with a helper redefined so that the tests' checks would hold.
    const cheats = [
      [`import math\n\ndef poly(xs, x):\n    return 0.0\n\ndef find_zero(xs):\n    return 12345.0\n`, poly.tests],
      [`def encode_cyclic(s):\n    return s\n\ndef decode_cyclic(s):\n    return s\n`, cyclic.tests],
    ] as Array<[string, string]>;
    const results = await runAll(cheats);
    expectNotPassed(results, cheats, 'failed');
    for (const r of results) expect(r.verdict).toBe('judge');
    // The gold programs (prompt + canonical solution, helpers included) still pass.
    const gold = await runAll([poly, cyclic].map((t) => [t.canonical!, t.tests]));
    for (const r of gold) expect(r.outcome, r.detail).toBe('passed');
  });

  it('is not fooled by objects that claim to equal anything', async () => {
    const tests = 'assert answer() == 42\nassert answer() != 7';
    const cases: Array<[string, string]> = [
      ['class A:\n    def __eq__(self, o): return True\n    def __ne__(self, o): return False\n    __hash__ = object.__hash__\ndef answer():\n    return A()', tests],
      ['class I(int):\n    def __eq__(self, o): return True\n    def __ne__(self, o): return False\n    __hash__ = int.__hash__\ndef answer():\n    return I(0)', tests],
      ["class S(str):\n    def __eq__(self, o): return True\n    __hash__ = str.__hash__\ndef answer():\n    return S('no')", "assert answer() == 'yes'"],
      ['class L(list):\n    def __eq__(self, o): return True\ndef answer():\n    return L([0])', 'assert answer() == [1, 2]'],
      ['class F(float):\n    def __eq__(self, o): return True\n    __hash__ = float.__hash__\ndef answer():\n    return F(0.5)', 'import math\nassert math.isclose(answer(), 2.0)\nassert answer() == 2.0'],
      ['class D(dict):\n    def __eq__(self, o): return True\n    def items(self): return [("a", 1)]\ndef answer():\n    return D(b=2)', "assert answer() == {'a': 1}"],
      ['class B(int):\n    def __bool__(self): return True\ndef answer():\n    return B(0)', 'assert answer()'],
      ['class T(tuple):\n    def __iter__(self): return iter((1, 2))\n    def __eq__(self, o): return True\ndef answer():\n    return T((0,))', 'assert answer() == (1, 2)'],
    ];
    const results = await runAll(cases);
    expectNotPassed(results, cases);
    // The plain value the subclass holds is what is compared: a wrong one is a failed test.
    expect(results[1]!.outcome).toBe('failed');
    expect(results[2]!.outcome).toBe('failed');
    expect(results[0]!.outcome).toBe('runtime_error'); // an object of the program is not a value
  });

  it('is not fooled through the protocols of its own objects: membership, arithmetic with the expected value, truth, default equality', async () => {
    const cases: Array<[string, string]> = [
      // iterable, but claiming to contain anything: the judge iterates it and compares itself
      ['class C(list):\n    pass\nclass Bag:\n    def __iter__(self): return iter([1])\n    def __contains__(self, x): return True\ndef answer():\n    return Bag()', 'assert 42 in answer()'],
      ['def answer():\n    def gen():\n        yield 1\n    class G:\n        def __iter__(self): return self\n        def __next__(self): raise StopIteration\n        def __contains__(self, x): return True\n    return G()', 'assert 42 in answer()'],
      // arithmetic with the expected value would let it answer 0
      ['class Z:\n    def __sub__(self, o): return 0.0\n    def __rsub__(self, o): return 0.0\n    def __abs__(self): return 0.0\ndef answer():\n    return Z()', 'assert abs(answer() - 3.5) < 1e-9'],
      ['class Z:\n    def __sub__(self, o): return self\n    def __abs__(self): return 0.0\ndef answer():\n    return Z()', 'assert abs(answer() - 3.5) < 1e-9'],
      // truth and default equality are the object's own, never equal to a value of the tests
      ['class T:\n    def __bool__(self): return True\ndef answer():\n    return T()', 'assert answer() == True'],
      ['class T:\n    pass\ndef answer():\n    return T()', 'assert answer() == 42'],
      // an object that claims to equal anything, against another object of the program built from the expected values
      ['class P:\n    def __init__(self, *a): self.a = a\n    def __eq__(self, o): return True\n    __hash__ = object.__hash__\ndef answer():\n    return P(0)', 'assert answer() == 7'],
      // str of its object claims the expected text: only what str() of it returns is compared
      ['class S:\n    def __str__(self): return "no"\n    def __eq__(self, o): return True\ndef answer():\n    return S()', 'assert str(answer()) == "yes"'],
    ];
    const results = await runAll(cases);
    expectNotPassed(results, cases);
  });

  it('is not fooled by exceptions from __eq__, __repr__ or __del__, nor by SystemExit or BaseException subclasses', async () => {
    const tests = 'assert answer() == 42';
    const cases: Array<[string, string]> = [
      ['class X(int):\n    def __eq__(self, o): raise AssertionError("boom")\n    __hash__ = int.__hash__\ndef answer():\n    return X(1)', tests],
      ['class X(int):\n    def __repr__(self): raise SystemExit(0)\n    __str__ = __repr__\ndef answer():\n    return X(1)', tests],
      ['class X:\n    def __del__(self):\n        import os; os._exit(0)\ndef answer():\n    X()\n    return 1', tests],
      ['class Done(SystemExit): pass\ndef answer():\n    raise Done(0)', tests],
      ['class Done(BaseException): pass\ndef answer():\n    raise Done()', tests],
      ['def answer():\n    raise KeyboardInterrupt', tests],
      ['def answer():\n    raise AssertionError("tests passed")', tests],
      ['import sys\ndef answer():\n    sys.exit(0)', tests],
    ];
    const results = await runAll(cases);
    expectNotPassed(results, cases);
    expect(results[0]!.outcome).toBe('failed');
    expect(results[6]!.outcome).toBe('runtime_error'); // an AssertionError of the program is not a test failure
  });

  it('is not fooled by threads or signal handlers that end the process mid-tests', async () => {
    const cases: Array<[string, string]> = [
      [
        'import os, threading, time\nthreading.Thread(target=lambda: (time.sleep(0.05), os._exit(0)), daemon=True).start()\ndef answer():\n    time.sleep(1)\n    return 1',
        'assert answer() == 42',
      ],
      ['import os, signal, time\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\nsignal.setitimer(signal.ITIMER_REAL, 0.05)\ndef answer():\n    time.sleep(1)\n    return 1', 'assert answer() == 42'],
      ['import atexit, os\natexit.register(lambda: os._exit(0))\ndef answer():\n    raise SystemExit(0)', 'assert answer() == 42'],
    ];
    const results = await runAll(cases);
    expectNotPassed(results, cases, 'runtime_error');
    for (const r of results) expect(r.detail).toMatch(/before the tests completed/);
  });

  it('is not fooled by sys.settrace/setprofile, patched builtins or patched library functions the tests call', async () => {
    const cases: Array<[string, string]> = [
      ['import sys\nsys.settrace(lambda *a: None)\nsys.setprofile(lambda *a: None)\ndef answer():\n    return 41', 'assert answer() == 42'],
      ['import math\nmath.isclose = lambda *a, **k: True\ndef answer():\n    return 5.0', 'import math\nassert math.isclose(answer(), 1.0)'],
      // the tests take `math` from the program's globals: the judge imports its own
      ['import math\nmath.isclose = lambda *a, **k: True\ndef answer():\n    return 5.0', 'assert math.isclose(answer(), 1.0)'],
      ['import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.AssertionError = type("Nope", (Exception,), {})\ndef answer():\n    return 5.0', 'assert abs(answer() - 1.0) < 1e-9'],
      ['import os\n_w = os.write\nos.write = lambda fd, data: len(data)\ndef answer():\n    return 41', 'assert answer() == 42'],
      // a module of the program claiming a name whose import would run something in the judge
      ['import types\nmath = types.ModuleType("unittest.__main__")\ndef answer():\n    return 5.0', 'assert math.isclose(answer(), 1.0)'],
    ];
    const results = await runAll(cases);
    expectNotPassed(results, cases);
    expect(results.slice(0, 4).map((r) => r.outcome)).toEqual(['failed', 'failed', 'failed', 'failed']);
  });

  it('is not fooled by shadowed globals: a builtin the program redefines never sees the expected value', async () => {
    const cases: Array<[string, string]> = [
      ['def set(x):\n    return 0\ndef answer():\n    return [3]', 'assert set(answer()) == set([1, 2])'],
      ['def sorted(x):\n    return [1, 2]\ndef answer():\n    return [3]', 'assert sorted(answer()) == [1, 2]'],
      ['def len(x):\n    return 3\ndef answer():\n    return [1]', 'assert len(answer()) == 3'],
      ['def abs(x):\n    return 0\ndef answer():\n    return 9.0', 'assert abs(answer() - 1.0) < 1e-6'],
      ['def isinstance(a, b):\n    return True\ndef answer():\n    return "x"', 'assert isinstance(answer(), int)'],
    ];
    const results = await runAll(cases);
    expectNotPassed(results, cases, 'failed');
    // ...while a function under test that happens to be named like a builtin is the program's (MBPP 126).
    const [own] = await runAll([['def sum(a, b):\n    return a * b', 'assert sum(3, 4) == 12']]);
    expect(own!.outcome).toBe('passed');
  });

  it("cannot find the tests or the expected values: not in its memory, its frames, its files, nor the judge's", async () => {
    const marker = `feedloop-expected-${randomBytes(6).toString('hex')}`;
    const tests = `EXPECTED = ${JSON.stringify(marker)}\nassert answer() == EXPECTED`;
    const program = [
      'import gc, os, sys',
      `NEEDLE = "feedloop-expected-" + ${JSON.stringify(marker.slice('feedloop-expected-'.length))}[::-1][::-1]`,
      'found = []',
      'def scan_self():',
      '    f = sys._getframe()',
      '    while f is not None:',
      '        for v in list(f.f_globals.values()) + list(f.f_locals.values()):',
      '            if isinstance(v, str) and "feedloop-expected-" in v and v != NEEDLE and "NEEDLE" not in v:',
      "                found.append('frame')",
      '        f = f.f_back',
      '    for o in gc.get_objects():',
      '        if isinstance(o, str) and "assert answer()" in o:',
      "            found.append('gc')",
      'def scan_memory(pid):',
      '    try:',
      "        maps = open('/proc/%s/maps' % pid).read().splitlines()",
      "        mem = open('/proc/%s/mem' % pid, 'rb', 0)",
      '    except OSError:',
      '        return',
      '    needle = NEEDLE.encode()',
      '    for line in maps:',
      '        addr, perms = line.split()[:2]',
      "        if not perms.startswith('r'):",
      '            continue',
      "        lo, hi = (int(x, 16) for x in addr.split('-'))",
      '        if hi - lo > 1 << 28:',
      '            continue',
      '        try:',
      '            mem.seek(lo)',
      '            data = mem.read(hi - lo)',
      '        except (OSError, ValueError, OverflowError):',
      '            continue',
      '        if data.find(needle) >= 0:',
      "            found.append('memory of %s' % pid)",
      'def scan_files():',
      "    for root in ('/tmp', os.getcwd(), '/proc/self/cwd', '/dev/shm', '/var/tmp'):",
      '        for d, _, files in os.walk(root):',
      '            for name in files:',
      '                try:',
      "                    if NEEDLE.encode() in open(os.path.join(d, name), 'rb').read(1 << 20):",
      "                        found.append('file ' + name)",
      '                except OSError:',
      '                    pass',
      'def answer():',
      '    scan_self()',
      '    # every process it can see but itself (its own objects are scanned above; its own raw',
      '    # memory holds the needle this test gives it, which a real program would not know)',
      "    for pid in [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]:",
      '        scan_memory(pid)',
      '    scan_files()',
      "    print('FOUND' if found else 'NOT FOUND', sorted(set(found)), 'scanned', len(os.listdir('/proc')), flush=True)",
      '    return None',
    ].join('\n');
    const result = await runner.run(python(program, tests), { ...DEFAULT_LIMITS, cpuMs: 8000, wallMs: 15_000 });
    expect(result.stdout).toContain('NOT FOUND');
    expect(result.outcome).toBe('failed');
  });

  it('cannot forge answers on its channel: garbage, or frames of its own, are its runtime error', async () => {
    const frame = (o: object) => {
      const body = JSON.stringify(o);
      return `struct.pack('>I', ${body.length}) + ${JSON.stringify(body)}.encode()`;
    };
    const cases: Array<[string, string]> = [
      ["import os\nos.write(3, b'garbage' * 100)\ndef answer():\n    return 1", 'assert answer() == 42'],
      [`import os, struct\nos.write(3, ${frame({ op: 'return', value: 42 })})\ndef answer():\n    return 1`, 'assert answer() == 42'],
      ["import os, struct\ndef answer():\n    os.write(3, struct.pack('>I', 1 << 30))\n    return 1", 'assert answer() == 42'],
      ['import os\nfor fd in range(5):\n    os.close(fd)\ndef answer():\n    return 42', 'assert answer() == 42'],
      ["import os\nnull = os.open('/dev/null', os.O_RDWR)\nfor fd in range(5):\n    os.dup2(null, fd)\ndef answer():\n    return 42", 'assert answer() == 42'],
    ];
    const results = await runAll(cases);
    expectNotPassed(results, cases, 'runtime_error');
  });

  it('returns mutated arguments and program objects the tests build as the tests expect', async () => {
    const [mutates, objects, generator, functions] = await runAll([
      ['def push(xs):\n    xs.append(3)', 'xs = [1, 2]\npush(xs)\nassert xs == [1, 2, 3]'],
      [
        'class Node:\n    def __init__(self, v):\n        self.v, self.next = v, None\ndef length(n):\n    return 0 if n is None else 1 + length(n.next)',
        'head = Node(1)\nhead.next = Node(2)\nassert head.next.v == 2\nassert length(head) == 2',
      ],
      ['def evens(n):\n    for i in range(n):\n        if i % 2 == 0:\n            yield i', 'assert list(evens(5)) == [0, 2, 4]'],
      ['def double(x):\n    return 2 * x\ndef apply(f, x):\n    return f(x)', 'assert apply(double, 3) == 6'],
    ]);
    expect(mutates!.outcome).toBe('passed');
    expect(objects!.outcome).toBe('passed');
    expect(generator!.outcome).toBe('passed');
    expect(functions!.outcome).toBe('passed'); // a program function handed back to the program, by name
    for (const r of [mutates, objects, generator, functions]) expect(r!.verdict).toBe('judge');
  });

  it('falls back to an in-process check only where the tests themselves need it, and says so', async () => {
    const [fallback] = await runAll([['def apply(f, x):\n    return f(x)', 'assert apply(lambda v: v + 1, 1) == 2']]);
    expect(fallback!.outcome).toBe('passed');
    expect(fallback!.verdict).toBe('in-process');
    expect(fallback!.detail).toMatch(/checked in the program's process/);
  });
});
