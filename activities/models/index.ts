import { modelBackendConfigSchema, formatConfigIssues, type ModelBackendConfig, type ModelBackendConfigInput } from '../../common/model-config';
import { modelConfigFailure } from './failures';
import { OnnxBackend } from './onnx/backend';
import { OpenAIBackend } from './openai/backend';
import { SimulatedBackend } from './simulated/backend';
import type { CallOptions, GenerateRequest, GenerateResult, ModelBackend, ScorePair } from './types';

export * from './types';
export * from '../../common/model-config';
export { MODEL_FAILURE, NON_RETRYABLE_MODEL_FAILURES } from './failures';
export { OnnxBackend } from './onnx/backend';
export { OpenAIBackend } from './openai/backend';
export { SimulatedBackend } from './simulated/backend';

/**
 * Validates a backend config (from a workflow payload or a campaign file) and builds the backend.
 * A bad config is a non-retryable ApplicationFailure of type ModelConfigError naming each field.
 * Synchronous: backends that load files (onnx) do so on first use, so the first call surfaces
 * load errors as failures of that call. The caller owns the backend and must close() it.
 */
export function createModelBackend(config: ModelBackendConfigInput | ModelBackendConfig, env: NodeJS.ProcessEnv = process.env): ModelBackend {
  const parsed = modelBackendConfigSchema.safeParse(config);
  if (!parsed.success) throw modelConfigFailure(`invalid model backend config:\n${formatConfigIssues(parsed.error.issues, 'model')}`);
  const c = parsed.data;
  switch (c.backend) {
    case 'openai':
      return new OpenAIBackend(c, env);
    case 'onnx':
      return new LazyBackend('onnx', c.modelDir, () => OnnxBackend.load(c));
    case 'simulated':
      return new SimulatedBackend(c);
  }
}

/** Defers an async load to the first call; a failed load is retried on the next call. */
class LazyBackend implements ModelBackend {
  private loading?: Promise<ModelBackend>;

  constructor(
    readonly backend: ModelBackend['backend'],
    readonly model: string,
    private readonly load: () => Promise<ModelBackend>,
  ) {}

  private get(): Promise<ModelBackend> {
    this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  async generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    return (await this.get()).generate(request, options);
  }

  async score(pairs: readonly ScorePair[], options?: CallOptions): Promise<number[]> {
    return (await this.get()).score(pairs, options);
  }

  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (loading) await (await loading.catch(() => undefined))?.close();
  }
}

/** Where a host reads a checkpoint of the shared store from (activities/training/checkpoint-store.ts). */
export interface CheckpointLocator {
  inStore(p: string): boolean;
  localize(p: string): Promise<{ path: string; pulled: boolean }>;
}

/** The checkpoint directory a backend config loads, if it names one. */
function checkpointOf(config: ModelBackendConfigInput | ModelBackendConfig): string | undefined {
  if (config.backend === 'onnx') return config.modelDir;
  if (config.backend === 'simulated') return config.model;
  return undefined;
}

/**
 * A backend on a checkpoint of the shared store, loaded from this host's cache: the first call
 * pulls the checkpoint there if the cache lacks it (a host that did not train it: the fallback
 * after the training host was lost). The simulated backend reads no weights; its checkpoint is
 * pulled all the same, so a dry run moves checkpoints as a real campaign does.
 */
function cachedCheckpointBackend(config: ModelBackendConfigInput | ModelBackendConfig, checkpoint: string, locator: CheckpointLocator, env: NodeJS.ProcessEnv): ModelBackend {
  return new LazyBackend(config.backend, checkpoint, async () => {
    const local = await locator.localize(checkpoint);
    return createModelBackend(config.backend === 'onnx' ? { ...config, modelDir: local.path } : config, env);
  });
}

/**
 * Keeps one backend per distinct config for a worker's lifetime, so an ONNX session is loaded
 * once, not per activity. Handles from `get` ignore close(); call `closeAll` at worker shutdown.
 */
export class ModelBackendCache {
  private readonly backends = new Map<string, ModelBackend>();

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** this host's cache of the shared checkpoint store; unset: checkpoints are read where they are */
    private readonly checkpoints?: CheckpointLocator,
  ) {}

  get(config: ModelBackendConfigInput | ModelBackendConfig): ModelBackend {
    const key = JSON.stringify(config, Object.keys(flatten(config)).sort());
    let backend = this.backends.get(key);
    if (!backend) {
      const checkpoint = checkpointOf(config);
      backend =
        this.checkpoints && checkpoint !== undefined && this.checkpoints.inStore(checkpoint)
          ? cachedCheckpointBackend(config, checkpoint, this.checkpoints, this.env)
          : createModelBackend(config, this.env);
      this.backends.set(key, backend);
    }
    const shared = backend;
    return {
      backend: shared.backend,
      model: shared.model,
      generate: (r, o) => shared.generate(r, o),
      score: (p, o) => shared.score(p, o),
      close: () => Promise.resolve(),
    };
  }

  async closeAll(): Promise<void> {
    const all = [...this.backends.values()];
    this.backends.clear();
    await Promise.all(all.map((b) => b.close()));
  }
}

/** every key at every depth, so JSON.stringify's key list sorts nested objects too */
function flatten(value: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out[k] = true;
      flatten(v, out);
    }
  }
  return out;
}
