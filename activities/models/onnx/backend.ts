import path from 'node:path';
import type { OnnxBackendConfig } from '../../../common/model-config';
import { unsupportedFailure } from '../failures';
import type { CallOptions, GenerateRequest, GenerateResult, ModelBackend, ScorePair } from '../types';
import { OnnxCausalLM } from './causal-lm';
import { programLogLikelihood, type LogLikelihoodOptions, type LogLikelihoodSummary, type PromptProgram } from './log-likelihood';
import { createSession, loadModelConfig, loadTokenizer } from './model-files';
import { OnnxRewardModel } from './reward-model';

/**
 * Local inference with onnxruntime-node: a causal LM generates, a sequence classifier scores.
 * Create it with `OnnxBackend.load(config)`; one session serves every call, so workers should
 * keep the backend for the config rather than reload it per activity.
 */
export class OnnxBackend implements ModelBackend {
  readonly backend = 'onnx' as const;

  private constructor(
    readonly model: string,
    private readonly lm: OnnxCausalLM | undefined,
    private readonly rewardModel: OnnxRewardModel | undefined,
    private readonly release: () => Promise<void>,
  ) {}

  static async load(config: OnnxBackendConfig): Promise<OnnxBackend> {
    const dir = path.resolve(config.modelDir);
    const session = await createSession(path.join(dir, config.modelFile), config);
    try {
      const tokenizer = await loadTokenizer(dir);
      const modelConfig = loadModelConfig(dir);
      const release = () => session.release();
      if (config.task === 'causal-lm') return new OnnxBackend(dir, new OnnxCausalLM(session, tokenizer, modelConfig, dir), undefined, release);
      const rm = new OnnxRewardModel(session, tokenizer, modelConfig, config, dir);
      return new OnnxBackend(dir, undefined, rm, release);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    if (!this.lm) throw unsupportedFailure('onnx sequence-classification', 'generate');
    return { samples: await this.lm.generate(request, options.signal) };
  }

  async score(pairs: readonly ScorePair[], options: CallOptions = {}): Promise<number[]> {
    if (!this.rewardModel) throw unsupportedFailure('onnx causal-lm', 'score');
    return this.rewardModel.score(pairs, options.signal);
  }

  /** mean per-token log-likelihood / perplexity of programs given prompts (log-likelihood.ts) */
  async programLogLikelihood(pairs: readonly PromptProgram[], options: LogLikelihoodOptions = {}): Promise<LogLikelihoodSummary> {
    if (!this.lm) throw unsupportedFailure('onnx sequence-classification', 'programLogLikelihood');
    return programLogLikelihood(this.lm, pairs, options);
  }

  close(): Promise<void> {
    return this.release();
  }
}
