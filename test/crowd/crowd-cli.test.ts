import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGGREGATION_METHODS, type AggregationMethod, type AggregationResult } from '../../activities/crowd/aggregation';
import { datasetPath, expectedOutputs, expectMatchesCrowdKit } from './reference-fixtures';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

/** the real command line, in a child process */
async function feedloop(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// One dataset per method through `npx tsx cli/main.ts crowd aggregate --json`, spread over the
// datasets so that each kind (toy, spammer, quoted labels, numeric labels, ties) goes through once.
const CASES: Record<AggregationMethod, string> = {
  'majority-vote': 'sim-ties-sparse',
  wawa: 'sim-binary-spammer',
  'dawid-skene': 'sim-three-class-quoted',
  'one-coin-dawid-skene': 'sim-five-class-numeric',
  glad: 'simple',
  mace: 'toy-ysda',
};

describe('feedloop crowd aggregate (child process)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-crowd-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const method of AGGREGATION_METHODS) {
    it(`--method ${method} --json prints one JSON object matching crowd-kit on ${CASES[method]}`, async () => {
      const { code, stdout, stderr } = await feedloop('crowd', 'aggregate', '--method', method, '--input', datasetPath(CASES[method]), '--json');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout.trim().split('\n')).toHaveLength(1);
      const printed = JSON.parse(stdout) as AggregationResult;
      expect(Object.keys(printed)).toEqual(expect.arrayContaining(['labels', 'probas']));
      expectMatchesCrowdKit(method, printed, expectedOutputs(CASES[method])[method]);
    });
  }

  it('without --json prints a table with every task and its label', async () => {
    const { code, stdout } = await feedloop('crowd', 'aggregate', '--method', 'dawid-skene', '--input', datasetPath('toy-ysda'));
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('DawidSkene: 5 tasks');
    expect(lines[1]).toMatch(/^task\s+label\s+probability\s+distribution$/);
    expect(lines.find((l) => l.startsWith('t3 '))).toMatch(/^t3\s+no\s+1\.0000\s+no=1\.0000 yes=0\.0000$/);
    expect(lines.some((l) => /^w1\s+no\|no=/.test(l))).toBe(true);
  });

  it('reads quoted fields, commas in quotes and CRLF line ends', async () => {
    const file = path.join(dir, 'crlf.csv');
    fs.writeFileSync(file, 'task,worker,label\r\n"t,1",w1,"a, b"\r\n"t,1",w2,"a, b"\r\n"t,1",w3,"say ""c"""\r\nt2,w1,"say ""c"""\r\n');
    const { code, stdout } = await feedloop('crowd', 'aggregate', '--method', 'majority-vote', '--input', file, '--json');
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as AggregationResult;
    expect(printed.labels).toEqual({ 't,1': 'a, b', t2: 'say "c"' });
    expect(printed.probas['t,1']!['a, b']).toBeCloseTo(2 / 3, 12);
  });

  it('rejects a malformed file with one line naming the line number, exit 2', async () => {
    const file = path.join(dir, 'bad.csv');
    fs.writeFileSync(file, 'task,worker,label\nt1,w1,yes\nt2,w1\nt3,w2,no\n');
    const { code, stdout, stderr } = await feedloop('crowd', 'aggregate', '--method', 'glad', '--input', file, '--json');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`feedloop: ${file} line 3: expected 3 fields (task,worker,label), got 2\n`);
  });

  it('refuses an unknown method', async () => {
    const { code, stderr } = await feedloop('crowd', 'aggregate', '--method', 'zbs', '--input', datasetPath('toy-ysda'));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/--method <method>' argument 'zbs' is invalid/);
  });
});
