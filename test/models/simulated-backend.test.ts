import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createModelBackend, MODEL_FAILURE, type ModelBackendConfigInput } from '../../activities/models';
import { goldProgram, recordedFailure } from '../../activities/models/simulated/programs';

const TASKS = Array.from({ length: 60 }, (_, i) => String(i + 11)); // MBPP test split ids 11..70

async function passRate(config: ModelBackendConfigInput, n = 10): Promise<number> {
  const backend = createModelBackend(config);
  let gold = 0;
  let total = 0;
  for (const taskId of TASKS) {
    const { samples } = await backend.generate({ prompt: 'p', taskId, n });
    for (const s of samples) {
      total++;
      if (s.meta.outcome === 'gold') gold++;
    }
  }
  return gold / total;
}

describe('simulated backend', () => {
  it('is deterministic in (seed, task, sample index, checkpoint) and labels every output', async () => {
    const backend = createModelBackend({ backend: 'simulated', seed: 5 });
    const a = await backend.generate({ prompt: 'p', taskId: '12', n: 6 });
    const b = await backend.generate({ prompt: 'p', taskId: '12', n: 6 });
    expect(b).toEqual(a);
    const retried = await backend.generate({ prompt: 'p', taskId: '12', n: 2, sampleIndexStart: 4 });
    expect(retried.samples).toEqual(a.samples.slice(4));
    for (const s of a.samples) expect(s.meta).toMatchObject({ backend: 'simulated', simulated: true, model: 'simulated-base' });
    const mine = await backend.generate({ prompt: 'p', taskId: '12', n: 20 });
    const otherSeed = await createModelBackend({ backend: 'simulated', seed: 6 }).generate({ prompt: 'p', taskId: '12', n: 20 });
    expect(otherSeed.samples.map((s) => s.text)).not.toEqual(mine.samples.map((s) => s.text));
  });

  it('draws gold programs or real failures: recorded CodeGen programs or corrupted gold', async () => {
    const { samples } = await createModelBackend({ backend: 'simulated' }).generate({ prompt: 'p', taskId: '11', n: 40 });
    const gold = goldProgram('11')!;
    const recorded = recordedFailure('11');
    for (const s of samples) {
      if (s.meta.outcome === 'gold') expect(s.text).toBe(gold);
      else if (s.meta.outcome === 'recorded-bad') expect(s.text).toBe(recorded!.badProgram);
      else {
        expect(s.meta.outcome).toBe('corrupted');
        expect(s.text).not.toBe(gold);
      }
    }
    expect(new Set(samples.map((s) => s.meta.outcome)).size).toBeGreaterThanOrEqual(2);
  });

  it('gets better with training, monotonically per sample', async () => {
    const untrained = await passRate({ backend: 'simulated', seed: 1 });
    const trained = await passRate({ backend: 'simulated', seed: 1, trained: { steps: 500, examples: 4000 } });
    expect(untrained).toBeLessThan(0.3);
    expect(trained).toBeGreaterThan(untrained + 0.3);
    const before = await createModelBackend({ backend: 'simulated', seed: 1 }).generate({ prompt: 'p', taskId: '20', n: 30 });
    const after = await createModelBackend({ backend: 'simulated', seed: 1, trained: { examples: 4000 } }).generate({ prompt: 'p', taskId: '20', n: 30 });
    before.samples.forEach((s, i) => {
      if (s.meta.outcome === 'gold') expect(after.samples[i]!.meta.outcome).toBe('gold');
    });
  });

  it('plays the feedback LLM with the ILF human feedback, the judge with Yes/No logprobs, and the reward model', async () => {
    const feedback = await createModelBackend({ backend: 'simulated', role: 'feedback' }).generate({ prompt: 'why?', taskId: '1' });
    expect(feedback.samples[0]!.text).toBe(recordedFailure('1')!.feedback);

    const judge = await createModelBackend({ backend: 'simulated', role: 'judge' }).generate({ prompt: 'Is the API call correct?', n: 20, topLogprobs: 2 });
    const top = judge.samples[0]!.logprobs![0]!.top!;
    expect(top.map((t) => t.token)).toEqual(['Yes', 'No']);
    expect(Math.exp(top[0]!.logprob) + Math.exp(top[1]!.logprob)).toBeCloseTo(1, 10);
    expect(new Set(judge.samples.map((s) => s.text))).toEqual(new Set(['Yes', 'No']));

    const rm = createModelBackend({ backend: 'simulated', role: 'reward', trained: { examples: 100000 } });
    const gold = goldProgram('15')!;
    const [good, bad] = await rm.score([
      { prompt: 'p', program: gold, taskId: '15' },
      { prompt: 'p', program: 'def f():\n    pass', taskId: '15' },
    ]);
    expect(good!).toBeGreaterThan(bad! + 0.5);
  });

  it('refuses what it cannot simulate, without retry', async () => {
    const err = await createModelBackend({ backend: 'simulated' })
      .generate({ prompt: 'p', taskId: 'not-a-task' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: MODEL_FAILURE.badRequest, nonRetryable: true });
    const unsupported = await createModelBackend({ backend: 'simulated' })
      .score([{ prompt: 'p', program: 'x' }])
      .catch((e: unknown) => e);
    expect(unsupported).toMatchObject({ type: MODEL_FAILURE.unsupported });
  });
});
