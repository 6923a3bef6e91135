import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureSynthPolicy, synthPolicyKey, synthPolicyPlan, SYNTH_POLICY_DEFAULTS } from '../../cli/synth-policy';
import { codeDataset, selectTasks } from '../../activities/datasets/registry';
import {
  buildFamily,
  comboKey,
  evaluate,
  familySplit,
  FAMILY_SPLITS,
  feedbackFor,
  lineTruth,
  pretrainCorpus,
  programTruth,
  refinementTriples,
  registeredFamily,
  renderedPrograms,
  renderProgram,
  sameValue,
  testsOf,
  type FamilyTask,
} from '../../activities/datasets/synthetic';
import { createSandboxRunner } from '../../activities/sandbox/sandbox-runner';
import { resolveLimits, type Language } from '../../activities/sandbox/types';
import { sampleTasks } from '../../activities/sandbox/dataset-check';
import { runMany } from '../../common/run-many';

/**
 * The synthetic code family (activities/datasets/synthetic): deterministic, split by
 * combination, and true to itself in the real sandbox: references pass their tests in Python
 * and Java, every planted near-miss bug fails them, and line truth names the bugs' lines.
 */
const family = registeredFamily();
const runner = createSandboxRunner({ size: 2 });
afterAll(async () => runner.close());
const limits = resolveLimits({ cpuMs: 5000, wallMs: 20_000, memoryMb: 512 });
const primitivesOf = (t: FamilyTask) => t.combination.parts.map((p) => `${p.domain}.${p.slot}.${p.id}`);

describe('synthetic family: generation', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const again = buildFamily({ seed: 1, tests: 5, pretrainShare: 0.6, trainShare: 0.2, arithCombinations: 120 });
    expect(again).toBe(family); // cached, and built from the same options
    const fresh = JSON.stringify(buildFamily({ seed: 1, tests: 6 }).tasks.map((t) => [t.name, t.inputs]));
    expect(JSON.stringify(buildFamily({ seed: 1, tests: 6 }).tasks.map((t) => [t.name, t.inputs]))).toBe(fresh);
    const other = buildFamily({ seed: 2 });
    expect(other.tasks.map((t) => t.name)).not.toEqual(family.tasks.map((t) => t.name));
  });

  it('has about 400 combinations, split pairwise disjoint into pretrain, train and test', () => {
    expect(family.tasks.length).toBeGreaterThanOrEqual(380);
    const keys = FAMILY_SPLITS.map((s) => new Set(familySplit(family, s).map((t) => comboKey(t.combination))));
    expect(keys.reduce((n, k) => n + k.size, 0)).toBe(family.tasks.length);
    for (const [i, a] of keys.entries()) for (const b of keys.slice(i + 1)) expect([...a].filter((k) => b.has(k))).toEqual([]);
    expect(family.tasks.map((t) => t.number)).toEqual(family.tasks.map((_, i) => i));
    expect(new Set(family.tasks.map((t) => t.name)).size).toBe(family.tasks.length);
  });

  it('holds out unseen combinations of primitives all seen in pretraining', () => {
    const seen = new Set(familySplit(family, 'pretrain').flatMap(primitivesOf));
    for (const split of ['train', 'test'] as const) for (const t of familySplit(family, split)) for (const p of primitivesOf(t)) expect(seen, `${t.name}: ${p}`).toContain(p);
  });

  it('makes expected values by evaluating the spec, and each task catches its bugs', () => {
    for (const t of family.tasks) {
      expect(t.inputs.length).toBeGreaterThanOrEqual(5);
      t.inputs.forEach((x, i) => expect(sameValue(evaluate(t.combination, x), t.expected[i]!)).toBe(true));
      for (const slot of t.bugSlots) {
        expect(t.inputs.some((x) => !sameValue(evaluate(t.combination, x), evaluate(t.combination, x, [slot], 'python-bug')))).toBe(true);
        expect(t.inputs.some((x) => !sameValue(evaluate(t.combination, x), evaluate(t.combination, x, [slot], 'java-bug')))).toBe(true);
      }
    }
    // nearly every task has a catchable bug (a bug can be harmless: >= 0 under a sum)
    expect(family.tasks.filter((t) => t.bugSlots.length > 0).length / family.tasks.length).toBeGreaterThan(0.9);
  });

  it('is registered as synth and synth-java, with the same numbers and splits, in the MBPP and MBXP layouts', () => {
    const py = selectTasks({ dataset: 'synth', split: 'test' });
    const java = selectTasks({ dataset: 'synth-java', split: 'test' });
    expect(py.map((t) => t.number)).toEqual(familySplit(family, 'test').map((t) => t.number));
    expect(java.map((t) => t.number)).toEqual(py.map((t) => t.number));
    expect(codeDataset('synth').language).toBe('python');
    expect(codeDataset('synth-java').language).toBe('java');
    expect(py[0]!.prompt).toMatch(/^"""\nWrite a function to .*\n\n>>> Example: assert \w+\(.*\) == .*\n"""\n\n$/);
    expect(java[0]!.prompt).toMatch(/class \w+ \{\n {4}\/\*\*\n {5}\* \* Write a function[\s\S]*public static \S+ \w+\(.*\) \{\n$/);
    expect(java[0]!.tests).toContain('class Main');
    for (const t of [...py, ...java]) expect(t.reference!.startsWith(t.prompt)).toBe(true);
  });
});

describe('synthetic family: bugs, line truth, feedback', () => {
  it('line truth marks exactly the lines a planted bug changes', () => {
    for (const t of family.tasks.slice(0, 120)) {
      for (const language of ['python', 'java'] as const) {
        const correct = renderProgram(t, language);
        expect(lineTruth(correct, correct).every((l) => l.correct)).toBe(true);
        for (const slot of t.bugSlots) {
          const truth = programTruth(t, language, [slot]);
          const wrong = truth.lines.filter((l) => !l.correct);
          expect(wrong, `${t.name} ${language} ${slot}`).toHaveLength(1);
          expect(correct.split('\n')[wrong[0]!.line - 1]).not.toBe(wrong[0]!.text);
          expect(truth.passes).toBe(false);
          expect(truth.fix).toBe(correct);
        }
      }
    }
    // a program with an extra line and a changed one: LCS alignment
    expect(lineTruth('a\nb\nc\n', 'a\nx\nb\nC\n').map((l) => l.correct)).toEqual([true, false, true, false]);
  });

  it('gives templated feedback per bug, and refinement triples pairing a wrong program with its fix', () => {
    const evens = family.tasks.find((t) => t.combination.parts[0]!.id === 'even' && t.bugSlots.includes('filter'))!;
    expect(feedbackFor(evens, ['filter'])).toContain('Keep the even numbers, not the odd ones');
    const triples = refinementTriples('train');
    expect(triples.length).toBeGreaterThan(familySplit(family, 'train').length);
    for (const tr of triples) {
      expect(tr.wrongProgram).not.toBe(tr.refinement);
      expect(tr.wrongProgram.startsWith(tr.prompt) && tr.refinement.startsWith(tr.prompt)).toBe(true);
      expect(tr.wrongLines.length).toBe(tr.bugs.length);
      expect(tr.feedback).not.toBe('');
    }
  });

  it('plants each primitive\'s bug in the pretraining corpus at its seeded rate (20-65%), only on pretrain tasks', () => {
    const rows = pretrainCorpus({ seed: 1, repeats: 8 });
    expect(rows).toHaveLength(familySplit(family, 'pretrain').length * 8);
    expect(pretrainCorpus({ seed: 1, repeats: 8 })).toEqual(rows);
    const pretrainIds = new Set(familySplit(family, 'pretrain').map((t) => `Synth/${t.number}`));
    expect(rows.every((r) => pretrainIds.has(r.taskId))).toBe(true);
    const buggy = rows.filter((r) => r.bugs.length > 0).length / rows.length;
    expect(buggy).toBeGreaterThan(0.3);
    expect(buggy).toBeLessThan(0.95);
  });

  it('renders a teacher corpus with its truth: verdict, wrong lines, feedback and fix per program', () => {
    const programs = renderedPrograms({ seed: 3, split: 'train', repeats: 2, languages: ['python', 'java'] });
    expect(programs).toHaveLength(familySplit(family, 'train').length * 4);
    for (const p of programs) {
      expect(p.passes).toBe(p.bugs.length === 0);
      expect(p.lines.filter((l) => !l.correct)).toHaveLength(p.bugs.length);
      expect(p.feedback === 'The program is correct.').toBe(p.passes);
      expect(p.program === p.fix).toBe(p.passes);
    }
    expect(programs.some((p) => p.passes) && programs.some((p) => !p.passes)).toBe(true);
  });
});

describe('synthetic family: in the real sandbox', () => {
  async function check(language: Language, tasks: readonly FamilyTask[]) {
    const runs = tasks.flatMap((t) => [{ t, bugs: [] as FamilyTask['bugSlots'] }, ...t.bugSlots.map((s) => ({ t, bugs: [s] }))]);
    const wrong: string[] = [];
    await runMany(runs, 2, async ({ t, bugs }) => {
      const r = await runner.run({ language, program: renderProgram(t, language, bugs), tests: testsOf(t, language) }, limits);
      if ((r.outcome === 'passed') !== (bugs.length === 0)) wrong.push(`${t.name} [${bugs.join(',')}]: ${r.outcome} ${r.detail ?? ''}`);
    });
    return { runs: runs.length, wrong };
  }

  it('Python: every reference passes its tests and every single bug fails them (a sample of 60 tasks)', { timeout: 180_000 }, async () => {
    const { runs, wrong } = await check('python', sampleTasks(family.tasks, 60, 3));
    expect(runs).toBeGreaterThan(120);
    expect(wrong).toEqual([]);
  });

  it('Java: the same, from the same spec (a sample of 16 tasks: lists, strings, arithmetic)', { timeout: 300_000 }, async () => {
    const sample = (['list', 'string', 'arith'] as const).flatMap((d) => sampleTasks(family.tasks.filter((t) => t.combination.domain === d), d === 'list' ? 6 : 5, 4));
    const { runs, wrong } = await check('java', sample);
    expect(runs).toBeGreaterThan(30);
    expect(wrong).toEqual([]);
  });
});

describe('synthetic family: the starting policy recipe', () => {
  it('is cached by a key over the recipe and the corpus: same recipe, same key; another seed or language, another', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-policy-'));
    try {
      const key = synthPolicyKey(SYNTH_POLICY_DEFAULTS, 'corpus-sha');
      expect(synthPolicyKey({ ...SYNTH_POLICY_DEFAULTS }, 'corpus-sha')).toBe(key);
      expect(synthPolicyKey({ ...SYNTH_POLICY_DEFAULTS, seed: 2 }, 'corpus-sha')).not.toBe(key);
      expect(synthPolicyKey({ ...SYNTH_POLICY_DEFAULTS, language: 'java' }, 'corpus-sha')).not.toBe(key);
      expect(synthPolicyKey(SYNTH_POLICY_DEFAULTS, 'another-corpus')).not.toBe(key);
      // a model already there under its key is returned as it is, without training
      const recipe = { repeats: 1, steps: 1 };
      const fake = (onnxDir: string) => {
        fs.mkdirSync(onnxDir, { recursive: true });
        fs.writeFileSync(path.join(onnxDir, 'model.onnx'), '');
        fs.writeFileSync(path.join(onnxDir, '..', 'feedloop-model.json'), '{}');
      };
      const probeKey = synthPolicyPlan(recipe).key;
      fake(path.join(dir, `synth-policy-${probeKey}`, 'onnx'));
      const got = ensureSynthPolicy(recipe, undefined, dir);
      expect(got).toMatchObject({ made: false, recipeKey: probeKey, modelDir: path.join(dir, `synth-policy-${probeKey}`) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
