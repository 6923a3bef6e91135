import type OpenAI from 'openai';
import { Semaphore } from '../concurrency';
import type { OpenAIBackendConfig } from '../../../common/model-config';
import { badRequestFailure, unsupportedFailure } from '../failures';
import type { CallOptions, FinishReason, GenerateRequest, GenerateResult, ModelBackend, Sample, TokenLogprob } from '../types';
import { connectOpenAI, type OpenAIConnection } from './connection';
import { toModelFailure } from './errors';

type ChatCompletion = OpenAI.Chat.Completions.ChatCompletion;
type Completion = OpenAI.Completions.Completion;

function finishReason(reason: string | null | undefined): FinishReason {
  return reason === 'stop' || reason === 'length' || reason === 'content_filter' ? reason : 'other';
}

function chatLogprobs(lp: ChatCompletion['choices'][number]['logprobs']): TokenLogprob[] | undefined {
  if (!lp?.content) return undefined;
  return lp.content.map((t) => ({
    token: t.token,
    logprob: t.logprob,
    ...(t.top_logprobs?.length ? { top: t.top_logprobs.map((a) => ({ token: a.token, logprob: a.logprob })) } : {}),
  }));
}

function completionLogprobs(lp: Completion['choices'][number]['logprobs']): TokenLogprob[] | undefined {
  if (!lp?.tokens || !lp.token_logprobs) return undefined;
  return lp.tokens.map((token, i) => {
    const top = lp.top_logprobs?.[i];
    return {
      token,
      logprob: lp.token_logprobs?.[i] ?? Number.NaN,
      ...(top ? { top: Object.entries(top).map(([t, logprob]) => ({ token: t, logprob })) } : {}),
    };
  });
}

/** Splits n samples into requests of at most `per` samples: [start, count][]. */
function chunks(n: number, per: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += per) out.push([start, Math.min(per, n - start)]);
  return out;
}

/**
 * Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, Ollama, TGI) through the `openai`
 * package. Requests share one semaphore per backend instance, so an activity can fan out over
 * many prompts without exceeding `maxConcurrency` requests in flight.
 */
export class OpenAIBackend implements ModelBackend {
  readonly backend = 'openai' as const;
  readonly model: string;
  private readonly connection: OpenAIConnection;
  private readonly slots: Semaphore;
  private adapterLoaded?: Promise<void>;

  constructor(
    private readonly config: OpenAIBackendConfig,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.connection = connectOpenAI(config, env);
    this.slots = new Semaphore(config.maxConcurrency);
    // vLLM serves each LoRA adapter as a model of its own name.
    this.model = config.adapter?.name ?? config.model;
  }

  async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    const n = request.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw badRequestFailure(`n must be a positive integer, got ${n}`);
    if ((request.prompt === undefined) === (request.messages === undefined)) {
      throw badRequestFailure('a generate request needs exactly one of prompt and messages');
    }
    if (this.config.api === 'completions' && request.messages) {
      throw badRequestFailure('this backend uses the completions API (api: completions): send a prompt, not messages');
    }
    await this.ensureAdapter(options.signal);
    const per = this.config.samplesPerRequest ?? n;
    const first = request.sampleIndexStart ?? 0;
    const parts = await Promise.all(
      chunks(n, per).map(([start, count]) =>
        this.slots.run(() => this.request(request, start, count, first, options.signal), options.signal),
      ),
    );
    const samples = parts.flatMap((p) => p.samples);
    const usage = parts.reduce(
      (acc, p) => ({ promptTokens: acc.promptTokens + p.promptTokens, completionTokens: acc.completionTokens + p.completionTokens }),
      { promptTokens: 0, completionTokens: 0 },
    );
    return { samples, usage };
  }

  score(): Promise<number[]> {
    return Promise.reject(unsupportedFailure('openai', 'score (use an onnx or simulated reward model, or generate with logprobs)'));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async request(req: GenerateRequest, start: number, count: number, first: number, signal?: AbortSignal) {
    const seed = req.seed === undefined ? undefined : req.seed + start;
    const common = {
      model: this.model,
      n: count,
      temperature: req.temperature,
      top_p: req.topP,
      stop: req.stop?.length ? req.stop : undefined,
      seed,
    };
    const wantLogprobs = req.logprobs === true || (req.topLogprobs ?? 0) > 0;
    const meta = (extra: Record<string, unknown>) => ({ backend: this.backend, model: this.model, baseUrl: this.connection.baseURL, seed, ...extra });
    const operation = this.config.api === 'chat' ? 'chat.completions.create' : 'completions.create';
    try {
      if (this.config.api === 'chat') {
        const messages = req.messages ?? [{ role: 'user' as const, content: req.prompt ?? '' }];
        const res = await this.connection.client.chat.completions.create(
          {
            ...common,
            messages,
            [this.config.maxTokensField]: req.maxTokens,
            ...(wantLogprobs ? { logprobs: true, top_logprobs: req.topLogprobs ?? 0 } : {}),
          },
          { signal },
        );
        const samples: Sample[] = [...res.choices]
          .sort((a, b) => a.index - b.index)
          .map((c, i) => ({
            index: first + start + i,
            text: c.message.content ?? '',
            finishReason: finishReason(c.finish_reason),
            ...(wantLogprobs ? { logprobs: chatLogprobs(c.logprobs) } : {}),
            meta: meta({ responseId: res.id, systemFingerprint: res.system_fingerprint }),
          }));
        return { samples, promptTokens: res.usage?.prompt_tokens ?? 0, completionTokens: res.usage?.completion_tokens ?? 0 };
      }
      const res = await this.connection.client.completions.create(
        { ...common, prompt: req.prompt ?? '', max_tokens: req.maxTokens, ...(wantLogprobs ? { logprobs: req.topLogprobs ?? 0 } : {}) },
        { signal },
      );
      const samples: Sample[] = [...res.choices]
        .sort((a, b) => a.index - b.index)
        .map((c, i) => ({
          index: first + start + i,
          text: c.text,
          finishReason: finishReason(c.finish_reason),
          ...(wantLogprobs ? { logprobs: completionLogprobs(c.logprobs) } : {}),
          meta: meta({ responseId: res.id, systemFingerprint: res.system_fingerprint }),
        }));
      return { samples, promptTokens: res.usage?.prompt_tokens ?? 0, completionTokens: res.usage?.completion_tokens ?? 0 };
    } catch (err) {
      throw toModelFailure(err, { operation, baseURL: this.connection.baseURL, model: this.model, secrets: this.connection.secrets, signal });
    }
  }

  /** Loads the configured LoRA adapter into vLLM once per backend instance (vLLM's runtime LoRA API). */
  private ensureAdapter(signal?: AbortSignal): Promise<void> {
    const adapter = this.config.adapter;
    if (!adapter?.path) return Promise.resolve();
    this.adapterLoaded ??= this.connection.client
      .post('/load_lora_adapter', { body: { lora_name: adapter.name, lora_path: adapter.path }, signal })
      .then(
        () => undefined,
        (err: unknown) => {
          this.adapterLoaded = undefined;
          // vLLM answers 400 "...has already been loaded" when another worker loaded it first.
          if (err instanceof Error && /already been loaded/i.test(err.message)) return;
          throw toModelFailure(err, {
            operation: 'load_lora_adapter',
            baseURL: this.connection.baseURL,
            model: adapter.name,
            secrets: this.connection.secrets,
            signal,
          });
        },
      );
    return this.adapterLoaded;
  }
}
