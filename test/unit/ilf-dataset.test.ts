import { describe, expect, it } from 'vitest';
import { findTask, promptTaskOf } from '../../activities/datasets/registry';
import { loadMbpp } from '../../activities/datasets/mbpp';
import { feedbackPrompt, refinementPrompt } from '../../activities/models/prompts';
import { learningConfig } from '../../cli/learning';
import { parseIlfCampaignConfig } from '../../loops/ilf/config';

const base = { algorithm: 'ilf', iterations: 1, models: { policy: { backend: 'simulated' } }, feedback: { source: 'dataset' }, refiner: { kind: 'dataset' } };

describe('ILF on any Python code dataset', () => {
  it('MBPP keeps the ILF paper splits, written out as before', () => {
    expect(parseIlfCampaignConfig(base).dataset).toEqual({ name: 'mbpp', splits: { refine: [111, 310], train: [311, 974], test: [11, 110] } });
    expect(parseIlfCampaignConfig({ ...base, dataset: { splits: { test: [11, 20] }, maxTestTasks: 3 } }).dataset).toEqual({
      name: 'mbpp',
      splits: { refine: [111, 310], train: [311, 974], test: [11, 20] },
      maxTestTasks: 3,
    });
  });

  it("another dataset takes its splits from its own split table; the released human data is MBPP's only", () => {
    const synth = { ...base, dataset: { name: 'synth' }, feedback: { source: 'llm' }, refiner: { kind: 'model' }, models: { policy: { backend: 'simulated' }, feedback: { backend: 'simulated' }, refiner: { backend: 'simulated' } } };
    expect(parseIlfCampaignConfig(synth).dataset).toEqual({ name: 'synth', splits: { refine: [259, 344], train: [259, 344], test: [345, 431] } });
    expect(() => parseIlfCampaignConfig({ ...base, dataset: { name: 'synth' } })).toThrow(/feedback\.source[\s\S]*MBPP only[\s\S]*refiner\.kind/);
    expect(() => parseIlfCampaignConfig({ ...base, dataset: { name: 'mbjp' } })).toThrow(/dataset\.name/);
  });

  it("MBPP's prompts are byte-identical through the registry's task; the family's show its words and tests", () => {
    const t = loadMbpp().find((x) => x.taskId === 11)!;
    const viaRegistry = promptTaskOf(findTask('mbpp', '11')!);
    expect(feedbackPrompt(viaRegistry, 'def f(): pass', 'failed')).toBe(feedbackPrompt(t, 'def f(): pass', 'failed'));
    expect(refinementPrompt(viaRegistry, 'def f(): pass', 'fix it')).toBe(refinementPrompt(t, 'def f(): pass', 'fix it'));
    const s = findTask('synth', 'Synth/345')!;
    expect(refinementPrompt(promptTaskOf(s), 'x', 'y')).toContain(`# Example test: ${s.tests.split('\n')[0]}`);
  });

  it('examples/ilf-learning.yaml parses, with its reduced form and its control', () => {
    const c = learningConfig('ilf', { seed: 2, control: true, reduced: true, modelsDir: '/m' }) as ReturnType<typeof parseIlfCampaignConfig>;
    expect(c.dataset.name).toBe('synth');
    expect(c.refiner.filter).toBe('none');
    expect(c.models.policy).toMatchObject({ backend: 'onnx', modelDir: '/m/synth-policy/onnx' });
    expect(c.seed).toBe(2);
  });
});
