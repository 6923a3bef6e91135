import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelBackend, type ModelBackend } from '../../activities/models';
import { chatPrompt, startOnnxOpenAiServer, type OnnxOpenAiServer } from '../../activities/models/onnx/openai-server';

/**
 * feedloop's OpenAI-compatible server over the onnx backend (RLAIF's tiny judge), on the tiny
 * ONNX fixture model: the `openai` backend samples it through the `openai` package with n,
 * logprobs and a seed, and its greedy output equals the onnx backend's own; bad requests get 400s.
 */
const FIXTURE = path.join(__dirname, '..', 'fixtures', 'onnx', 'causal-lm-with-past');
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, '..', 'expected.json'), 'utf8')) as { greedy: { prompt: string; maxTokens: number; text: string }[] };
let server: OnnxOpenAiServer;
const backends: ModelBackend[] = [];
const open = (api: 'chat' | 'completions') => {
  const b = createModelBackend({ backend: 'openai', baseUrl: server.baseUrl, model: 'fixture', api } as never);
  backends.push(b);
  return b;
};

beforeAll(async () => {
  server = await startOnnxOpenAiServer({ modelDir: FIXTURE, name: 'fixture' });
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await server?.close();
});

describe('the onnx OpenAI-compatible server', () => {
  it('completions: greedy equals the onnx backend; n samples with logprobs, the same for the same seed', async () => {
    const g = expected.greedy[0]!;
    const direct = createModelBackend({ backend: 'onnx', task: 'causal-lm', modelDir: FIXTURE });
    backends.push(direct);
    const [mine] = (await direct.generate({ prompt: g.prompt, temperature: 0, maxTokens: g.maxTokens })).samples;
    const [served] = (await open('completions').generate({ prompt: g.prompt, temperature: 0, maxTokens: g.maxTokens })).samples;
    expect(served!.text).toBe(mine!.text);
    expect(served!.text).toBe(g.text);

    const req = { prompt: g.prompt, n: 3, temperature: 1, maxTokens: 8, seed: 11, topLogprobs: 2 };
    const a = await open('completions').generate(req);
    const b = await open('completions').generate(req);
    expect(a.samples).toHaveLength(3);
    expect(b.samples.map((s) => s.text)).toEqual(a.samples.map((s) => s.text));
    for (const s of a.samples) {
      expect(s.logprobs!.length).toBeGreaterThan(0);
      expect(s.logprobs![0]!.top).toHaveLength(2);
    }
  });

  it('chat: messages through the plain template, logprobs with top alternatives', async () => {
    const messages = [{ role: 'user' as const, content: 'Is this right?' }];
    const [s] = (await open('chat').generate({ messages, temperature: 0, maxTokens: 4, logprobs: true, topLogprobs: 3 })).samples;
    const direct = createModelBackend({ backend: 'onnx', task: 'causal-lm', modelDir: FIXTURE });
    backends.push(direct);
    const [d] = (await direct.generate({ prompt: chatPrompt(messages), temperature: 0, maxTokens: 4 })).samples;
    expect(s!.text).toBe(d!.text);
    expect(s!.logprobs![0]!.top).toHaveLength(3);
  });

  it('bad requests: 400 with the field named; an unknown model is 404', async () => {
    const post = (route: string, body: unknown) => fetch(`${server.baseUrl}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const noPrompt = await post('completions', { model: 'fixture' });
    expect(noPrompt.status).toBe(400);
    expect(((await noPrompt.json()) as { error: { message: string } }).error.message).toMatch(/^prompt:/);
    const badN = await post('completions', { prompt: 'x', n: 0 });
    expect(((await badN.json()) as { error: { message: string } }).error.message).toMatch(/^n:/);
    expect((await post('chat/completions', { messages: [] })).status).toBe(400);
    expect((await post('completions', { model: 'other', prompt: 'x' })).status).toBe(404);
    const models = (await (await fetch(`${server.baseUrl}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['fixture']);
  });
});
