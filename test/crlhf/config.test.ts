import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/config-error';
import { parseCrlhfCampaignConfig } from '../../loops/crlhf/config';
import { crlhfEvalDatasets } from '../../loops/crlhf/types';
import { loopNamed } from '../../loops/registry';
import { exampleCrlhfRaw } from './helpers';

/** The cRLHF config: the example parses; bad fields are named, every one, in one ConfigError. */
const withCrowd = (crowd: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
  const raw = exampleCrlhfRaw();
  return { ...raw, ...extra, crowd: { ...(raw.crowd as Record<string, unknown>), ...crowd } };
};
const problems = (raw: unknown) => {
  try {
    parseCrlhfCampaignConfig(raw, 'in test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('cRLHF config', () => {
  it('parses the dry-run example and is found by its algorithm', () => {
    const c = parseCrlhfCampaignConfig(exampleCrlhfRaw());
    expect(c).toMatchObject({ algorithm: 'crlhf', iterations: 3, crowd: { k: 3, quorum: 0.8 }, consensus: { method: 'consensus', minLabels: 2, prior: 'estimated' } });
    expect(c.crowd.simulated!.annotators.map((a) => a.behaviour)).toContain('always-correct');
    expect(loopNamed('crlhf').name).toBe('crlhf');
  });

  it('trains and evaluates on any Python code dataset; evaluation datasets keep a fixed order', () => {
    const c = parseCrlhfCampaignConfig({ ...exampleCrlhfRaw(), dataset: { train: { dataset: 'humaneval', split: 'test' }, eval: { mbpp: { maxTasks: 3 } } }, honeypots: { dataset: 'humaneval', split: 'test' } });
    expect(c.dataset.eval).toEqual({ mbpp: { maxTasks: 3 } });
    expect(crlhfEvalDatasets(c.dataset.eval)).toEqual(['mbpp']);
    expect(crlhfEvalDatasets({ zeta: {}, mbpp: {}, alpha: {}, humaneval: {} })).toEqual(['humaneval', 'mbpp', 'alpha', 'zeta']);
    expect(crlhfEvalDatasets(undefined)).toEqual(['humaneval', 'mbpp']);
    const { dataset: _dataset, ...withoutDataset } = exampleCrlhfRaw();
    expect(parseCrlhfCampaignConfig(withoutDataset).dataset.eval).toEqual({ humaneval: {}, mbpp: {} });
    const message = problems({ ...exampleCrlhfRaw(), dataset: { train: { dataset: 'mbjp' }, eval: {} }, honeypots: { dataset: 'mathqa-java' } });
    expect(message).toMatch(/dataset\.train\.dataset: /);
    expect(message).toMatch(/dataset\.eval: name at least one dataset to evaluate on/);
    expect(message).toMatch(/honeypots\.dataset: /);
    expect(problems({ ...exampleCrlhfRaw(), dataset: { eval: { mbjp: {} } } })).toMatch(/dataset\.eval\.mbjp/);
  });

  it('names every bad field', () => {
    const message = problems({ ...withCrowd({ annotators: ['ana', 'bad name'], k: 0 }), consensus: { method: 'median' } });
    expect(message).toMatch(/^invalid campaign config in test\.yaml/);
    expect(message).toMatch(/crowd\.annotators\.1: must be 1-64 letters/);
    expect(message).toMatch(/crowd\.k: /);
    expect(message).toContain('consensus.method');
    expect(problems(withCrowd({ annotators: ['ana', 'ben', 'chen', 'dita', 'spam', 'sam', 'yes', 'ana'] }))).toContain('crowd.annotators.7: lists ana twice');
    expect(problems(withCrowd({ k: 9 }))).toContain('crowd.k: 9 annotators per item but only 7 annotator(s) listed');
    expect(problems({ ...exampleCrlhfRaw(), consensus: { minLabels: 4 } })).toContain('consensus.minLabels: needs 4 labels per item but each item goes to k = 3');
    expect(problems({ ...exampleCrlhfRaw(), honeypots: { mutants: 0, gold: 0 } })).toContain('honeypots: needs at least one honeypot');
    expect(problems(withCrowd({ deadline: 'soon' }))).toMatch(/crowd\.deadline: must be a duration like 30s/);
    expect(problems({ ...exampleCrlhfRaw(), sampling: { eval: { n: 2, ks: [1, 5] } } })).toContain('sampling.eval.ks: pass@5 needs at least 5 samples per task (n is 2)');
  });

  it('checks the simulated crowd against the annotators', () => {
    const message = problems(
      withCrowd({
        annotators: ['ana', 'ben'],
        simulated: { annotators: [{ name: 'ana', behaviour: 'reliable' }, { name: 'zed', behaviour: 'spammer', reliability: 0.6 }] },
      }),
    );
    expect(message).toContain('crowd.simulated.annotators.0.reliability: a reliable simulated annotator needs a reliability');
    expect(message).toContain('crowd.simulated.annotators.1.name: zed is not in crowd.annotators');
    expect(message).toContain('crowd.simulated.annotators.1.reliability: a spammer does not take a reliability');
    expect(message).toContain('crowd.annotators.1: ben has no simulated behaviour');
  });
});
