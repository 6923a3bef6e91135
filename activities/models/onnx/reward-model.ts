import * as ort from 'onnxruntime-node';
import { modelConfigFailure } from '../failures';
import type { ScorePair } from '../types';
import type { LoadedTokenizer, ModelConfig } from './model-files';

export interface RewardModelOptions {
  batchSize: number;
  maxLength: number;
  rewardLabel: number;
  scoreTransform: 'logit' | 'sigmoid';
}

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

/**
 * A sequence-classification ONNX model (e.g. AutoModelForSequenceClassification with one label,
 * as reward models are trained) scoring (prompt, program) pairs. Pairs are encoded with the
 * tokenizer's own pair template, batched with right padding and an attention mask.
 */
export class OnnxRewardModel {
  private readonly hasTokenTypes: boolean;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: LoadedTokenizer,
    private readonly config: ModelConfig,
    private readonly options: RewardModelOptions,
    private readonly name: string,
  ) {
    const inputs = session.inputNames;
    const unknown = inputs.filter((n) => !['input_ids', 'attention_mask', 'token_type_ids'].includes(n));
    if (unknown.length || !inputs.includes('input_ids') || !inputs.includes('attention_mask')) {
      throw modelConfigFailure(`${name}: unsupported classifier inputs (${inputs.join(', ')}); expected input_ids, attention_mask, optional token_type_ids`);
    }
    if (!session.outputNames.includes('logits')) throw modelConfigFailure(`${name}: graph has no "logits" output`);
    this.hasTokenTypes = inputs.includes('token_type_ids');
  }

  /** Encodes one pair, cutting overlong pairs before their last (usually special) token. */
  encode(pair: ScorePair): { ids: number[]; typeIds: number[] } {
    const enc = this.tokenizer.encodePair(pair.prompt, pair.program);
    const max = this.options.maxLength;
    if (enc.ids.length <= max) return enc;
    const cut = (xs: number[]) => [...xs.slice(0, max - 1), xs[xs.length - 1]!];
    return { ids: cut(enc.ids), typeIds: cut(enc.typeIds) };
  }

  async score(pairs: readonly ScorePair[], signal?: AbortSignal): Promise<number[]> {
    const scores: number[] = [];
    for (let start = 0; start < pairs.length; start += this.options.batchSize) {
      signal?.throwIfAborted();
      scores.push(...(await this.scoreBatch(pairs.slice(start, start + this.options.batchSize))));
    }
    return scores;
  }

  private async scoreBatch(pairs: readonly ScorePair[]): Promise<number[]> {
    const encoded = pairs.map((p) => this.encode(p));
    const width = Math.max(...encoded.map((e) => e.ids.length));
    const pad = this.config.padTokenId ?? 0;
    const ids: number[] = [];
    const mask: number[] = [];
    const types: number[] = [];
    for (const e of encoded) {
      const fill = width - e.ids.length;
      ids.push(...e.ids, ...Array<number>(fill).fill(pad));
      mask.push(...Array<number>(e.ids.length).fill(1), ...Array<number>(fill).fill(0));
      types.push(...e.typeIds, ...Array<number>(fill).fill(0));
    }
    const dims = [pairs.length, width];
    const feeds: Record<string, ort.Tensor> = { input_ids: int64(ids, dims), attention_mask: int64(mask, dims) };
    if (this.hasTokenTypes) feeds.token_type_ids = int64(types, dims);
    const out = await this.session.run(feeds);
    const logits = out.logits;
    if (!logits || logits.type !== 'float32' || logits.dims.length !== 2) {
      throw modelConfigFailure(`${this.name}: expected float32 logits [batch, labels], got ${logits?.type} [${logits?.dims.join(', ')}]`);
    }
    const labels = logits.dims[1]!;
    if (this.options.rewardLabel >= labels) throw modelConfigFailure(`${this.name}: rewardLabel ${this.options.rewardLabel} but the model has ${labels} label(s)`);
    const data = logits.data as Float32Array;
    return pairs.map((_, i) => {
      const logit = data[i * labels + this.options.rewardLabel]!;
      return this.options.scoreTransform === 'sigmoid' ? 1 / (1 + Math.exp(-logit)) : logit;
    });
  }
}
