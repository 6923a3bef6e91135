/**
 * Is a learning effect reachable on this machine? (issue 18's feasibility proof, outside Temporal)
 *
 *   npx tsx scripts/learning-probe.ts [--seeds 1,2] [--n 8] [--temperature 0.8] [--epochs 4] [--lr 1e-3]
 *     [--recipe '{"steps": 1500}'] [--models-dir DIR] [--eval-only]
 *     [--dataset synth|synth-java]
 *
 * For each seed: make (or reuse) the synthetic family's starting policy (cli/synth-policy.ts),
 * measure held-out pass@1 / pass@8 on the family's `test` split through the real onnx backend
 * and the real sandbox; sample the `train` split, keep the programs that pass their tests, run
 * one `sft` round of the reference trainer on them, and measure again. The control runs as many
 * sft steps on the same samples unfiltered (no feedback). Prints a table and one JSON line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeDataset, selectTasks, type CodeTask } from '../activities/datasets/registry';
import { OnnxBackend } from '../activities/models/onnx/backend';
import { createSandboxRunner } from '../activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS, type SandboxRunner } from '../activities/sandbox/types';
import { SeededRandom } from '../activities/simulation/seeded-random';
import { passAtK } from '../common/pass-at-k';
import { runMany } from '../common/run-many';
import { runReferenceSft } from '../cli/reference-sft';
import { ensureSynthPolicy, type SynthPolicyRecipe } from '../cli/synth-policy';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const SEEDS = arg('seeds', '1,2').split(',').map(Number);
const N = Number(arg('n', '8'));
const TEMPERATURE = Number(arg('temperature', '0.8'));
const EPOCHS = Number(arg('epochs', '4'));
const BATCH = 16;
const LR = Number(arg('lr', '1e-3'));
const MAX_TOKENS = 160;
/** the starting policy's recipe, over SYNTH_POLICY_DEFAULTS (its seed is the probe's) */
const RECIPE = JSON.parse(arg('recipe', '{}')) as Partial<SynthPolicyRecipe>;
/** where policies are cached (default: <tools>/models) */
const MODELS_DIR = process.argv.includes('--models-dir') ? arg('models-dir', '') : undefined;
/** synth (Python) or synth-java */
const DATASET = arg('dataset', 'synth') as 'synth' | 'synth-java';
const LANGUAGE = codeDataset(DATASET).language;
const EVAL_ONLY = process.argv.includes('--eval-only');
const log = (line: string) => process.stderr.write(`probe: ${line}\n`);

interface Sampled {
  task: CodeTask;
  completion: string;
  passed: boolean;
}

async function sampleAndTest(onnxDir: string, tasks: readonly CodeTask[], seed: number, sandbox: SandboxRunner): Promise<Sampled[]> {
  const backend = await OnnxBackend.load({ backend: 'onnx', task: 'causal-lm', modelDir: onnxDir, modelFile: 'model.onnx', executionProvider: 'cpu', deviceId: 0, intraOpThreads: 1, batchSize: 8, maxLength: 1024, rewardLabel: 0, scoreTransform: 'logit' });
  const out: Sampled[] = [];
  try {
    for (const task of tasks) {
      const { samples } = await backend.generate({ prompt: task.prompt, n: N, temperature: TEMPERATURE, maxTokens: MAX_TOKENS, seed, taskId: task.taskId });
      for (const s of samples) out.push({ task, completion: s.text, passed: false });
    }
  } finally {
    await backend.close();
  }
  await runMany(out, 2, async (s) => {
    const r = await sandbox.run({ language: LANGUAGE, program: s.task.prompt + s.completion, tests: s.task.tests }, DEFAULT_LIMITS);
    s.passed = r.outcome === 'passed';
  });
  return out;
}

/** pass@1 and pass@N over tasks, with pass@1's standard error over tasks */
function score(samples: readonly Sampled[]): { pass1: number; pass8: number; se1: number } {
  const counts = new Map<string, { n: number; c: number }>();
  for (const s of samples) {
    const c = counts.get(s.task.taskId) ?? { n: 0, c: 0 };
    c.n++;
    if (s.passed) c.c++;
    counts.set(s.task.taskId, c);
  }
  const tasks = [...counts.values()];
  const pass1 = passAtK(tasks, 1);
  const variance = tasks.reduce((v, t) => v + (t.c / t.n - pass1) ** 2, 0) / Math.max(1, tasks.length - 1);
  return { pass1, pass8: passAtK(tasks, Math.min(8, N)), se1: Math.sqrt(variance / tasks.length) };
}

async function evaluate(onnxDir: string, seed: number, sandbox: SandboxRunner, label: string, samplingSeed = seed * 1000 + 7) {
  const started = Date.now();
  const r = score(await sampleAndTest(onnxDir, selectTasks({ dataset: DATASET, split: 'test' }), samplingSeed, sandbox));
  log(`${label}: held-out pass@1 ${(100 * r.pass1).toFixed(1)}% (s.e. over tasks ${(100 * r.se1).toFixed(1)}), pass@${N} ${(100 * r.pass8).toFixed(1)}% (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return r;
}

async function probe(seed: number, sandbox: SandboxRunner) {
  const t0 = Date.now();
  const policy = ensureSynthPolicy({ ...RECIPE, ...(LANGUAGE === 'java' ? { language: LANGUAGE } : {}), seed }, log, MODELS_DIR);
  log(`seed ${seed}: policy ${policy.modelDir}${policy.made ? ` (made in ${policy.seconds.toFixed(0)} s)` : ' (cached)'}`);
  const start = await evaluate(policy.onnxDir, seed, sandbox, `seed ${seed} iteration 0`);
  // the sampling noise: iteration 0 again, with another sampling seed
  const resampled = await evaluate(policy.onnxDir, seed, sandbox, `seed ${seed} iteration 0, resampled`, seed * 1000 + 8);
  const noise = { startSe: start.se1, startResampled: resampled.pass1 };
  if (EVAL_ONLY) return { seed, start: start.pass1, startPass8: start.pass8, ...noise, wallSeconds: (Date.now() - t0) / 1000 };
  const sampled = await sampleAndTest(policy.onnxDir, selectTasks({ dataset: DATASET, split: 'train' }), seed * 1000 + 1, sandbox);
  const kept = sampled.filter((s) => s.passed);
  const steps = Math.max(1, Math.ceil((kept.length * EPOCHS) / BATCH));
  log(`seed ${seed}: ${kept.length}/${sampled.length} train samples pass their tests; sft ${steps} steps on them, and ${steps} steps on the unfiltered samples (control)`);
  const rows = (xs: readonly Sampled[]) => xs.map((s) => ({ prompt: s.task.prompt, completion: s.completion }));
  // the control: the same number of rows, drawn from all samples without looking at the tests
  const rng = new SeededRandom('learning-probe-control', seed);
  const control = sampled.map((s) => ({ s, k: rng.next() })).sort((a, b) => a.k - b.k).slice(0, kept.length).map((x) => x.s);
  const work = path.join(os.tmpdir(), `feedloop-learning-probe-${process.pid}-${seed}`);
  const hp = { max_steps: steps, batch_size: BATCH, learning_rate: LR, checkpoint_every: steps, max_length: 512, seed };
  const env = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const result: Record<string, unknown> = { seed, start: start.pass1, startPass8: start.pass8, ...noise, kept: kept.length, sampled: sampled.length, steps };
  for (const [name, data] of [['filtered', rows(kept)], ['control', rows(control)]] as const) {
    const s0 = Date.now();
    const final = await runReferenceSft({ jobId: `probe-${name}-${seed}`, baseModel: policy.modelDir, rows: data, workDir: path.join(work, name), hyperparameters: hp, env });
    const sftSeconds = (Date.now() - s0) / 1000;
    const r = await evaluate(path.join(final, 'onnx'), seed, sandbox, `seed ${seed} after sft on ${name} samples (${sftSeconds.toFixed(0)} s of sft)`);
    Object.assign(result, { [name]: r.pass1, [`${name}Pass8`]: r.pass8, [`${name}SftSeconds`]: sftSeconds });
  }
  fs.rmSync(work, { recursive: true, force: true });
  result.wallSeconds = (Date.now() - t0) / 1000;
  return result;
}

async function main() {
  const sandbox = createSandboxRunner({ size: 2 });
  const results = [];
  try {
    for (const seed of SEEDS) results.push(await probe(seed, sandbox));
  } finally {
    await sandbox.close();
  }
  const pct = (v: unknown) => `${(100 * (v as number)).toFixed(1)}%`;
  console.log('seed | iteration 0 pass@1 (pass@8) [resampled; s.e.] | after filtered sft (pass@8) | control: unfiltered sft (pass@8) | kept/sampled | sft steps | wall');
  for (const r of results) {
    console.log(
      `${r.seed} | ${pct(r.start)} (${pct(r.startPass8)}) [${pct(r.startResampled)}; ${pct(r.startSe)}] | ${pct(r.filtered)} (${pct(r.filteredPass8)}) | ` +
        `${pct(r.control)} (${pct(r.controlPass8)}) | ${r.kept}/${r.sampled} | ${r.steps} | ${(r.wallSeconds as number).toFixed(0)} s`,
    );
  }
  console.log(JSON.stringify({ n: N, temperature: TEMPERATURE, epochs: EPOCHS, learningRate: LR, seeds: results }));
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
