import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { PROJECT_ROOT } from '../../infra/paths';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError } from '../../common/config-error';
import { loadCrlhfAudit } from '../../loops/crlhf/audit';
import { loadCampaignAudit as loadIlfAudit } from '../../loops/ilf/audit';
import { parseIlfCampaignConfig } from '../../loops/ilf/config';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import { formatCrlhfAudit } from '../../loops/crlhf/audit-text';
import { crlhfCampaignWorkflow } from '../../loops/crlhf/workflow';
import { loadCampaignConfig } from '../../loops/config-file';
import { loadRlcfAudit } from '../../loops/rlcf/audit';
import { rlcfCampaignWorkflow } from '../../loops/rlcf/workflow';
import { outcomeCounts } from '../../activities/store/sample-outcomes';
import { withWorkers } from '../helpers/temporal';
import { tempDir } from '../helpers/temp-dir';
import { campaignId } from '../ilf/helpers';
import { crlhfConfig, exampleCrlhfRaw, SMALL } from '../crlhf/helpers';
import { rlcfConfig } from '../rlcf/helpers';
import { deepMerge } from '../rlaif/helpers';

/**
 * Campaigns on datasets of the user's own tasks (a JSONL file named in the config): cRLHF's
 * training programs from an assert-style Python file and from a stdin/stdout Python file, RLCF
 * on a stdin/stdout Java file. The real sandbox judges each; the audit names the file by its
 * SHA-256, pinned when the config was loaded.
 */
const ctx = withWorkers('dataset-file');
let dir: string;
let pool: pg.Pool;

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** n assert-style Python tasks: add k. */
const assertTasks = (n: number) =>
  Array.from({ length: n }, (_, k) => ({
    id: `add-${k}`,
    prompt: `Write a function add_${k}(x) that returns x + ${k}.\n`,
    language: 'python',
    reference: `def add_${k}(x):\n    result = x\n    result = result + ${k}\n    return result\n`,
    tests: `assert add_${k}(1) == ${1 + k}\nassert add_${k}(-3) == ${k - 3}`,
    entryPoint: `add_${k}`,
  }));

/** n stdin/stdout Python tasks: read x, print x * k. */
const stdioPythonTasks = (n: number) =>
  Array.from({ length: n }, (_, k) => ({
    id: `times-${k}`,
    prompt: `Read an integer x from standard input and print x * ${k}.\n`,
    language: 'python',
    reference: `x = int(input())\ny = x * ${k}\nprint(y)\n`,
    cases: [1, 7, -2].map((x) => ({ input: `${x}\n`, output: `${x * k}\n` })),
  }));

/** n stdin/stdout Java tasks: read two longs, print a + k * b. */
const stdioJavaTasks = (n: number) =>
  Array.from({ length: n }, (_, k) => ({
    id: `java-${k}`,
    prompt: `Read two integers a and b from standard input and print a + ${k} * b (class Main).\n`,
    language: 'java',
    reference: [
      'import java.util.Scanner;',
      '',
      'public class Main {',
      '    public static void main(String[] args) {',
      '        Scanner in = new Scanner(System.in);',
      '        long a = in.nextLong();',
      '        long b = in.nextLong();',
      `        System.out.println(a + ${k}L * b);`,
      '    }',
      '}',
      '',
    ].join('\n'),
    cases: [
      [1, 2],
      [5, -1],
    ].map(([a, b]) => ({ input: `${a} ${b}\n`, output: `${a! + k * b!}\n` })),
    limits: { cpuMs: 5000, wallMs: 20000, memoryMb: 512 },
  }));

function writeFile(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

/** A campaign file naming the dataset file by a relative path, loaded as `feedloop campaign start` does. */
function loadWithFile(raw: Record<string, unknown>, datasetFile: string, splits: Record<string, unknown>, name: string): Record<string, unknown> {
  const campaignFile = writeFile(name, stringify(deepMerge(raw, { dataset: { file: { path: path.basename(datasetFile), splits } } })));
  return loadCampaignConfig(campaignFile) as unknown as Record<string, unknown>;
}

/** The sandbox outcomes of a campaign's eval runs on a dataset file (and how many runs are on other datasets). */
async function fileRunOutcomes(id: string): Promise<Record<string, number> & { runs: number; otherRuns: number; passed: number }> {
  const { rows } = await pool.query<{ id: string; dataset: string }>('select id, dataset from eval_runs where id like $1', [`${id}/%`]);
  const onFile = rows.filter((r) => r.dataset.startsWith('file:'));
  const totals: Record<string, number> = {};
  for (const r of onFile) for (const [k, v] of Object.entries(await outcomeCounts(pool, r.id))) totals[k] = (totals[k] ?? 0) + v;
  return { ...totals, runs: onFile.length, otherRuns: rows.length - onFile.length, passed: totals.passed ?? 0 };
}

beforeAll(() => {
  dir = tempDir('dataset-file-campaigns');
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});

afterAll(async () => {
  await pool?.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a campaign config naming a dataset file', () => {
  it('is loaded with the path made absolute and the SHA-256 pinned; an invalid file is refused with its bad rows', () => {
    const file = writeFile('asserts.jsonl', jsonl(assertTasks(6)));
    const config = loadWithFile(exampleCrlhfRaw(), file, { train: 0.5, test: 0.5 }, 'crlhf.yaml') as { dataset: { file: { path: string; sha256: string } } };
    expect(config.dataset.file.path).toBe(file);
    expect(config.dataset.file.sha256).toMatch(/^[0-9a-f]{64}$/);
    const bad = writeFile('bad.jsonl', jsonl([...assertTasks(2), { id: 'x', prompt: 'p', language: 'python' }]));
    expect(() => loadWithFile(exampleCrlhfRaw(), bad, { train: 1 }, 'crlhf-bad.yaml')).toThrow(ConfigError);
    expect(() => loadWithFile(exampleCrlhfRaw(), bad, { train: 1 }, 'crlhf-bad.yaml')).toThrow(/line 3: tests/);
    expect(() => loadWithFile(exampleCrlhfRaw(), file, { train: ['add-1'], test: ['add-1'] }, 'crlhf-overlap.yaml')).toThrow(/both hold/);
  });
});

describe('campaigns on a dataset file', () => {
  for (const [kind, rows] of [
    ['an assert-style Python file', assertTasks(8)],
    ['a stdin/stdout Python file', stdioPythonTasks(8)],
  ] as const) {
    it(`cRLHF trains on ${kind}: its programs judged by the sandbox, the file in the audit by its SHA-256`, { timeout: 300_000 }, async () => {
      const file = writeFile(`crlhf-${rows[0]!.id}.jsonl`, jsonl(rows));
      // a policy that mostly writes the reference, so that some programs pass on so few tasks
      const raw = loadWithFile(deepMerge(exampleCrlhfRaw(), { ...SMALL, models: { policy: { quality: { initial: 0.9, ceiling: 0.95 } } } }) as Record<string, unknown>, file, { train: rows.slice(0, 5).map((r) => r.id), test: rows.slice(5).map((r) => r.id) }, `crlhf-${rows[0]!.id}.yaml`);
      const config = crlhfConfig(ctx.queues, raw);
      const id = campaignId('crlhf-file');
      const result = await ctx.client.workflow.execute(crlhfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
      expect(result.status).toBe('completed');
      const outcomes = await fileRunOutcomes(id);
      expect(outcomes.runs).toBeGreaterThan(0);
      expect(outcomes.passed, JSON.stringify(outcomes)).toBeGreaterThan(0);
      expect(outcomes.infra_error ?? 0).toBe(0);
      const audit = await loadCrlhfAudit(pool, id);
      expect(audit.campaign.datasetFile).toEqual({ path: file, sha256: config.dataset.file!.sha256 });
      expect(formatCrlhfAudit(audit)).toContain(`dataset file ${file} (sha256 ${config.dataset.file!.sha256})`);
    });
  }

  it('ILF runs on an assert-style Python file: samples, LLM feedback, refinements filtered by its tests, fine-tuning, evaluation on its test split', { timeout: 300_000 }, async () => {
    const rows = assertTasks(10);
    const file = writeFile('ilf.jsonl', jsonl(rows));
    const example = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'ilf-dry-run.yaml'), 'utf8')) as Record<string, unknown>;
    const raw = loadWithFile(
      deepMerge(example, {
        iterations: 1,
        dataset: { maxTrainTasks: 6, maxTestTasks: 4 },
        models: { feedback: { backend: 'simulated', role: 'feedback', seed: 3 }, refiner: { backend: 'simulated', role: 'program', seed: 3, quality: { initial: 0.8, ceiling: 0.9 } } },
        sampling: { train: { n: 2 }, eval: { n: 2, ks: [1, 2] } },
        feedback: { source: 'llm' },
        refiner: { kind: 'model' },
      }) as Record<string, unknown>,
      file,
      { train: rows.slice(0, 6).map((r) => r.id), test: rows.slice(6).map((r) => r.id) },
      'ilf.yaml',
    );
    const config = parseIlfCampaignConfig({ ...raw, taskQueues: ctx.queues });
    const id = campaignId('ilf-file');
    const result = await ctx.client.workflow.execute(ilfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    const outcomes = await fileRunOutcomes(id);
    expect(outcomes.runs).toBeGreaterThanOrEqual(2); // train samples, evaluations
    expect(outcomes.otherRuns).toBe(0);
    expect(outcomes.passed).toBeGreaterThan(0);
    expect(outcomes.infra_error ?? 0).toBe(0);
    const refinements = await pool.query<{ n: string }>('select count(*) as n from refinements where campaign_id = $1', [id]);
    expect(Number(refinements.rows[0]!.n)).toBeGreaterThan(0);
    const audit = await loadIlfAudit(pool, id);
    expect(audit.campaign.datasetFile?.sha256).toBe(config.dataset.file!.sha256);
    // MBPP's human feedback and refinements do not apply to a dataset file
    expect(() => parseIlfCampaignConfig({ ...raw, feedback: { source: 'dataset' }, refiner: { kind: 'dataset' } })).toThrow(/feedback\.source[\s\S]*refiner\.kind|refiner\.kind[\s\S]*feedback\.source/);
  });

  it('RLCF runs on a stdin/stdout Java file: rollouts and evaluation on its splits, compiled and judged by the sandbox', { timeout: 600_000 }, async () => {
    const rows = stdioJavaTasks(8);
    const file = writeFile('java.jsonl', jsonl(rows));
    const raw = loadWithFile(parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'rlcf-dry-run.yaml'), 'utf8')) as Record<string, unknown>, file, { train: rows.slice(0, 5).map((r) => r.id), test: rows.slice(5).map((r) => r.id) }, 'rlcf.yaml');
    const config = rlcfConfig(ctx.queues, { dataset: { ...(raw.dataset as object), mathqaEvalTasks: 0 }, iterations: 1 });
    const id = campaignId('rlcf-file');
    const result = await ctx.client.workflow.execute(rlcfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
    expect(result.status).toBe('completed');
    const outcomes = await fileRunOutcomes(id);
    expect(outcomes.runs).toBeGreaterThanOrEqual(2); // rollouts, and the evaluations (iteration 0 and 1)
    expect(outcomes.otherRuns).toBe(0); // nothing of MBJP: MathQA-Java is off
    expect(outcomes.passed).toBeGreaterThan(0);
    expect(outcomes.infra_error ?? 0).toBe(0);
    const audit = await loadRlcfAudit(pool, id);
    expect(audit.campaign.datasetFile?.sha256).toBe(config.dataset.file!.sha256);
  });
});
