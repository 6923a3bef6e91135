import * as ort from 'onnxruntime-node';
import { badRequestFailure, modelConfigFailure } from '../failures';
import { SeededRandom } from '../../simulation/seeded-random';
import type { FinishReason, GenerateRequest, Sample, TokenLogprob } from '../types';
import type { LoadedTokenizer, ModelConfig } from './model-files';
import { logSoftmax, pickToken, topK } from './sampling';

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

interface PastSlot {
  input: string;
  output: string;
  dims: [number, number];
}

/** What the exported graph takes: with or without KV cache, with or without position_ids. */
interface GraphIo {
  idsType: 'int64' | 'int32';
  hasAttentionMask: boolean;
  hasPositionIds: boolean;
  past: PastSlot[];
}

function inspect(session: ort.InferenceSession, config: ModelConfig, where: string): GraphIo {
  const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const unknown = session.inputNames.filter((n) => !['input_ids', 'attention_mask', 'position_ids'].includes(n) && !PAST.test(n));
  if (unknown.length || !meta.has('input_ids')) {
    throw modelConfigFailure(
      `${where}: unsupported causal-LM graph inputs (${session.inputNames.join(', ')}); expected input_ids, attention_mask, ` +
        `optional position_ids and past_key_values.N.key/value, as optimum exports text-generation(-with-past) (not merged decoders)`,
    );
  }
  const idsMeta = meta.get('input_ids')!;
  const idsType = idsMeta.isTensor && idsMeta.type === 'int32' ? 'int32' : 'int64';
  const past: PastSlot[] = [];
  for (const name of session.inputNames) {
    const m = PAST.exec(name);
    if (!m) continue;
    const info = meta.get(name)!;
    if (info.isTensor && info.type !== 'float32') {
      throw modelConfigFailure(`${where}: ${name} is ${info.type}; this backend runs float32 KV caches (export with --dtype fp32)`);
    }
    const shape = info.isTensor ? info.shape : [];
    const heads = typeof shape[1] === 'number' ? shape[1] : config.numHeads;
    const headDim = typeof shape[3] === 'number' ? shape[3] : config.headDim;
    if (!heads || !headDim) throw modelConfigFailure(`${where}: cannot tell the KV-cache shape of ${name} from the graph or config.json`);
    const output = `present.${m[1]}.${m[2]}`;
    if (!session.outputNames.includes(output)) throw modelConfigFailure(`${where}: graph takes ${name} but has no output ${output}`);
    past.push({ input: name, output, dims: [heads, headDim] });
  }
  if (!session.outputNames.includes('logits')) throw modelConfigFailure(`${where}: graph has no "logits" output`);
  return { idsType, hasAttentionMask: meta.has('attention_mask'), hasPositionIds: meta.has('position_ids'), past };
}

function intTensor(type: 'int64' | 'int32', values: number[], dims: number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return new ort.Tensor('int64', data, dims);
}

/** an int64 tensor of ones (the attention mask: no padding inside a batch) */
function onesTensor(dims: [number, number]): ort.Tensor {
  return new ort.Tensor('int64', new BigInt64Array(dims[0] * dims[1]).fill(1n), dims);
}

function repeatRows(row: number[], rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) out.push(...row);
  return out;
}

interface SampleState {
  ids: number[];
  logprobs: TokenLogprob[];
  finish?: FinishReason;
  text: string;
  rng: SeededRandom;
}

/**
 * Autoregressive generation over an ONNX causal LM. All `n` samples of a request share the prompt,
 * so they run as one batch of equal-length rows (no padding). With a KV cache each step feeds only
 * the new token; without one it re-feeds the whole sequence.
 */
export class OnnxCausalLM {
  private readonly io: GraphIo;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: LoadedTokenizer,
    private readonly config: ModelConfig,
    private readonly name: string,
  ) {
    this.io = inspect(session, config, name);
  }

  get usesKvCache(): boolean {
    return this.io.past.length > 0;
  }

  /** the model's tokenizer and config, for callers that score token sequences (log-likelihood.ts) */
  get vocabulary(): { tokenizer: LoadedTokenizer; config: ModelConfig } {
    return { tokenizer: this.tokenizer, config: this.config };
  }

  /** the KV cache of a first step: length 0 */
  private emptyPast(batch: number): Record<string, ort.Tensor> {
    return Object.fromEntries(this.io.past.map((p) => [p.input, new ort.Tensor('float32', new Float32Array(0), [batch, p.dims[0], 0, p.dims[1]])]));
  }

  async generate(req: GenerateRequest, signal?: AbortSignal): Promise<Sample[]> {
    if (req.prompt === undefined || req.messages !== undefined) {
      throw badRequestFailure('the onnx backend takes a prompt (render chat messages with the model template before calling it)');
    }
    const n = req.n ?? 1;
    const maxTokens = req.maxTokens ?? 256;
    const params = { temperature: req.temperature ?? 1, topP: req.topP ?? 1 };
    const topLogprobs = req.topLogprobs ?? 0;
    const wantLogprobs = req.logprobs === true || topLogprobs > 0;
    const first = req.sampleIndexStart ?? 0;
    const seed = req.seed ?? 0;
    const prompt = this.tokenizer.encode(req.prompt);
    if (prompt.length === 0) throw badRequestFailure('the prompt encodes to no tokens');
    const states: SampleState[] = Array.from({ length: n }, (_, i) => ({
      ids: [],
      logprobs: [],
      text: '',
      rng: new SeededRandom('onnx-sample', seed, first + i),
    }));
    const pad = this.config.padTokenId ?? 0;
    let past = this.emptyPast(n);

    for (let step = 0; step < maxTokens && states.some((s) => !s.finish); step++) {
      signal?.throwIfAborted();
      const total = prompt.length + step;
      const fresh = this.usesKvCache && step > 0 ? 1 : total;
      // The last `fresh` tokens of each row; rows that have finished are fed padding, so the batch stays rectangular.
      const ids: number[] = [];
      for (const s of states) {
        for (let t = total - fresh; t < total; t++) ids.push(t < prompt.length ? prompt[t]! : (s.ids[t - prompt.length] ?? pad));
      }
      const feeds: Record<string, ort.Tensor> = { input_ids: intTensor(this.io.idsType, ids, [n, fresh]), ...past };
      if (this.io.hasAttentionMask) feeds.attention_mask = onesTensor([n, total]);
      if (this.io.hasPositionIds) {
        const positions = Array.from({ length: fresh }, (_, i) => total - fresh + i);
        feeds.position_ids = intTensor('int64', repeatRows(positions, n), [n, fresh]);
      }
      const out = await this.session.run(feeds);
      const logits = out.logits;
      if (!logits || logits.type !== 'float32') throw modelConfigFailure(`${this.name}: logits must be float32, got ${logits?.type}`);
      const [, seqLen, vocab] = logits.dims as [number, number, number];
      const data = logits.data as Float32Array;
      if (this.usesKvCache) past = Object.fromEntries(this.io.past.map((p) => [p.input, out[p.output]!]));

      states.forEach((s, row) => {
        if (s.finish) return;
        const offset = (row * seqLen + seqLen - 1) * vocab;
        const rowLogits = data.subarray(offset, offset + vocab);
        const token = pickToken(rowLogits, params, s.rng);
        if (this.config.eosTokenIds.includes(token)) {
          s.finish = 'stop';
          return;
        }
        s.ids.push(token);
        if (wantLogprobs) {
          const lp = logSoftmax(rowLogits);
          s.logprobs.push({
            token: this.tokenizer.decode([token]),
            logprob: lp[token]!,
            ...(topLogprobs > 0 ? { top: topK(lp, topLogprobs).map((id) => ({ token: this.tokenizer.decode([id]), logprob: lp[id]! })) } : {}),
          });
        }
        s.text = this.tokenizer.decode(s.ids);
        const stopAt = firstStop(s.text, req.stop);
        if (stopAt !== undefined) {
          s.text = s.text.slice(0, stopAt);
          s.finish = 'stop';
        }
      });
    }
    return states.map((s, i) => ({
      index: first + i,
      text: s.text,
      finishReason: s.finish ?? 'length',
      ...(wantLogprobs ? { logprobs: s.logprobs } : {}),
      meta: { backend: 'onnx', model: this.name, seed, temperature: params.temperature, topP: params.topP, tokens: s.ids.length },
    }));
  }

  /**
   * Teacher-forced log-probabilities: for each position t >= from of `ids`, log p(ids[t] | ids[<t]),
   * from one forward pass over the whole sequence (an empty KV cache, batch of one).
   */
  async tokenLogprobs(ids: readonly number[], from: number, signal?: AbortSignal): Promise<number[]> {
    if (from < 1 || from > ids.length) throw badRequestFailure(`tokenLogprobs: from must be in 1..${ids.length}, got ${from}`);
    signal?.throwIfAborted();
    const total = ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: intTensor(this.io.idsType, [...ids], [1, total]),
      ...this.emptyPast(1),
    };
    if (this.io.hasAttentionMask) feeds.attention_mask = intTensor('int64', Array(total).fill(1), [1, total]);
    if (this.io.hasPositionIds) feeds.position_ids = intTensor('int64', Array.from({ length: total }, (_, i) => i), [1, total]);
    const out = await this.session.run(feeds);
    const logits = out.logits;
    if (!logits || logits.type !== 'float32') throw modelConfigFailure(`${this.name}: logits must be float32, got ${logits?.type}`);
    const vocab = logits.dims[2]!;
    const data = logits.data as Float32Array;
    const result: number[] = [];
    // the logits at position t - 1 predict token t
    for (let t = from; t < total; t++) result.push(logSoftmax(data.subarray((t - 1) * vocab, t * vocab))[ids[t]!]!);
    return result;
  }
}

function firstStop(text: string, stops: readonly string[] | undefined): number | undefined {
  let at: number | undefined;
  for (const stop of stops ?? []) {
    const i = stop ? text.indexOf(stop) : -1;
    if (i >= 0 && (at === undefined || i < at)) at = i;
  }
  return at;
}
