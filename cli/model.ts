import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../common/config-error';
import { PROJECT_ROOT } from '../infra/paths';
import { ensureTrainerPython } from '../infra/trainer-env';
import { startOnnxOpenAiServer } from '../activities/models/onnx/openai-server';
import { positiveInt } from './sandbox';
import { ensureSynthPolicy } from './synth-policy';

/**
 * `feedloop model init-tiny`: makes the tiny code model offline (scripts/init-tiny-model.py):
 * a byte-level BPE tokenizer and a 2-layer causal LM trained from scratch on CPU on MBPP's
 * Refine + Train gold programs, with its ONNX export for the `onnx` backend.
 */
export const DEFAULT_TINY_MODEL_DIR = path.join(PROJECT_ROOT, '.feedloop', 'models', 'tiny-code');
const INIT_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'init-tiny-model.py');

function seedValue(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

interface InitTinyOptions {
  out: string;
  arch: 'gpt2' | 'llama';
  steps?: number;
  seed?: number;
}

export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('local models');
  model
    .command('init-tiny')
    .description('train the tiny code model from scratch on CPU (a few minutes, deterministic) and export it to ONNX')
    .option('--out <dir>', 'where to write it', DEFAULT_TINY_MODEL_DIR)
    .addOption(new Option('--arch <arch>', 'architecture (llama: vLLM can load LoRA adapters for it)').choices(['gpt2', 'llama']).default('llama'))
    .option('--steps <n>', 'optimizer steps (default 600)', positiveInt)
    .option('--seed <n>', 'random seed (default 0)', seedValue)
    .action((opts: InitTinyOptions) => {
      const python = ensureTrainerPython();
      const args = [INIT_SCRIPT, '--out', path.resolve(opts.out), '--arch', opts.arch];
      if (opts.steps !== undefined) args.push('--steps', String(opts.steps));
      if (opts.seed !== undefined) args.push('--seed', String(opts.seed));
      const run = spawnSync(python, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
      if (run.status !== 0) throw new ConfigError(`init-tiny failed (exit ${run.status ?? run.signal}); see the lines above`);
      const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { modelDir: string; onnxDir: string; loss: number; seconds: number };
      process.stdout.write(
        `tiny model: ${result.modelDir} (Hugging Face checkpoint: a trainer's baseModel)\n` +
          `onnx export: ${result.onnxDir} (an onnx policy's modelDir)\n` +
          `final training loss ${result.loss.toFixed(3)}, ${result.seconds.toFixed(0)} s\n`,
      );
    });
  model
    .command('init-synth')
    .description("make the synthetic code family's starting policy (cli/synth-policy.ts): cached by recipe under the tools directory; a few minutes on one thread")
    .option('--seed <n>', 'corpus and training seed (default 1)', seedValue)
    .option('--steps <n>', 'optimizer steps (default 1200)', positiveInt)
    .action((opts: { seed?: number; steps?: number }) => {
      const r = ensureSynthPolicy({ ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.steps ? { steps: opts.steps } : {}) }, (l) => process.stderr.write(`${l}\n`));
      process.stdout.write(
        `synthetic policy ${r.recipeKey}: ${r.modelDir} (Hugging Face checkpoint: a trainer's baseModel)\n` +
          `onnx export: ${r.onnxDir} (an onnx policy's modelDir)\n${r.made ? `made in ${r.seconds.toFixed(0)} s` : 'cached'}\n`,
      );
    });
  model
    .command('serve')
    .description('serve an ONNX causal LM (e.g. the tiny model or its judge) over the OpenAI protocol until stopped')
    .option('--model-dir <dir>', 'an onnx backend model directory (model.onnx, tokenizer.json, config.json)', path.join(DEFAULT_TINY_MODEL_DIR, 'onnx'))
    .option('--name <name>', 'the model id clients send', 'tiny')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (default 8765)', positiveInt, 8765)
    .action(async (opts: { modelDir: string; name: string; host: string; port: number }) => {
      if (!existsSync(path.join(opts.modelDir, 'model.onnx'))) throw new ConfigError(`--model-dir: ${opts.modelDir} has no model.onnx (npx feedloop model init-tiny makes the tiny model)`);
      const server = await startOnnxOpenAiServer({ modelDir: opts.modelDir, name: opts.name, host: opts.host, port: opts.port });
      process.stdout.write(`serving ${path.resolve(opts.modelDir)} as model ${opts.name} at ${server.baseUrl} (Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      await server.close();
    });
}
