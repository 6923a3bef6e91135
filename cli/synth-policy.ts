import { createHash } from 'node:crypto';
import path from 'node:path';
import { pretrainCorpus, REGISTERED_FAMILY_SEED } from '../activities/datasets/synthetic';
import type { Language } from '../activities/sandbox/types';
import { TOOLS_DIR } from '../infra/temporal';
import { ensureCachedModel, type CachedModel } from './cached-model';

/**
 * The synthetic family's starting policy, made here: a 2-layer d = 128 llama-style causal LM
 * (about 0.4M parameters) with its own byte-level BPE tokenizer, trained from scratch on one
 * CPU thread on the family's `pretrain` split rendered many times with near-miss bugs planted
 * at seeded per-primitive rates of 20-65% (activities/datasets/synthetic, `pretrainCorpus`),
 * then exported to ONNX for the `onnx` backend. scripts/init-tiny-model.py trains it (the tiny
 * model's machinery, given `--corpus`).
 *
 * Cached by recipe under the tools directory: `<tools>/models/synth-policy-<key>`, where the key
 * hashes everything the weights depend on (this recipe, the corpus's content, the training
 * options). A second call with the same recipe returns at once.
 */
export const SYNTH_POLICY_RECIPE = 'feedloop-synth-policy-v1';

export interface SynthPolicyRecipe {
  /** the corpus seed (bug rates and draws) and the training seed */
  seed: number;
  /** renderings of each pretrain task */
  repeats: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  layers: number;
  hidden: number;
  heads: number;
  vocab: number;
  /** torch threads: part of the recipe (float sums depend on it) */
  threads: number;
  /** the corpus's language (default python; java renders the same tasks in MBXP's layout, for synth-java) */
  language?: Language;
  /**
   * tokenize prompt and completion apart, as generation meets them (default for java: MBXP's
   * prompts end in '{\n', which a joint tokenization merges with the next line's indent, so a
   * jointly trained model never starts a body after the prompt's last token)
   */
  encodeSeparately?: boolean;
}

export const SYNTH_POLICY_DEFAULTS: SynthPolicyRecipe = { seed: 1, repeats: 24, steps: 1200, batchSize: 16, learningRate: 3e-3, layers: 2, hidden: 128, heads: 4, vocab: 512, threads: 1 };

export type SynthPolicy = CachedModel;

export function synthPolicyKey(recipe: SynthPolicyRecipe, corpusSha: string): string {
  return createHash('sha256').update(JSON.stringify({ recipe: SYNTH_POLICY_RECIPE, familySeed: REGISTERED_FAMILY_SEED, corpusSha, ...recipe })).digest('hex').slice(0, 12);
}

/** A recipe's corpus (JSONL) and cache key, without training: what `ensureSynthPolicy` would make. */
export function synthPolicyPlan(options: Partial<SynthPolicyRecipe> = {}): { recipe: SynthPolicyRecipe; corpus: string; rows: number; key: string } {
  const recipe = { ...SYNTH_POLICY_DEFAULTS, ...options };
  if (recipe.language === 'java') recipe.encodeSeparately ??= true;
  const rows = pretrainCorpus({ seed: recipe.seed, repeats: recipe.repeats, languages: [recipe.language ?? 'python'] });
  const corpus = rows.map((r) => JSON.stringify({ taskId: r.taskId, prompt: r.prompt, completion: r.completion, bugs: r.bugs })).join('\n') + '\n';
  return { recipe, corpus, rows: rows.length, key: synthPolicyKey(recipe, createHash('sha256').update(corpus).digest('hex')) };
}

/** Makes the starting policy for `recipe` unless it is cached; a few minutes on one thread. */
export function ensureSynthPolicy(options: Partial<SynthPolicyRecipe> = {}, log: (line: string) => void = () => undefined, modelsDir = path.join(TOOLS_DIR, 'models')): SynthPolicy {
  const { recipe, corpus, rows, key } = synthPolicyPlan(options);
  const modelDir = path.join(modelsDir, `synth-policy-${key}`);
  const args = [
    '--recipe', `${SYNTH_POLICY_RECIPE}:${key}`,
    '--arch', 'llama', '--seed', String(recipe.seed), '--steps', String(recipe.steps), '--batch-size', String(recipe.batchSize), '--learning-rate', String(recipe.learningRate),
    '--layers', String(recipe.layers), '--hidden', String(recipe.hidden), '--heads', String(recipe.heads), '--vocab', String(recipe.vocab), '--threads', String(recipe.threads),
    // MBXP's prompts (imports, Javadoc with examples) are longer than MBPP's
    ...(recipe.language === 'java' ? ['--max-length', '512'] : []),
    ...(recipe.encodeSeparately ? ['--encode-separately'] : []),
  ];
  return ensureCachedModel({ modelDir, key, corpus, args, what: 'the synthetic policy' }, () => log(`making the synthetic family's starting policy (${rows} pretraining programs with near-miss bugs, ${recipe.steps} steps on ${recipe.threads} thread(s); a few minutes) in ${modelDir}`));
}
