import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSplits, loadTaskFile, splitIds, validateTaskFile } from '../../activities/datasets/task-file';
import { decodeStdioTests } from '../../common/stdio-tests';
import { tempDir } from '../helpers/temp-dir';

/** `feedloop dataset check FILE --json` and the task-file format, run as an outside verifier does. */
const run = promisify(execFile);
const CLI = path.join(__dirname, 'fixtures', 'sandbox-cli.ts');
let dir: string;

async function feedloop(args: string[]): Promise<{ json: Record<string, unknown>; code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], { maxBuffer: 16 << 20 });
    return { json: JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>, code: 0, stdout };
  } catch (err) {
    const e = err as { stdout?: string; code?: number };
    const last = (e.stdout ?? '').trim().split('\n').at(-1) || '{}';
    return { json: JSON.parse(last) as Record<string, unknown>, code: e.code ?? -1, stdout: e.stdout ?? '' };
  }
}

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

const ASSERT_ROWS = [
  { id: 'add', prompt: 'Add two numbers.', language: 'python', reference: 'def add(a, b):\n    return a + b\n', tests: 'assert add(1, 2) == 3\nassert add(-1, 1) == 0', entryPoint: 'add', tags: ['easy'] },
  {
    id: 'rev',
    prompt: 'Reverse a list.',
    language: 'python',
    reference: 'def rev(xs):\n    return xs[::-1]\n',
    tests: 'def check(candidate):\n    assert candidate([1, 2]) == [2, 1]\n    assert candidate([]) == []',
    entryPoint: 'rev',
    limits: { cpuMs: 2000, memoryMb: 256, wallMs: 5000 },
  },
  { id: 'broken', prompt: 'Square.', language: 'python', reference: 'def sq(x):\n    return x + x\n', tests: 'assert sq(3) == 9', entryPoint: 'sq' },
  { id: 'noref', prompt: 'No reference here.', language: 'python', tests: 'assert f() == 1', entryPoint: 'f' },
];

const STDIO_ROWS = [
  { id: 'sum', prompt: 'Read two integers, print their sum.', language: 'python', reference: 'a, b = map(int, input().split())\nprint(a + b)\n', cases: [{ input: '1 2\n', output: '3\n' }, { input: '5 5', output: '10' }] },
  {
    id: 'div',
    prompt: 'Read a and b, print a / b.',
    language: 'python',
    reference: 'a, b = map(int, input().split())\nprint(a / b)\n',
    cases: [{ input: '1 3\n', output: '0.3333333\n' }],
    checker: { floatTolerance: 1e-6 },
  },
  {
    id: 'jsum',
    prompt: 'Read two integers, print their sum (Java).',
    language: 'java',
    reference: 'import java.util.*;\npublic class Main {\n  public static void main(String[] a) {\n    Scanner s = new Scanner(System.in);\n    System.out.println(s.nextLong() + s.nextLong());\n  }\n}\n',
    cases: [{ input: '1 2\n', output: '3\n' }, { input: '40 2\n', output: '42\n' }],
    limits: { cpuMs: 5000, wallMs: 20000, memoryMb: 512 },
  },
];

beforeAll(() => {
  dir = tempDir('dataset-file-test');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the task file', () => {
  it('loads assert tests (a check function gets called with the entry point) and stdin/stdout cases', () => {
    const tasks = loadTaskFile(file('mixed.jsonl', jsonl([...ASSERT_ROWS, ...STDIO_ROWS]))).tasks;
    expect(tasks.map((t) => t.taskId)).toEqual(['add', 'rev', 'broken', 'noref', 'sum', 'div', 'jsum']);
    expect(tasks[1]!.tests).toContain('check(rev)');
    expect(tasks[1]!.limits).toEqual({ cpuMs: 2000, memoryMb: 256, wallMs: 5000 });
    expect(decodeStdioTests(tasks[5]!.tests)).toEqual({ cases: STDIO_ROWS[1]!.cases, checker: { floatTolerance: 1e-6 } });
    expect(tasks[3]!.reference).toBeUndefined();
  });

  it('names every bad row by its line and field, JSONL and JSON alike', () => {
    const lines = [
      JSON.stringify(ASSERT_ROWS[0]),
      JSON.stringify({ ...ASSERT_ROWS[1], extra: 1 }),
      JSON.stringify({ id: 'x', prompt: 'p', tests: 't', entryPoint: 'f' }),
      '',
      JSON.stringify({ id: 'y', prompt: 'p', language: 'python', tests: 't', entryPoint: 'f', cases: [{ input: '', output: '' }] }),
      '{not json',
      JSON.stringify({ ...ASSERT_ROWS[0] }),
      JSON.stringify({ id: 'z', prompt: 'p', language: 'java', cases: [{ input: 1, output: '' }], limits: { cpuMs: -1, gpus: 2 }, checker: { floatTolerance: 'x' } }),
    ];
    const { errors } = validateTaskFile(file('bad.jsonl', lines.join('\n')));
    const named = errors.map((e) => `${e.line}:${e.field}`);
    expect(named).toEqual(expect.arrayContaining(['2:extra', '3:language', '5:cases', '6:(json)', '7:id', '8:cases[0]', '8:limits.cpuMs', '8:limits.gpus', '8:checker.floatTolerance']));
    expect(named.some((n) => n.startsWith('1:') || n.startsWith('4:'))).toBe(false);
    for (const e of errors) expect(e.message).not.toContain('\n');

    const json = `[\n  ${JSON.stringify(ASSERT_ROWS[0])},\n  {\n    "id": "q",\n    "prompt": "p",\n    "language": "cobol",\n    "cases": [{"input": "", "output": "1"}]\n  }\n]\n`;
    const arrayErrors = validateTaskFile(file('bad.json', json)).errors;
    expect(arrayErrors).toEqual([{ line: 3, field: 'language', message: 'must be "python" or "java"' }]);
  });

  it('splits by id lists (disjoint, known ids) or by shares of a hash of the id (disjoint, stable)', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `task-${i}`);
    expect(checkSplits({ train: ['task-1', 'task-2'], test: ['task-3'] }, ids)).toEqual([]);
    expect(checkSplits({ train: ['task-1'], test: ['task-1', 'nope'] }, ids)).toHaveLength(2);
    expect(checkSplits({ train: 0.8, test: 0.3 }, ids)[0]).toMatch(/sum to/);
    expect(checkSplits({ train: 0.8, test: ['task-1'] }, ids)[0]).toMatch(/every split/);
    const shares = { train: 0.7, valid: 0.1, test: 0.2 };
    const train = splitIds(shares, 'train', ids);
    const valid = splitIds(shares, 'valid', ids);
    const test = splitIds(shares, 'test', ids);
    expect(train.length + valid.length + test.length).toBe(400);
    expect(new Set([...train, ...valid, ...test]).size).toBe(400);
    expect(train.length).toBeGreaterThan(240);
    expect(train.length).toBeLessThan(320);
    // a task keeps its split when others are added
    expect(splitIds(shares, 'test', [...ids, 'new-1', 'new-2']).filter((id) => id.startsWith('task-'))).toEqual(test);
  });
});

describe('feedloop dataset check', () => {
  it('exits 2 on an invalid file, naming each bad row, and runs nothing', async () => {
    const bad = file('invalid.jsonl', jsonl([ASSERT_ROWS[0], { ...ASSERT_ROWS[2], language: 'rust' }, { id: 'add', prompt: 'dup', language: 'python', cases: [{ input: '', output: '' }] }]));
    const { json, code } = await feedloop(['dataset', 'check', bad, '--json']);
    expect(code).toBe(2);
    expect(json).toMatchObject({ tasks: 3, valid: false, references: { passed: 0, failed: [] } });
    expect((json.errors as Array<{ line: number; field: string }>).map((e) => `${e.line}:${e.field}`)).toEqual(['2:language', '3:id']);
  });

  it('exits 1 when a reference fails, naming it with its outcome', async () => {
    const { json, code } = await feedloop(['dataset', 'check', file('asserts.jsonl', jsonl(ASSERT_ROWS)), '--json']);
    expect(code).toBe(1);
    expect(json).toMatchObject({ tasks: 4, valid: true, errors: [], references: { passed: 2, failed: [{ id: 'broken', outcome: 'failed' }] } });
    expect(json.sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);

  it('exits 0 when every reference passes: stdin/stdout tasks in Python and Java, from a JSON file', async () => {
    const { json, code } = await feedloop(['dataset', 'check', file('stdio.json', JSON.stringify(STDIO_ROWS, null, 2)), '--json']);
    expect(json).toMatchObject({ tasks: 3, valid: true, references: { passed: 3, failed: [] } });
    expect(code).toBe(0);
  }, 120_000);
});

describe('feedloop sandbox exec --cases', () => {
  it('runs a program against stdin/stdout cases and prints the outcome JSON', async () => {
    const program = file('sum.py', 'a, b = map(int, input().split())\nprint(a + b)\n');
    const cases = file('cases.json', JSON.stringify([{ input: '1 2', output: '3' }, { input: '2 2', output: '5' }]));
    const { json, code } = await feedloop(['sandbox', 'exec', '--language', 'python', '--program', program, '--cases', cases, '--json']);
    // sandbox exec exits with its outcome's class: 1 for failed
    expect(code).toBe(1);
    expect(json).toMatchObject({ language: 'python', outcome: 'failed', failedCase: { index: 1, expected: '5', got: '4\n' } });
  }, 60_000);
});
