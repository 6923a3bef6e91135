import { describe, expect, it } from 'vitest';
import { apiBenchQuestion, codeOfAnswer, isHeldOut, loadApiBenchFile, rolloutBatch, selectQuestions } from '../../activities/datasets/apibench';
import { astMatch } from '../../activities/metrics/ast-match/index';
import { checkExecutability, runsNotMeasured } from '../../activities/metrics/executability';
import { createModelBackend } from '../../activities/models/index';
import { parseCampaignConfig } from '../../loops/config-file';
import { parseRlaifCampaignConfig } from '../../loops/rlaif/config';

/** APIBench splits, the executability metric, the simulated API-code policy and the RLAIF config. */
const HUBS = ['huggingface', 'tensorflowhub', 'torchhub'] as const;

describe('APIBench splits', () => {
  it('holds out a deterministic share of the HuggingFace and TensorFlow Hub eval sets for training, disjoint from evaluation', () => {
    const train = selectQuestions({ part: 'train', hubs: HUBS, heldOutFraction: 0.2 });
    const evaluation = selectQuestions({ part: 'eval', hubs: HUBS, heldOutFraction: 0.2 });
    const trainKeys = new Set(train.map((q) => q.key));
    expect(evaluation.some((q) => trainKeys.has(q.key))).toBe(false);
    // TorchHub trains on its own training split and evaluates on its whole eval set.
    expect(train.filter((q) => q.hub === 'torchhub')).toHaveLength(837);
    expect(train.every((q) => q.hub !== 'torchhub' || q.source === 'train')).toBe(true);
    expect(evaluation.filter((q) => q.hub === 'torchhub')).toHaveLength(186);
    for (const [hub, total] of [['huggingface', 911], ['tensorflowhub', 688]] as const) {
      const held = train.filter((q) => q.hub === hub).length;
      expect(held + evaluation.filter((q) => q.hub === hub).length).toBe(total);
      expect(held / total).toBeGreaterThan(0.15);
      expect(held / total).toBeLessThan(0.25);
    }
    expect(isHeldOut('huggingface', 17, 0.2)).toBe(isHeldOut('huggingface', 17, 0.2));
    expect(selectQuestions({ part: 'eval', hubs: ['torchhub'], heldOutFraction: 0.2, maxPerHub: 5 }).map((q) => q.key)).toEqual([1, 2, 3, 4, 5].map((n) => `torchhub/eval/${n}`));
  });

  it('parses instructions, reference answers and code of every record format', () => {
    const th = apiBenchQuestion('torchhub/train/1')!;
    expect(th.instruction).toBe('I need an API that can estimate the relative depth of objects from a single image. The output should be an inverse depth map.');
    expect(th.referenceCode).toBe('import torch\nmodel = torch.hub.load("intel-isl/MiDaS", "DPT_Hybrid", pretrained=True)');
    const hf = apiBenchQuestion('huggingface/eval/1')!;
    expect(hf.instruction).toMatch(/^Design a feature for a social media website/);
    expect(hf.referenceOutput).toMatch(/^<<<domain>>>: Natural Language Processing Sentence Similarity/);
    expect(codeOfAnswer(hf.referenceOutput)).toMatch(/^from transformers import AutoTokenizer, AutoModel\n/);
    expect(codeOfAnswer('no code here')).toBeNull();
    for (const hub of HUBS) for (const q of loadApiBenchFile(hub, 'eval')) expect(q.instruction.length).toBeGreaterThan(0);
  });

  it('rotates the rollout batch through the training questions, deterministically', () => {
    const sel = { hubs: HUBS, heldOutFraction: 0.2 };
    const one = rolloutBatch(sel, 7, 1, 50).map((q) => q.key);
    expect(rolloutBatch(sel, 7, 1, 50).map((q) => q.key)).toEqual(one);
    const two = rolloutBatch(sel, 7, 2, 50).map((q) => q.key);
    expect(two.filter((k) => one.includes(k))).toEqual([]);
    expect(rolloutBatch(sel, 8, 1, 50).map((q) => q.key)).not.toEqual(one);
  });
});

describe('executability (compiles + resolves against the API database; runs not measured)', () => {
  it('passes most reference programs, and says why the others fail', async () => {
    for (const [hub, floor] of [['huggingface', 0.82], ['tensorflowhub', 0.93], ['torchhub', 0.94]] as const) {
      const qs = loadApiBenchFile(hub, 'eval');
      const { results, probe } = await checkExecutability(qs.map((q) => ({ code: q.referenceCode, hub })));
      expect(results.filter((r) => r.executable).length / qs.length).toBeGreaterThan(floor);
      for (const r of results) {
        expect(r.runs).toBeNull();
        if (!r.executable) expect(r.reasons.length).toBeGreaterThan(0);
      }
      expect(probe.command).toMatch(/-I -S$/);
    }
  });

  it('fails each level for its own reason', async () => {
    const ok = "from transformers import pipeline\nner = pipeline('ner', model='dslim/bert-base-NER-uncased')\n";
    const cases = [
      ok,
      "from transformers import pipeline\nner = pipeline('ner', model='dslim/bert-base-NER-uncased'\n",
      "from transformers import AutoModel\nmodel = AutoModel.from_pretrained('simulated-invented/quartz-1')\n",
      "ner = pipeline('ner', model='dslim/bert-base-NER-uncased')\n",
      "import leftpad\nfrom transformers import pipeline\nner = pipeline('ner', model='dslim/bert-base-NER-uncased')\n",
      "from transformers import pipeline\nner = pipeline('ner', model='dslim/bert-base-NER-uncased', turbo_mode=True)\n",
    ];
    const { results, probe } = await checkExecutability(cases.map((code) => ({ code, hub: 'huggingface' as const })));
    expect(results.map((r) => [r.compiles, r.resolves])).toEqual([[true, true], [false, false], [true, false], [true, false], [true, false], [true, false]]);
    expect(results[0]!.api?.apiName).toBe('dslim/bert-base-NER-uncased');
    expect(results[1]!.reasons[0]).toMatch(/^SyntaxError: /);
    expect(results[2]!.reasons).toEqual(['no call in the program matches an API of the huggingface database (a hallucinated or missing API call)']);
    expect(results[3]!.reasons).toEqual(['the API call pipeline uses pipeline, which the program never imports']);
    expect(results[4]!.reasons).toEqual(['imports leftpad, which is neither in the standard library nor a requirement of any API in the database']);
    expect(results[5]!.reasons).toEqual(['argument turbo_mode= of pipeline is not documented for it in the database']);
    expect(runsNotMeasured(probe)).toMatch(/^not measured: the sandbox's Python 3\.\d+\.\d+ \(.*-I -S\) has none of transformers, torch, tensorflow, tensorflow_hub installed/);
    expect((await checkExecutability([{ code: null, hub: 'torchhub' }])).results[0]!.reasons).toEqual(['the answer has no code']);
  });
});

describe('the simulated API-code policy', () => {
  const policy = (examples: number) => createModelBackend({ backend: 'simulated', role: 'api-code', seed: 2, trained: { steps: 0, examples }, quality: { initial: 0.2, ceiling: 0.9, halfwayExamples: 100 } });
  const keys = selectQuestions({ part: 'eval', hubs: HUBS, heldOutFraction: 0.2, maxPerHub: 20 }).map((q) => q.key);

  it('answers with the reference, a wrong API, an invented API or broken code, deterministically and labelled', async () => {
    const outcomes = new Map<string, number>();
    const hallucinations: string[] = [];
    const broken: Array<{ code: string | null; hub: (typeof HUBS)[number] }> = [];
    for (const key of keys) {
      const q = apiBenchQuestion(key)!;
      const a = await policy(0).generate({ prompt: 'p', taskId: key, n: 3 });
      expect(await policy(0).generate({ prompt: 'p', taskId: key, n: 3 })).toEqual(a);
      for (const s of a.samples) {
        expect(s.meta).toMatchObject({ backend: 'simulated', simulated: true, role: 'api-code' });
        const outcome = s.meta.outcome as string;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (outcome === 'reference') expect(s.text).toBe(q.referenceOutput);
        if (outcome === 'hallucination') {
          expect(s.text).toContain('simulated-invented/');
          hallucinations.push(astMatch({ hub: q.hub, questionId: q.line, response: s.text }).verdict);
        }
        if (outcome === 'broken') broken.push({ code: codeOfAnswer(s.text), hub: q.hub });
      }
    }
    expect([...outcomes.keys()].sort()).toEqual(['broken', 'hallucination', 'reference', 'wrong_api']);
    for (const r of (await checkExecutability(broken)).results) expect(r.compiles).toBe(false);
    // An invented API is what Gorilla's AST match calls a hallucination (unless a generic database entry still matches).
    expect(hallucinations.filter((v) => v === 'hallucination').length / hallucinations.length).toBeGreaterThan(0.8);
    await expect(policy(0).generate({ prompt: 'p', taskId: '12' })).rejects.toMatchObject({ type: 'ModelBadRequest' });
  });

  it('gets better with training, monotonically per sample', async () => {
    let before = 0;
    let after = 0;
    for (const key of keys) {
      const a = await policy(0).generate({ prompt: 'p', taskId: key, n: 2 });
      const b = await policy(400).generate({ prompt: 'p', taskId: key, n: 2 });
      a.samples.forEach((s, i) => {
        if (s.meta.outcome === 'reference') expect(b.samples[i]!.meta.outcome).toBe('reference');
      });
      before += a.samples.filter((s) => s.meta.outcome === 'reference').length;
      after += b.samples.filter((s) => s.meta.outcome === 'reference').length;
    }
    expect(after).toBeGreaterThan(before + 0.3 * keys.length * 2);
  });
});

describe('RLAIF campaign config', () => {
  const base = {
    algorithm: 'rlaif',
    models: { policy: { backend: 'simulated', role: 'api-code' }, feedback: { backend: 'simulated', role: 'judge' } },
    trainer: { command: ['node', 'trainers/simulated/trainer.mjs'] },
    rewardModel: { baseModel: 'rm' },
    policyUpdate: { baseModel: 'p' },
    iterations: 3,
  };

  it('fills defaults, and names every bad field', () => {
    const c = parseRlaifCampaignConfig(base);
    expect(c.dataset).toMatchObject({ hubs: ['huggingface', 'tensorflowhub', 'torchhub'], heldOutFraction: 0.2 });
    expect(c.feedback).toEqual({ questions: ['api', 'arguments', 'executes'], scoring: 'auto', topLogprobs: 5, maxTokens: 4 });
    expect(() =>
      parseRlaifCampaignConfig({
        ...base,
        models: { policy: { backend: 'simulated' }, feedback: { backend: 'openai', model: 'j', api: 'completions', apiKey: 'sk-123' } },
        dataset: { heldOutFraction: 1, hubs: ['gitlab'] },
        feedback: { scoring: 'vibes' },
        iterations: 0,
      }),
    ).toThrow(
      /dataset\.hubs\.0: [\s\S]*dataset\.heldOutFraction: [\s\S]*models\.feedback\.apiKey: API keys never go in configs[\s\S]*feedback\.scoring: [\s\S]*iterations: /,
    );
    expect(() => parseRlaifCampaignConfig({ ...base, models: { policy: { backend: 'simulated' }, feedback: { backend: 'openai', model: 'j', api: 'completions' } } })).toThrow(
      /models\.policy\.role: a simulated RLAIF policy answers APIBench questions[\s\S]*models\.feedback\.api: the AI-feedback prompts are chat messages/,
    );
    expect(() => parseCampaignConfig({ ...base, algorithm: 'grpo' })).toThrow(/algorithm: must be one of "ilf", "rlaif", "rlcf", "crlhf", got "grpo"/);
    expect(parseCampaignConfig(base).algorithm).toBe('rlaif');
    const policyUpdate = { ...(base as { policyUpdate: object }).policyUpdate };
    expect(() => parseCampaignConfig({ ...base, policyUpdate: { ...policyUpdate, advantage: 'ppo2' } })).toThrow(/policyUpdate\.advantage: Invalid option: expected one of "batch"\|"grpo"\|"rloo"/);
    expect(parseCampaignConfig({ ...base, policyUpdate: { ...policyUpdate, advantage: 'rloo' } })).toMatchObject({ policyUpdate: { advantage: 'rloo' } });
  });
});
