import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createModelBackend, MODEL_FAILURE, type ModelBackendConfigInput } from '../../activities/models';
import type { GenerateRequest } from '../../activities/models/types';
import { FakeOpenAIServer } from './fake-openai-server';
import type { generateWithRetries } from './workflows';

const KEY = 'sk-test-0123456789abcdef';
const env = { FEEDLOOP_TEST_OPENAI_KEY: KEY };

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await new FakeOpenAIServer({ apiKey: KEY, models: ['tiny-base'] }).start();
});
afterAll(async () => {
  await server.stop();
});

function config(over: Partial<Extract<ModelBackendConfigInput, { backend: 'openai' }>> = {}): ModelBackendConfigInput {
  return { backend: 'openai', baseUrl: server.baseURL, model: 'tiny-base', apiKeyEnv: 'FEEDLOOP_TEST_OPENAI_KEY', ...over };
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('openai backend: requests over the real protocol', () => {
  it('chat: forwards n, temperature, top_p, max_tokens, stop and seed, maps samples and logprobs', async () => {
    const backend = createModelBackend(config(), env);
    const before = server.requests.length;
    const result = await backend.generate({
      messages: [{ role: 'user', content: 'write add END here' }],
      n: 3,
      temperature: 0.7,
      topP: 0.9,
      maxTokens: 50,
      stop: ['END'],
      seed: 7,
      topLogprobs: 2,
      sampleIndexStart: 10,
    });
    const sent = server.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/v1/chat/completions');
    expect(sent[0]!.authorization).toBe(`Bearer ${KEY}`);
    expect(sent[0]!.body).toMatchObject({ model: 'tiny-base', n: 3, temperature: 0.7, top_p: 0.9, max_tokens: 50, stop: ['END'], seed: 7, logprobs: true, top_logprobs: 2 });
    expect(result.samples.map((s) => s.index)).toEqual([10, 11, 12]);
    expect(result.samples.map((s) => s.text)).toEqual(['7/0: write add ', '7/1: write add ', '7/2: write add ']);
    expect(result.samples[0]!.finishReason).toBe('stop');
    expect(result.samples[0]!.meta).toMatchObject({ backend: 'openai', model: 'tiny-base', seed: 7 });
    const lp = result.samples[1]!.logprobs!;
    expect(lp.map((t) => t.token)).toEqual(['7/1: ', 'write ', 'add ']);
    expect(lp[2]!.logprob).toBeCloseTo(-0.3, 10);
    expect(lp[2]!.top).toEqual([
      { token: 'add ', logprob: expect.closeTo(-0.3, 10) as number },
      { token: 'alt1', logprob: expect.closeTo(-1.3, 10) as number },
    ]);
    expect(result.usage?.completionTokens).toBe(9);
  });

  it('completions: a server that ignores n gets one request per sample with distinct seeds; max_tokens ends with length', async () => {
    const backend = createModelBackend(config({ api: 'completions', samplesPerRequest: 1 }), env);
    const before = server.requests.length;
    const result = await backend.generate({ prompt: 'def add(a, b): return a + b', n: 3, seed: 100, maxTokens: 3, logprobs: true });
    const sent = server.requests.slice(before);
    expect(sent.map((r) => r.path)).toEqual(Array(3).fill('/v1/completions'));
    expect(sent.map((r) => (r.body as { seed: number }).seed).sort()).toEqual([100, 101, 102]);
    expect(sent.every((r) => (r.body as { n: number }).n === 1)).toBe(true);
    expect(result.samples.map((s) => [s.index, s.text, s.finishReason])).toEqual([
      [0, '100/0: def add(a, ', 'length'],
      [1, '101/0: def add(a, ', 'length'],
      [2, '102/0: def add(a, ', 'length'],
    ]);
    expect(result.samples[0]!.logprobs!.map((t) => t.logprob)).toEqual([-0.1, -0.2, expect.closeTo(-0.3, 10)]);
  });

  it('keeps at most maxConcurrency requests in flight', async () => {
    const backend = createModelBackend(config({ maxConcurrency: 2 }), env);
    server.inject('POST', /chat\/completions$/, { delayMs: 150 }, 6);
    server.maxInFlight = 0;
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => backend.generate({ prompt: `p${i}` })));
    expect(results).toHaveLength(6);
    expect(server.maxInFlight).toBe(2);
  });

  it('selects a vLLM LoRA adapter by name, loading it at runtime once', async () => {
    const missing = createModelBackend(config({ adapter: { name: 'ilf-iter-1' } }), env);
    const notFound = await failureOf(missing.generate({ prompt: 'x' }));
    expect(notFound.type).toBe(MODEL_FAILURE.notFound);
    expect(notFound.nonRetryable).toBe(true);

    const backend = createModelBackend(config({ adapter: { name: 'ilf-iter-1', path: '/ckpt/ilf-iter-1' } }), env);
    const before = server.requests.length;
    await backend.generate({ prompt: 'a' });
    await backend.generate({ prompt: 'b' });
    const sent = server.requests.slice(before);
    expect(sent.map((r) => r.path)).toEqual(['/v1/load_lora_adapter', '/v1/chat/completions', '/v1/chat/completions']);
    expect(sent[0]!.body).toEqual({ lora_name: 'ilf-iter-1', lora_path: '/ckpt/ilf-iter-1' });
    expect((sent[1]!.body as { model: string }).model).toBe('ilf-iter-1');
    // Another worker's backend finds it already loaded (vLLM answers 400) and goes on.
    const other = createModelBackend(config({ adapter: { name: 'ilf-iter-1', path: '/ckpt/ilf-iter-1' } }), env);
    expect((await other.generate({ prompt: 'c' })).samples[0]!.text).toBe('none/0: c');
  });
});

describe('openai backend: errors map onto Temporal retries', () => {
  it('429 is retryable with the server Retry-After as next delay, and the client did not retry by itself', async () => {
    const backend = createModelBackend(config(), env);
    server.inject('POST', /chat\/completions$/, { status: 429, message: 'Rate limit reached', headers: { 'retry-after': '2' } });
    const before = server.count('POST', /chat\/completions$/);
    const failure = await failureOf(backend.generate({ prompt: 'x' }));
    expect(server.count('POST', /chat\/completions$/) - before).toBe(1);
    expect(failure.type).toBe(MODEL_FAILURE.rateLimited);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(2000);
    expect(failure.message).toContain('Rate limit reached');
  });

  it('500 is retryable, once', async () => {
    const backend = createModelBackend(config(), env);
    server.inject('POST', /chat\/completions$/, { status: 500, message: 'engine crashed' });
    const before = server.count('POST', /chat\/completions$/);
    const failure = await failureOf(backend.generate({ prompt: 'x' }));
    expect(server.count('POST', /chat\/completions$/) - before).toBe(1);
    expect(failure).toMatchObject({ type: MODEL_FAILURE.serverError, nonRetryable: false });
    expect(failure.message).toContain('engine crashed');
  });

  it('a slow response times out on the client as a retryable failure', async () => {
    const backend = createModelBackend(config({ timeoutMs: 300 }), env);
    server.inject('POST', /chat\/completions$/, { delayMs: 3000 });
    const started = Date.now();
    const failure = await failureOf(backend.generate({ prompt: 'x' }));
    expect(Date.now() - started).toBeLessThan(2500);
    expect(failure).toMatchObject({ type: MODEL_FAILURE.timeout, nonRetryable: false });
  });

  it.each([
    [400, MODEL_FAILURE.badRequest],
    [403, MODEL_FAILURE.permission],
    [404, MODEL_FAILURE.notFound],
  ])('%i fails at once, non-retryable, with the server message', async (status, type) => {
    const backend = createModelBackend(config(), env);
    server.inject('POST', /chat\/completions$/, { status, message: `server says ${status}` });
    const failure = await failureOf(backend.generate({ prompt: 'x' }));
    expect(failure).toMatchObject({ type, nonRetryable: true });
    expect(failure.message).toContain(`server says ${status}`);
    expect(failure.message).toContain(server.baseURL);
  });

  it('401 is non-retryable and the key the server echoed never reaches the failure', async () => {
    const wrong = 'sk-wrong-key-must-not-leak-42';
    const backend = createModelBackend(config(), { FEEDLOOP_TEST_OPENAI_KEY: wrong });
    const failure = await failureOf(backend.generate({ prompt: 'x' }));
    expect(failure).toMatchObject({ type: MODEL_FAILURE.authentication, nonRetryable: true });
    expect(failure.message).toContain('Incorrect API key provided');
    expect(JSON.stringify({ message: failure.message, details: failure.details, stack: failure.stack })).not.toContain(wrong);
  });

  it('a missing key variable is a config failure naming the variable, not its value', () => {
    let thrown: unknown;
    try {
      createModelBackend(config({ apiKeyEnv: 'FEEDLOOP_NOT_SET_ANYWHERE' }), {});
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect(thrown).toMatchObject({ type: MODEL_FAILURE.config, nonRetryable: true });
    expect((thrown as Error).message).toContain('FEEDLOOP_NOT_SET_ANYWHERE');
  });

  it('score is not an openai operation', async () => {
    const failure = await failureOf(createModelBackend(config(), env).score([{ prompt: 'p', program: 'x' }]));
    expect(failure).toMatchObject({ type: MODEL_FAILURE.unsupported, nonRetryable: true });
  });
});

describe('openai backend under a real Temporal worker', () => {
  it('retries a 429 through Temporal, after the server Retry-After, and the history shows both attempts', async () => {
    const address = inject('temporalAddress');
    const taskQueue = `models-openai-${Date.now()}`;
    const attempts: { attempt: number; at: number }[] = [];
    const connection = await NativeConnection.connect({ address });
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowsPath: path.join(__dirname, 'workflows.ts'),
      activities: {
        async generateOnce(cfg: ModelBackendConfigInput, request: GenerateRequest) {
          const { attempt } = Context.current().info;
          attempts.push({ attempt, at: Date.now() });
          const result = await createModelBackend(cfg, env).generate(request, { signal: Context.current().cancellationSignal });
          return { texts: result.samples.map((s) => s.text), attempt };
        },
      },
    });
    const clientConnection = await Connection.connect({ address });
    const client = new Client({ connection: clientConnection });
    server.inject('POST', /chat\/completions$/, { status: 429, message: 'slow down', headers: { 'retry-after': '2' } });
    const workflowId = `openai-429-${Date.now()}`;
    try {
      const result = await worker.runUntil(
        client.workflow.execute<typeof generateWithRetries>('generateWithRetries', { taskQueue, workflowId, args: [config(), { prompt: 'hello', seed: 1 }] }),
      );
      expect(result).toEqual({ texts: ['1/0: hello'], attempt: 2 });
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
      // The retry policy's interval is 100 ms: the 2 s wait came from Retry-After.
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1900);
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const started = history.events?.find((e) => e.activityTaskStartedEventAttributes);
      expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(2);
      expect(started?.activityTaskStartedEventAttributes?.lastFailure?.applicationFailureInfo?.type).toBe(MODEL_FAILURE.rateLimited);
      expect(JSON.stringify(history)).not.toContain(KEY);
    } finally {
      await clientConnection.close();
      await connection.close();
    }
  });
});
