import { describe, expect, it } from 'vitest';
import { differingLines, simulatedDiscriminate } from '../../loops/rlcf/activities/simulated-discriminator';
import { MBJP_SPLIT_SCHEMES, mbjpSplit } from '../../activities/datasets/mbjp-split';
import { selectTasks } from '../../activities/datasets/registry';
import { failedJavaProgram, simulatedJavaReference } from '../../activities/models/simulated/java-programs';
import { SeededRandom } from '../../activities/simulation/seeded-random';
import { ConfigError } from '../../common/config-error';
import { parseRlcfCampaignConfig } from '../../loops/rlcf/config';
import { RLCF_SPLITS } from '../../loops/rlcf/types';
import { uniqueQueues } from '../helpers/temporal';
import { rlcfConfig } from './helpers';

/** RLCF's config errors (every bad field named, one ConfigError), its data split and its SIMULATED parts. */
const base = () => rlcfConfig(uniqueQueues('rlcf-config')) as unknown as Record<string, unknown>;
const errorOf = (raw: unknown): string => {
  try {
    parseRlcfCampaignConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('RLCF config', () => {
  it('accepts the examples and fills in the paper-derived defaults', () => {
    const c = rlcfConfig(uniqueQueues('rlcf-config'));
    expect(c.grounding.reward).toEqual({ compileError: -1, staticCheckPenalty: -0.5, tests: 'bonus', testPassed: 0.5, testFailed: -0.5 });
    expect(c.grounding.staticChecks).toEqual({ version: 'rlcf-static-checks-v1', signature: true });
    expect(rlcfConfig(uniqueQueues('rlcf-config'), {}, 'rlcf-openai.yaml').grounding.discriminator).toEqual({ kind: 'llm', scoring: 'auto', topLogprobs: 5, maxTokens: 4 });
  });

  it('names every bad field at once', () => {
    const message = errorOf({
      ...base(),
      dataset: { split: 'random', mathqaEvalTasks: 5000 },
      sampling: { eval: { n: 2 }, ks: [1, 5] },
      grounding: { reward: { compileError: 1 }, discriminator: { kind: 'simulated', unscorableShare: 2 } },
    });
    expect(message).toContain('dataset.split');
    expect(message).toContain('dataset.mathqaEvalTasks');
    expect(message).toContain('grounding.reward.compileError');
    expect(message).toContain('grounding.discriminator.unscorableShare');
    expect(message).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('checks how the parts fit: ks against samples, the discriminator against its model', () => {
    expect(errorOf({ ...base(), sampling: { eval: { n: 2 }, ks: [1, 5] } })).toMatch(/sampling\.ks\.1: pass@5 needs at least 5 samples per task/);
    expect(errorOf({ ...base(), grounding: { discriminator: { kind: 'llm' } } })).toMatch(/models\.discriminator: the "llm" discriminator needs a model/);
    expect(errorOf({ ...base(), grounding: { discriminator: { kind: 'trained' } } })).toContain('grounding.discriminator.baseModel');
    expect(parseRlcfCampaignConfig({ ...base(), grounding: { discriminator: { kind: 'trained', baseModel: '/models/codebert' } } }).grounding.discriminator).toMatchObject({ kind: 'trained', retrainEvery: 1, scoring: { executionProvider: 'cpu' } });
    expect(errorOf({ ...base(), models: { policy: { backend: 'simulated' }, discriminator: { backend: 'openai', model: 'x' } } })).toMatch(/models\.discriminator: is only used by the "llm" discriminator/);
    expect(errorOf({ ...base(), models: { policy: { backend: 'simulated', role: 'judge' }, discriminator: { backend: 'openai', model: 'x', api: 'completions' } }, grounding: { discriminator: { kind: 'llm' } } })).toMatch(
      /models\.policy\.role: a simulated RLCF policy writes Java programs[\s\S]*models\.discriminator\.api: the discriminator prompt is chat messages/,
    );
    expect(errorOf({ ...base(), grounding: { discriminator: { kind: 'oracle' } } })).toContain('grounding.discriminator.kind');
  });

  it('trains on any registered Java dataset with references; with the tests replacing its score, the discriminator needs no model', () => {
    const synth = parseRlcfCampaignConfig({ ...base(), dataset: { name: 'synth-java', mathqaEvalTasks: 0 }, grounding: { discriminator: { kind: 'llm' }, reward: { tests: 'replace' } } });
    expect(synth.dataset).toMatchObject({ name: 'synth-java', train: 'train', test: 'test' });
    expect(synth.models.discriminator).toBeUndefined();
    // MathQA-Java has no references: evaluation only
    expect(errorOf({ ...base(), dataset: { name: 'mathqa-java' } })).toMatch(/dataset\.name/);
    // asked (tests as a bonus), the llm discriminator still needs its model
    expect(errorOf({ ...base(), dataset: { name: 'synth-java' }, grounding: { discriminator: { kind: 'llm' }, reward: { tests: 'bonus' } } })).toMatch(/models\.discriminator: the "llm" discriminator needs a model/);
    for (const split of ['train', 'test'] as const) {
      const tasks = selectTasks({ dataset: synth.dataset.name, split: synth.dataset[split], requireReference: true });
      expect(tasks.length).toBeGreaterThan(80);
      expect(tasks.every((t) => t.text && t.reference?.startsWith(t.prompt))).toBe(true);
    }
  });
});

describe('RLCF data split', () => {
  it('takes MBPP\'s split by task number: 321 training and 449 eval tasks with a passing reference, disjoint; known-broken never serve', () => {
    for (const scheme of ['mbpp', 'ilf'] as const) {
      expect(RLCF_SPLITS[scheme].train).toEqual(MBJP_SPLIT_SCHEMES[scheme].train);
      expect(RLCF_SPLITS[scheme].eval).toEqual(MBJP_SPLIT_SCHEMES[scheme].eval);
    }
    const train = selectTasks({ dataset: 'mbjp', split: 'train', taskRange: [...RLCF_SPLITS.mbpp.train], requireReference: true });
    const evalTasks = selectTasks({ dataset: 'mbjp', split: 'test', taskRange: [...RLCF_SPLITS.mbpp.eval], requireReference: true });
    expect([train.length, evalTasks.length]).toEqual([321, 449]);
    const split = mbjpSplit('mbpp');
    expect(train.map((t) => t.taskId)).toEqual(split.sets.train!.map((t) => t.taskId));
    expect(evalTasks.map((t) => t.taskId)).toEqual(split.sets.eval!.map((t) => t.taskId));
    expect(train.some((t) => evalTasks.some((e) => e.taskId === t.taskId))).toBe(false);
  });
});

describe('RLCF SIMULATED parts', () => {
  const ref = selectTasks({ dataset: 'mbjp', split: 'train', taskRange: [634, 634] })[0]!;

  it('breaks a reference in each of the ways the grounding stages catch, deterministically', () => {
    const kinds = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const a = failedJavaProgram(ref.reference!, ref.prompt, new SeededRandom('t', i));
      const b = failedJavaProgram(ref.reference!, ref.prompt, new SeededRandom('t', i));
      expect(a).toEqual(b);
      expect(a.program).not.toBe(ref.reference);
      expect(a.program.startsWith(ref.prompt)).toBe(true);
      kinds.add(a.outcome);
    }
    expect([...kinds].sort()).toEqual(['compile_error', 'runtime_error', 'static_check', 'wrong_answer']);
  });

  it('writes MathQA-Java "references" that return the value the test expects', () => {
    const program = simulatedJavaReference('MathQA/0', undefined, undefined)!;
    expect(program).toContain('return 128.96016000000077;');
    expect(simulatedJavaReference('MBJP/1', undefined, undefined)).toBeUndefined();
  });

  it('scores closeness to the reference, is seeded, and leaves a share unscorable', () => {
    const spec = { seed: 3, unscorableShare: 0 };
    const copy = simulatedDiscriminate(spec, ref.taskId, ref.reference!, ref.reference!);
    const far = simulatedDiscriminate(spec, ref.taskId, `${ref.prompt} return 0; } }`, ref.reference!);
    expect(copy.pYes!).toBeGreaterThan(0.8);
    expect(far.pYes!).toBeLessThan(copy.pYes!);
    expect(copy.simulated).toBe(true);
    expect(differingLines('a\nb', 'a\nc')).toBe(2);
    const verdicts = Array.from({ length: 200 }, (_, i) => simulatedDiscriminate({ seed: 3, unscorableShare: 0.1 }, ref.taskId, `${ref.reference} // ${i}`, ref.reference!));
    const unscorable = verdicts.filter((v) => v.pYes === null);
    expect(unscorable.length).toBeGreaterThan(5);
    expect(unscorable.length).toBeLessThan(40);
    for (const v of unscorable) expect(v.problem).toMatch(/SIMULATED/);
  });
});
