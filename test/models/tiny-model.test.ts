import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMbpp, mbppPrompt, mbppSplit, MBPP_SPLITS } from '../../activities/datasets/mbpp';
import { OnnxBackend } from '../../activities/models';
import { onnxBackendConfigSchema } from '../../common/model-config';
import { createTrainingActivities } from '../../activities/training';
import { PROJECT_ROOT } from '../../infra/paths';
import { ensureTrainerPython } from '../../infra/trainer-env';
import { activityEnv } from '../training/helpers';

/**
 * The tiny code model end to end, on CPU, with real torch (the reference trainer's venv):
 * `feedloop model init-tiny` trains it on MBPP Refine + Train only and exports it to ONNX;
 * feedloop's onnx backend must generate (greedy) and score (teacher-forced log-likelihood)
 * exactly as PyTorch does on the checkpoint (scripts/causal-lm-reference.py); and the reference
 * trainer, run by the training activity, writes an ONNX export after sft and policy_update
 * that names its job and step and that generates as its PyTorch checkpoint does.
 * Reduced steps keep it to a minute or two; the recipe's default is 600 steps.
 */
const STEPS = 40;
const MAX_NEW_TOKENS = 24;
const REFERENCE = path.join(PROJECT_ROOT, 'scripts', 'causal-lm-reference.py');

let python: string;
let work: string;
let modelDir: string;
const opened: OnnxBackend[] = [];

interface Recipe {
  trainTaskIds: number[];
  trainTaskRange: [number, number];
  loss: { first: number; last: number };
  steps: number;
}
interface Greedy {
  prompt: string;
  text: string;
  tokenIds: number[];
  logprobs: number[];
  finishReason: 'stop' | 'length';
}

function reference<T>(dir: string, mode: 'greedy' | 'loglik', data: unknown, ...extra: string[]): T {
  const file = path.join(work, `${mode}-${opened.length}-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(data));
  const out = execFileSync(python, [REFERENCE, dir, mode, file, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out) as T;
}

async function onnx(dir: string): Promise<OnnxBackend> {
  const b = await OnnxBackend.load(onnxBackendConfigSchema.parse({ backend: 'onnx', task: 'causal-lm', modelDir: dir }));
  opened.push(b);
  return b;
}

/** Greedy generations of the ONNX export must equal PyTorch's on the checkpoint, token for token. */
async function expectGreedyEqual(checkpoint: string, exportDir: string, prompts: string[]): Promise<Greedy[]> {
  const expected = reference<Greedy[]>(checkpoint, 'greedy', prompts, String(MAX_NEW_TOKENS));
  const backend = await onnx(exportDir);
  for (const g of expected) {
    const { samples } = await backend.generate({ prompt: g.prompt, temperature: 0, maxTokens: MAX_NEW_TOKENS, logprobs: true, n: 2 });
    for (const s of samples) {
      expect(s.text).toBe(g.text);
      expect(s.finishReason).toBe(g.finishReason);
      expect(s.meta).toMatchObject({ tokens: g.tokenIds.length });
      s.logprobs!.forEach((t, i) => expect(Math.abs(t.logprob - g.logprobs[i]!)).toBeLessThan(1e-4));
    }
  }
  return expected;
}

const testTasks = mbppSplit('test').slice(0, 4);
const prompts = [...testTasks.map(mbppPrompt), 'def add(a, b):\n'];

beforeAll(() => {
  python = ensureTrainerPython();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-tiny-model-'));
  modelDir = path.join(work, 'tiny');
  execFileSync('npx', ['tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), 'model', 'init-tiny', '--out', modelDir, '--steps', String(STEPS)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}, 600_000);

afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('feedloop model init-tiny', () => {
  it('trains on MBPP Refine + Train gold programs only, never MBPP_Test, the prompt tasks or HumanEval', () => {
    const recipe = JSON.parse(fs.readFileSync(path.join(modelDir, 'feedloop-model.json'), 'utf8')) as Recipe;
    const allowed = [...mbppSplit('refine'), ...mbppSplit('train')].map((t) => t.taskId);
    expect(recipe.trainTaskRange).toEqual([MBPP_SPLITS.refine[0], MBPP_SPLITS.train[1]]);
    expect(recipe.trainTaskIds).toEqual(allowed);
    expect(allowed).toHaveLength(864);
    const forbidden = new Set(loadMbpp().filter((t) => t.taskId <= MBPP_SPLITS.test[1]).map((t) => t.taskId));
    expect(forbidden.size).toBe(110);
    expect(recipe.trainTaskIds.filter((id) => forbidden.has(id))).toEqual([]);
    // the script's own answer, without torch, is the same list
    const printed = JSON.parse(execFileSync(python, [path.join(PROJECT_ROOT, 'scripts', 'init-tiny-model.py'), '--out', work, '--print-recipe'], { encoding: 'utf8' })) as Recipe;
    expect(printed.trainTaskIds).toEqual(allowed);
    // the recipe reads one data file, MBPP's (no HumanEval, no other set)
    const source = fs.readFileSync(path.join(PROJECT_ROOT, 'scripts', 'init-tiny-model.py'), 'utf8');
    expect(source.match(/ROOT \/ "data"[^\n]*/g)).toEqual(['ROOT / "data" / "mbpp" / "mbpp.jsonl"']);
    expect(recipe.steps).toBe(STEPS);
    expect(recipe.loss.last).toBeLessThan(recipe.loss.first - 1);
  });

  it('is deterministic: a second run of the recipe writes the same weights and the same ONNX graph', () => {
    const again = path.join(work, 'tiny-again');
    execFileSync(python, [path.join(PROJECT_ROOT, 'scripts', 'init-tiny-model.py'), '--out', again, '--steps', String(STEPS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'feedloop-model.json'), 'utf8')) as { sha256: Record<string, string>; loss: unknown };
    expect(read(again).sha256).toEqual(read(modelDir).sha256);
    expect(read(again).loss).toEqual(read(modelDir).loss);
  });

  it("the ONNX export's greedy generations equal the PyTorch model's on a fixed prompt set", async () => {
    const expected = await expectGreedyEqual(modelDir, path.join(modelDir, 'onnx'), prompts);
    expect(expected.every((g) => g.tokenIds.length > 0)).toBe(true);
    const marker = JSON.parse(fs.readFileSync(path.join(modelDir, 'onnx', 'feedloop-export.json'), 'utf8')) as Record<string, unknown>;
    expect(marker).toMatchObject({ kind: 'init-tiny', step: STEPS, format: 'onnx-causal-lm-with-past' });
  });

  it("mean per-token log-likelihood of programs through the onnx backend equals PyTorch's within 1e-4", async () => {
    const pairs = testTasks.map((t) => ({ prompt: mbppPrompt(t), program: t.code.replace(/\r\n/g, '\n') }));
    pairs.push({ prompt: '', program: 'def f():\n    return 1\n' });
    const expected = reference<{ pairs: { tokens: number; meanLogprob: number }[]; meanLogprob: number; perplexity: number; tokens: number }>(modelDir, 'loglik', pairs);
    const got = await (await onnx(path.join(modelDir, 'onnx'))).programLogLikelihood(pairs);
    expect(got.pairs.map((p) => p.tokens)).toEqual(expected.pairs.map((p) => p.tokens));
    got.pairs.forEach((p, i) => expect(Math.abs(p.meanLogprob - expected.pairs[i]!.meanLogprob)).toBeLessThan(1e-4));
    expect(Math.abs(got.meanLogprob - expected.meanLogprob)).toBeLessThan(1e-4);
    expect(Math.abs(got.perplexity - expected.perplexity) / expected.perplexity).toBeLessThan(1e-4);
    expect(got.tokens).toBe(expected.tokens);
    // a model that has learnt something: far better than uniform over its vocabulary
    expect(got.perplexity).toBeLessThan(1024 / 4);
  });
});

describe('reference trainer: the checkpoint it trains is a policy the onnx backend can run', () => {
  const activities = createTrainingActivities({ workerTaskQueue: 'gpu-test', heartbeatIntervalMs: 1000 });
  const trainer = { type: 'command' as const, argv: ['bash', path.join(PROJECT_ROOT, 'trainers', 'reference', 'run.sh')], cancelGraceMs: 5000, lockWaitMs: 0 };
  const rows = mbppSplit('train').slice(0, 8);

  it.each([
    ['sft', {}],
    ['sft', { lora: { r: 4, alpha: 8, target_modules: ['q_proj', 'v_proj'] } }],
    ['policy_update', {}],
  ] as const)('%s %j: done names an ONNX export of the final model, marked with its job and step', async (kind, extra) => {
    const dataset = path.join(work, `${kind}-${Object.keys(extra).length}.jsonl`);
    fs.writeFileSync(
      dataset,
      rows
        .map((t, i) => {
          const row = { prompt: mbppPrompt(t), completion: t.code.replace(/\r\n/g, '\n') };
          return JSON.stringify(kind === 'policy_update' ? { ...row, reward: i % 2 } : row);
        })
        .join('\n') + '\n',
    );
    const jobId = `tiny-${kind}-${Object.keys(extra).length ? 'lora' : 'full'}`;
    const job = {
      jobId,
      kind,
      baseModel: modelDir,
      datasetPath: dataset,
      outputDir: path.join(work, jobId),
      hyperparameters: { max_steps: 3, batch_size: 4, learning_rate: 1e-3, checkpoint_every: 3, ...extra },
      trainer,
    };
    const result = await activityEnv().run(activities.runTrainingJob, job);
    expect(result.steps).toBe(3);
    expect(result.exportPath).toBe(path.join(job.outputDir, 'final', 'onnx'));
    const marker = JSON.parse(fs.readFileSync(path.join(result.exportPath!, 'feedloop-export.json'), 'utf8')) as Record<string, unknown>;
    expect(marker).toMatchObject({ jobId, kind, step: 3, source: result.modelPath, baseModel: modelDir, lora: 'lora' in extra });
    // the exported policy generates as the trained PyTorch model does (a LoRA adapter merged in)
    await expectGreedyEqual(result.modelPath, result.exportPath!, prompts.slice(0, 2));
  }, 300_000);
});
