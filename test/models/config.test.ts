import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/config-error';
import { parseModelBackendConfig, parseModelRoles } from '../../common/model-config';
import { ModelBackendCache } from '../../activities/models';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('model backend configs', () => {
  it('apply defaults', () => {
    expect(parseModelBackendConfig({ backend: 'openai', model: 'm' })).toMatchObject({ api: 'chat', maxConcurrency: 8, timeoutMs: 120_000 });
    expect(parseModelBackendConfig({ backend: 'onnx', task: 'causal-lm', modelDir: 'd' })).toMatchObject({ executionProvider: 'cpu', modelFile: 'model.onnx' });
    expect(parseModelBackendConfig({ backend: 'simulated' })).toMatchObject({ role: 'program', seed: 0, trained: { examples: 0 } });
  });

  it('name every bad field with its full path', () => {
    const text = message(() =>
      parseModelRoles({
        policy: { backend: 'openai', model: '', timeoutMs: 5, apiKeyEnv: 'not a var', temperatur: 1 },
        reward: { backend: 'onnx', task: 'regression', modelDir: 'd' },
      }),
    );
    expect(text).toContain('models.policy.model:');
    expect(text).toContain('models.policy.timeoutMs:');
    expect(text).toContain('models.policy.apiKeyEnv: must be an environment variable name');
    expect(text).toContain('models.policy.temperatur: unknown field');
    expect(text).toContain('models.reward.task:');
    expect(message(() => parseModelBackendConfig({ backend: 'vllm' }, 'models.refiner'))).toContain('models.refiner.backend:');
  });

  it('refuse an inline API key without echoing it', () => {
    const text = message(() => parseModelBackendConfig({ backend: 'openai', model: 'm', apiKey: 'sk-live-abcdef123456' }));
    expect(text).toContain('model.apiKey: API keys never go in configs');
    expect(text).not.toContain('sk-live-abcdef123456');
  });
});

describe('ModelBackendCache', () => {
  it('shares one backend per config regardless of key order, and handles ignore close()', async () => {
    const cache = new ModelBackendCache();
    const a = cache.get({ backend: 'simulated', seed: 1, trained: { steps: 1, examples: 2 } });
    const b = cache.get({ trained: { examples: 2, steps: 1 }, seed: 1, backend: 'simulated' });
    await a.close();
    expect(await b.generate({ prompt: 'p', taskId: '11' })).toEqual(await a.generate({ prompt: 'p', taskId: '11' }));
    expect((cache as unknown as { backends: Map<string, unknown> }).backends.size).toBe(1);
    await cache.closeAll();
  });
});
