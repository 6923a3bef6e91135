/**
 * The one interface every model backend implements, whatever serves the model: a remote
 * OpenAI-compatible server, a local ONNX session, or the simulated stand-in.
 *
 * Roles map onto it as: policy, refiner and feedback LLM call `generate`; the reward model calls
 * `score`. Requests and results are plain JSON, so they can be Temporal payloads.
 */

export type BackendName = 'openai' | 'onnx' | 'simulated' | 'replay';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateRequest {
  /** completion-style prompt; exactly one of `prompt` and `messages` */
  prompt?: string;
  /** chat-style prompt */
  messages?: ChatMessage[];
  /** samples to draw (default 1) */
  n?: number;
  /** 0 = greedy (default 1) */
  temperature?: number;
  /** nucleus sampling mass (default 1) */
  topP?: number;
  /** new tokens per sample (default 256) */
  maxTokens?: number;
  stop?: string[];
  /** sampling seed; sample i of a request uses a seed derived from (seed, sampleIndexStart + i) where the backend can */
  seed?: number;
  /** return the log-probability of each sampled token */
  logprobs?: boolean;
  /** also return this many most likely alternatives per position (implies logprobs) */
  topLogprobs?: number;
  /** the dataset task this prompt is for (the simulated backend needs it; others record it) */
  taskId?: string;
  /** a reference solution, for backends that simulate quality against it */
  reference?: string;
  /** index of the first sample within the task, so a retried or split request draws the same samples */
  sampleIndexStart?: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  top?: { token: string; logprob: number }[];
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'other';

export interface SampleMeta {
  backend: BackendName;
  model: string;
  /** true for every output of the simulated backend, so no report can mistake it for a real model */
  simulated?: boolean;
  [key: string]: unknown;
}

export interface Sample {
  /** the sample's index within its task (sampleIndexStart + position) */
  index: number;
  text: string;
  finishReason: FinishReason;
  logprobs?: TokenLogprob[];
  meta: SampleMeta;
}

export interface GenerateResult {
  samples: Sample[];
  usage?: { promptTokens: number; completionTokens: number };
}

export interface ScorePair {
  prompt: string;
  program: string;
  taskId?: string;
  reference?: string;
}

export interface CallOptions {
  /** aborts the call (pass the activity's cancellation signal) */
  signal?: AbortSignal;
}

export interface ModelBackend {
  readonly backend: BackendName;
  /** the model (or checkpoint) this backend serves, for records */
  readonly model: string;
  generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult>;
  /** one score per pair, in order */
  score(pairs: readonly ScorePair[], options?: CallOptions): Promise<number[]>;
  close(): Promise<void>;
}
