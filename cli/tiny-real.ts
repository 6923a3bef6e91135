import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { ConfigError } from '../common/config-error';
import { PROJECT_ROOT } from '../infra/paths';
import { parseCampaignConfig, readCampaignFile } from '../loops/config-file';
import { loopNamed } from '../loops/registry';
import { startCampaignFromConfig } from './campaign';
import { followCampaign } from './campaign-progress';
import { DEFAULT_TINY_MODEL_DIR } from './model';

/**
 * Real weights on one machine (`npm run e2e:tiny-real`): the tiny-real campaigns
 * (examples/ilf-tiny-real.yaml, examples/rlaif-tiny-real.yaml) end to end, nothing simulated,
 * on the tiny code model `feedloop model init-tiny` makes (made here when missing). The reduced
 * form (fewer tasks and steps) is what CI runs (test/integration/tiny-real.test.ts).
 */
export const TINY_REAL_LOOPS = ['ilf', 'rlaif'] as const;
export type TinyRealLoop = (typeof TINY_REAL_LOOPS)[number];
export const tinyRealConfigFile = (loop: TinyRealLoop) => path.join(PROJECT_ROOT, 'examples', `${loop}-tiny-real.yaml`);
/** the path the example files name for the tiny model, relative to the project root */
const EXAMPLE_MODEL_DIR = '.feedloop/models/tiny-code';

export interface TinyRealOptions {
  /** CI's form: fewer tasks, samples and trainer steps */
  reduced?: boolean;
  /** the tiny model (Hugging Face checkpoint with onnx/ inside); default .feedloop/models/tiny-code */
  modelDir?: string;
  /** the judge's OpenAI-compatible base URL (RLAIF) */
  judgeBaseUrl?: string;
  taskQueues?: { workflow: string; cpu: string; gpu: string };
  iterations?: number;
  /** where the policy runs (onnx execution provider) and the trainer trains; cpu by default */
  device?: 'cpu' | 'cuda';
}

type Raw = Record<string, unknown>;
const at = (o: Raw, key: string): Raw => ((o[key] ??= {}) as Raw);

/** The reduced form's changes, on the raw file (before validation). */
function reduce(loop: TinyRealLoop, c: Raw): void {
  const dataset = at(c, 'dataset');
  const sampling = at(c, 'sampling');
  if (loop === 'ilf') {
    const hp = at(at(c, 'trainer'), 'hyperparameters');
    Object.assign(dataset, { maxTrainTasks: 20, maxTestTasks: 6 });
    sampling.eval = { ...(sampling.eval as Raw), n: 2, ks: [1, 2], maxTokens: 64 };
    sampling.train = { ...(sampling.train as Raw), maxTokens: 64 };
    Object.assign(hp, { max_steps: 4, checkpoint_every: 4 });
  } else {
    Object.assign(dataset, { rolloutQuestions: 6, maxEvalQuestionsPerHub: 2 });
    sampling.rollout = { ...(sampling.rollout as Raw), maxTokens: 48 };
    sampling.eval = { ...(sampling.eval as Raw), maxTokens: 48 };
    for (const job of ['rewardModel', 'policyUpdate']) Object.assign(at(at(c, job), 'hyperparameters'), { max_steps: 4, checkpoint_every: 4 });
  }
}

/** A tiny-real campaign config: the example file, its model paths pointed at `modelDir`, reduced for CI when asked. */
export function tinyRealConfig(loop: TinyRealLoop, opts: TinyRealOptions = {}) {
  const file = tinyRealConfigFile(loop);
  const raw = readCampaignFile(file) as Raw;
  if (opts.reduced) reduce(loop, raw);
  const modelDir = path.resolve(opts.modelDir ?? DEFAULT_TINY_MODEL_DIR);
  // every model path in the files names the tiny model, relative to the project root
  const repoint = (v: unknown): unknown =>
    typeof v === 'string' && v.startsWith(EXAMPLE_MODEL_DIR) ? path.join(modelDir, v.slice(EXAMPLE_MODEL_DIR.length)) : Array.isArray(v) ? v.map(repoint) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, repoint(x)])) : v;
  const c = repoint(raw) as Raw;
  // the trainer command runs from the workers' directory: name it absolutely
  const trainer = at(c, 'trainer');
  if (Array.isArray(trainer.command)) trainer.command = trainer.command.map((a: string) => (a.startsWith('trainers/') ? path.join(PROJECT_ROOT, a) : a));
  if (loop === 'rlaif' && opts.judgeBaseUrl) at(at(c, 'models'), 'feedback').baseUrl = opts.judgeBaseUrl;
  if (opts.device === 'cuda') {
    at(at(c, 'models'), 'policy').executionProvider = 'cuda';
    at(trainer, 'hyperparameters').device = 'cuda';
    if (loop === 'rlaif') at(at(c, 'rewardModel'), 'scoring').executionProvider = 'cuda';
  }
  if (opts.taskQueues) c.taskQueues = opts.taskQueues;
  if (opts.iterations) c.iterations = opts.iterations;
  return parseCampaignConfig(c, file);
}

/** Makes the tiny model with `feedloop model init-tiny` unless `modelDir` already holds it. */
export function ensureTinyModel(modelDir = DEFAULT_TINY_MODEL_DIR, log: (line: string) => void = () => undefined, steps?: number): string {
  if (fs.existsSync(path.join(modelDir, 'onnx', 'model.onnx')) && fs.existsSync(path.join(modelDir, 'config.json'))) return modelDir;
  log(`making the tiny code model in ${modelDir} (npx feedloop model init-tiny${steps ? ` --steps ${steps}` : ''}; a few minutes on 2 cores)`);
  const args = ['tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), 'model', 'init-tiny', '--out', modelDir, ...(steps ? ['--steps', String(steps)] : [])];
  const run = spawnSync('npx', args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (run.status !== 0) throw new ConfigError(`making the tiny model failed (exit ${run.status ?? run.signal}); see the lines above`);
  return modelDir;
}

export interface TinyRealRun {
  loop: TinyRealLoop;
  campaignId: string;
  status: string;
  wallMs: number;
  /** the loop's audit (JSON) */
  audit: unknown;
  /** the loop's audit as text */
  text: string;
}

/** Runs one tiny-real campaign to its end on the given client (workers must serve its queues). */
export async function runTinyRealCampaign(client: Client, pool: pg.Pool, loop: TinyRealLoop, campaignId: string, opts: TinyRealOptions = {}, progress?: NodeJS.WriteStream): Promise<TinyRealRun> {
  const config = tinyRealConfig(loop, opts);
  const started = Date.now();
  const handle = await startCampaignFromConfig(client, campaignId, config);
  const result = await followCampaign<{ status: string }>(client, handle, progress);
  const wallMs = Date.now() - started;
  const l = loopNamed(loop);
  const audit = await l.audit.load(pool, campaignId, {});
  return { loop, campaignId, status: result.status, wallMs, audit, text: l.audit.format(audit as never) };
}
