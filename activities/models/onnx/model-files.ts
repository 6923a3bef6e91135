import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { modelConfigFailure } from '../failures';

/** Reading a Hugging Face Optimum export directory: ONNX session, tokenizer, model config. */

export interface SessionOptions {
  executionProvider: 'cpu' | 'cuda';
  deviceId: number;
  intraOpThreads?: number;
}

function readJson(file: string, required: boolean): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) {
    if (required) throw modelConfigFailure(`missing ${file} (expected a Hugging Face Optimum export directory)`);
    return undefined;
  }
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw modelConfigFailure(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export async function createSession(modelPath: string, options: SessionOptions): Promise<ort.InferenceSession> {
  if (!fs.existsSync(modelPath)) throw modelConfigFailure(`ONNX model file not found: ${modelPath}`);
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    options.executionProvider === 'cuda' ? [{ name: 'cuda', deviceId: options.deviceId }] : ['cpu'];
  try {
    return await ort.InferenceSession.create(modelPath, {
      executionProviders,
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    });
  } catch (err) {
    const hint =
      options.executionProvider === 'cuda'
        ? ' The CUDA execution provider needs the CUDA EP binaries of onnxruntime-node (see activities/models/README-gpu.md), CUDA 12 and cuDNN 9.'
        : '';
    throw modelConfigFailure(`could not load ${modelPath} with the ${options.executionProvider} execution provider: ${(err as Error).message}.${hint}`);
  }
}

export interface LoadedTokenizer {
  encode(text: string): number[];
  /** ids and token type ids of a (first, second) pair, with the tokenizer's own pair template */
  encodePair(first: string, second: string): { ids: number[]; typeIds: number[] };
  decode(ids: number[]): string;
}

export async function loadTokenizer(dir: string): Promise<LoadedTokenizer> {
  const json = readJson(path.join(dir, 'tokenizer.json'), true)!;
  const config = readJson(path.join(dir, 'tokenizer_config.json'), false) ?? {};
  // The package is ESM; a dynamic import loads it from this CommonJS project.
  const { Tokenizer } = await import('@huggingface/tokenizers');
  const tokenizer = new Tokenizer(json, config);
  return {
    encode: (text) => tokenizer.encode(text).ids,
    encodePair: (first, second) => {
      const enc = tokenizer.encode(first, { text_pair: second, return_token_type_ids: true });
      return { ids: enc.ids, typeIds: enc.token_type_ids };
    },
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: true }),
  };
}

export interface ModelConfig {
  eosTokenIds: number[];
  padTokenId?: number;
  numHeads?: number;
  headDim?: number;
  /** the longest sequence the model takes (n_positions / max_position_embeddings), where config.json says */
  maxPositions?: number;
}

function ids(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

/** The few config.json / generation_config.json fields generation needs. */
export function loadModelConfig(dir: string): ModelConfig {
  const config = readJson(path.join(dir, 'config.json'), true)!;
  const generation = readJson(path.join(dir, 'generation_config.json'), false) ?? {};
  const eosTokenIds = ids(generation.eos_token_id ?? config.eos_token_id);
  const pad = ids(generation.pad_token_id ?? config.pad_token_id)[0];
  const numHeads = (config.num_key_value_heads ?? config.num_attention_heads ?? config.n_head) as number | undefined;
  const hidden = (config.hidden_size ?? config.n_embd ?? config.d_model) as number | undefined;
  const headDim = (config.head_dim as number | undefined) ?? (hidden && config.num_attention_heads ? hidden / (config.num_attention_heads as number) : hidden && config.n_head ? hidden / (config.n_head as number) : undefined);
  const maxPositions = (config.max_position_embeddings ?? config.n_positions) as number | undefined;
  return { eosTokenIds, padTokenId: pad ?? eosTokenIds[0], numHeads, headDim, maxPositions };
}
