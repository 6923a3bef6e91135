import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelBackend, MODEL_FAILURE, type ModelBackend } from '../../activities/models';

/**
 * The onnx backend on CPU against the tiny real ONNX models of test/fixtures/onnx (built by
 * scripts/build-tiny-onnx.py). expected.json holds what an independent numpy implementation of
 * the same models computes: the greedy generations and reward scores must match it exactly.
 */
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'onnx');

interface Expected {
  eosTokenId: number;
  greedy: { prompt: string; maxTokens: number; text: string; tokenIds: number[]; logprobs: number[]; finishReason: 'stop' | 'length' }[];
  rewardScores: { prompt: string; program: string; ids: number[]; score: number }[];
}
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

const opened: ModelBackend[] = [];
function lm(variant: 'causal-lm' | 'causal-lm-with-past'): ModelBackend {
  const b = createModelBackend({ backend: 'onnx', task: 'causal-lm', modelDir: path.join(FIXTURES, variant) });
  opened.push(b);
  return b;
}
function rm(batchSize = 8): ModelBackend {
  const b = createModelBackend({ backend: 'onnx', task: 'sequence-classification', modelDir: path.join(FIXTURES, 'reward-model'), batchSize });
  opened.push(b);
  return b;
}
afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
});

describe.each(['causal-lm', 'causal-lm-with-past'] as const)('onnx causal LM (%s)', (variant) => {
  const backend = lm(variant);

  it('greedy generation equals the numpy reference, token for token, with logprobs', async () => {
    expect(expected.greedy.some((g) => g.finishReason === 'stop') && expected.greedy.some((g) => g.finishReason === 'length')).toBe(true);
    for (const g of expected.greedy) {
      const { samples } = await backend.generate({ prompt: g.prompt, temperature: 0, maxTokens: g.maxTokens, logprobs: true, n: 2 });
      for (const s of samples) {
        expect(s.text).toBe(g.text);
        expect(s.finishReason).toBe(g.finishReason);
        expect(s.logprobs!.map((t) => t.logprob)).toEqual(g.logprobs.map((v) => expect.closeTo(v, 4) as number));
        expect(s.meta).toMatchObject({ backend: 'onnx', tokens: g.tokenIds.length });
      }
    }
  });

  it('stop sequences cut the text and end the sample', async () => {
    const g = expected.greedy.find((x) => x.text.length > 6)!;
    const stop = g.text.slice(3, 5);
    const { samples } = await backend.generate({ prompt: g.prompt, temperature: 0, maxTokens: g.maxTokens, stop: [stop] });
    expect(samples[0]!.text).toBe(g.text.slice(0, g.text.indexOf(stop)));
    expect(samples[0]!.finishReason).toBe('stop');
  });

  it('sampling is seeded: same (seed, sample index) gives the same text, and top_p near 0 is greedy', async () => {
    const prompt = expected.greedy[1]!.prompt;
    const a = await backend.generate({ prompt, temperature: 1.5, topP: 1, maxTokens: 10, n: 4, seed: 11 });
    const b = await backend.generate({ prompt, temperature: 1.5, topP: 1, maxTokens: 10, n: 4, seed: 11 });
    expect(b.samples.map((s) => s.text)).toEqual(a.samples.map((s) => s.text));
    expect(new Set(a.samples.map((s) => s.text)).size).toBeGreaterThan(1);
    // A retried request for samples 2..3 alone draws the same two samples.
    const tail = await backend.generate({ prompt, temperature: 1.5, topP: 1, maxTokens: 10, n: 2, seed: 11, sampleIndexStart: 2 });
    expect(tail.samples.map((s) => [s.index, s.text])).toEqual(a.samples.slice(2).map((s) => [s.index, s.text]));
    const other = await backend.generate({ prompt, temperature: 1.5, topP: 1, maxTokens: 10, n: 4, seed: 12 });
    expect(other.samples.map((s) => s.text)).not.toEqual(a.samples.map((s) => s.text));
    const nucleus = await backend.generate({ prompt, temperature: 1.5, topP: 1e-6, maxTokens: expected.greedy[1]!.maxTokens, seed: 3 });
    expect(nucleus.samples[0]!.text).toBe(expected.greedy[1]!.text);
  });

  it('top logprobs list the most likely alternatives, the greedy token first', async () => {
    const g = expected.greedy[0]!;
    const { samples } = await backend.generate({ prompt: g.prompt, temperature: 0, maxTokens: 2, topLogprobs: 3 });
    const first = samples[0]!.logprobs![0]!;
    expect(first.top).toHaveLength(3);
    expect(first.top![0]).toEqual({ token: first.token, logprob: first.logprob });
    expect(first.top![1]!.logprob).toBeLessThanOrEqual(first.top![0]!.logprob);
  });
});

describe('onnx reward model', () => {
  it('scores (prompt, program) pairs exactly as the numpy reference', async () => {
    const scores = await rm().score(expected.rewardScores.map((s) => ({ prompt: s.prompt, program: s.program })));
    expect(scores).toEqual(expected.rewardScores.map((s) => expect.closeTo(s.score, 5) as number));
    // the pair order matters to this model, so a swapped pair must not score the same
    expect(scores[0]).not.toBeCloseTo(scores[2]!, 5);
  });

  it('padding in a batch does not change a score', async () => {
    const pairs = expected.rewardScores.map((s) => ({ prompt: s.prompt, program: s.program }));
    const batched = await rm(4).score(pairs);
    const single = await rm(1).score(pairs);
    expect(batched).toEqual(single.map((v) => expect.closeTo(v, 5) as number));
  });
});

describe('onnx backend errors', () => {
  async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }

  it('a missing model directory is a non-retryable config failure naming the file', async () => {
    const f = await failure(
      createModelBackend({ backend: 'onnx', task: 'causal-lm', modelDir: '/nonexistent/model' }).generate({ prompt: 'x' }),
    );
    expect(f).toMatchObject({ type: MODEL_FAILURE.config, nonRetryable: true });
    expect(f.message).toContain('/nonexistent/model/model.onnx');
  });

  it('the CUDA provider on a host without its binaries fails clearly instead of silently using the CPU', async () => {
    const backend = createModelBackend({ backend: 'onnx', task: 'causal-lm', modelDir: path.join(FIXTURES, 'causal-lm'), executionProvider: 'cuda' });
    const f = await failure(backend.generate({ prompt: 'x', maxTokens: 1 }));
    expect(f).toMatchObject({ type: MODEL_FAILURE.config, nonRetryable: true });
    expect(f.message).toContain('README-gpu.md');
  });

  it('a generator cannot score and a classifier cannot generate', async () => {
    expect(await failure(lm('causal-lm').score([{ prompt: 'a', program: 'b' }]))).toMatchObject({ type: MODEL_FAILURE.unsupported });
    expect(await failure(rm().generate({ prompt: 'a' }))).toMatchObject({ type: MODEL_FAILURE.unsupported });
  });

  it('a config error names the field', () => {
    let err: unknown;
    try {
      createModelBackend({ backend: 'onnx', task: 'causal-lm', modelDir: 'x', executionProvider: 'tpu' } as never);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/model\.executionProvider: /);
  });
});
