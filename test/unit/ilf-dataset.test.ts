import { describe, expect, it } from 'vitest';
import { familyTaskOf, registeredFamily } from '../../activities/datasets/synthetic';
import { loadMbpp } from '../../activities/datasets/mbpp';
import { refinementPrompt } from '../../activities/models/prompts';
import { familyPromptTask } from '../../cli/teacher';
import { learningConfig } from '../../cli/learning';
import { parseIlfCampaignConfig } from '../../loops/ilf/config';
import { ilfTasksOf } from '../../loops/ilf/activities/tasks';

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
    expect(() => parseIlfCampaignConfig({ ...base, dataset: { name: 'synth' } })).toThrow(/feedback\.source[\s\S]*dataset\.name synth[\s\S]*refiner\.kind/);
    expect(() => parseIlfCampaignConfig({ ...base, dataset: { name: 'mbjp' } })).toThrow(/dataset\.name/);
  });

  it("ILF reads MBPP's tasks as before, and the family's with its words and tests: the prompts the teacher was trained on", () => {
    const mbpp = ilfTasksOf('mbpp').get('11')!;
    const t = loadMbpp().find((x) => x.taskId === 11)!;
    expect(mbpp).toMatchObject({ text: t.text, testList: t.testList, code: t.code });
    const family = registeredFamily();
    const synth = ilfTasksOf('synth').get('Synth/345')!;
    const prompt = (task: { text: string; testList: readonly string[] }) => refinementPrompt(task, 'x', 'y');
    expect(prompt(synth)).toBe(prompt(familyPromptTask(familyTaskOf('Synth/345', family)!)));
    expect(prompt(synth)).toContain(`# Example test: ${synth.tests.split('\n')[0]}`);
  });

  it('examples/ilf-learning.yaml parses, with its reduced form and its control', () => {
    const c = learningConfig('ilf', { seed: 2, control: true, reduced: true, models: { policy: '/m/p', teacher: '/m/t' } }) as ReturnType<typeof parseIlfCampaignConfig>;
    expect(c.dataset.name).toBe('synth');
    expect(c.refiner).toMatchObject({ filter: 'shuffled', feedback: 'shuffled' });
    expect(c.models.policy).toMatchObject({ backend: 'onnx', modelDir: '/m/p/onnx' });
    expect(c.models.refiner).toMatchObject({ backend: 'onnx', modelDir: '/m/t/onnx' });
    expect(c.seed).toBe(2);
  });
});
