import { z } from 'zod';
import { AGGREGATION_METHODS } from '../../activities/crowd/aggregation/index';
import { campaignConfigParser, checkGeneratingPolicy, checkPassAtK, commandTrainerSchema, duration, policyBackendSchema, policyUpdateSchema, campaignHeadFields, campaignKernelFields, datasetFileSchema, stoppingSchema } from '../../common/campaign-schema';
import { codeDatasetsIn } from '../../common/datasets';

/**
 * The cRLHF campaign config (Wong & Tan 2025, "Aligning Crowd-sourced Human Feedback for
 * Reinforcement Learning on Code Generation by Large Language Models"): one YAML or JSON file,
 * validated before anything starts; every bad field is named.
 *
 * Per iteration: the policy writes programs for training tasks (tested in the sandbox: evidence,
 * not the reward) -> annotation items = those programs + honeypots from gold solutions -> each
 * item to `crowd.k` annotators -> a durable wait with deadline and quorum -> annotator
 * reliability and line consensus -> one consensus reward per program -> the shared policy update
 * -> pass@k on HumanEval and MBPP.
 */
const sampling = z
  .object({
    n: z.int().min(1).default(2),
    temperature: z.number().min(0).max(2).default(0.8),
    topP: z.number().gt(0).max(1).default(0.95),
    maxTokens: z.int().min(1).default(512),
  })
  .strict();

/** How a SIMULATED annotator labels lines (dry runs and tests only). */
export const SIMULATED_BEHAVIOURS = ['reliable', 'spammer', 'always-correct'] as const;

const simulatedAnnotator = z
  .object({
    name: z.string().min(1),
    /** reliable: right with probability `reliability`; spammer: coin flips; always-correct: marks every line correct */
    behaviour: z.enum(SIMULATED_BEHAVIOURS).default('reliable'),
    reliability: z.number().min(0).max(1).optional(),
    /** share of their assigned items they answer (the rest stay unanswered) */
    answerShare: z.number().min(0).max(1).default(1),
  })
  .strict();

const evalDataset = z.object({ maxTasks: z.int().min(1).optional() }).strict().default({});
/** Python code datasets: the policy writes Python, and the simulated crowd and honeypots read its lines */
const pythonDataset = z.enum(codeDatasetsIn('python'));

export const CONSENSUS_METHODS = ['consensus', ...AGGREGATION_METHODS] as const;
export type ConsensusMethod = (typeof CONSENSUS_METHODS)[number];

export const crlhfCampaignConfigSchema = z
  .object({
    ...campaignHeadFields('crlhf'),
    dataset: z
      .object({
        /** where the training programs come from: MBPP's train split by default */
        train: z
          .object({ dataset: pythonDataset.default('mbpp'), split: z.string().min(1).default('train'), maxTasks: z.int().min(1).optional() })
          .strict()
          .default({ dataset: 'mbpp', split: 'train' }),
        /** pass@k on the test split of each dataset named (the first maxTasks of each); the stopping metric is their mean */
        eval: z
          .partialRecord(pythonDataset, evalDataset)
          .refine((e) => Object.keys(e).length > 0, { message: 'name at least one dataset to evaluate on' })
          .default({ humaneval: {}, mbpp: {} }),
        /** your own Python tasks for the training programs instead of train.dataset: its split named train.split (common/dataset-file.ts) */
        file: datasetFileSchema.optional(),
      })
      .strict()
      .default({ train: { dataset: 'mbpp', split: 'train' }, eval: { humaneval: {}, mbpp: {} } }),
    models: z.object({ policy: policyBackendSchema }).strict(),
    sampling: z
      .object({
        rollout: sampling.default({ n: 2, temperature: 0.8, topP: 0.95, maxTokens: 512 }),
        eval: sampling.extend({ ks: z.array(z.int().min(1)).min(1).default([1, 10]) }).default({ n: 10, temperature: 0.8, topP: 0.95, maxTokens: 512, ks: [1, 10] }),
      })
      .strict()
      .default({ rollout: { n: 2, temperature: 0.8, topP: 0.95, maxTokens: 512 }, eval: { n: 10, temperature: 0.8, topP: 0.95, maxTokens: 512, ks: [1, 10] } }),
    honeypots: z
      .object({
        /** gold solutions come from this dataset and split (MBPP's refine split: disjoint from train and test) */
        dataset: pythonDataset.default('mbpp'),
        split: z.string().min(1).default('refine'),
        /** gold programs with 1..maxChangedLines mutated lines, each confirmed by the sandbox to break the tests */
        mutants: z.int().min(0).default(6),
        /** untouched gold programs (every line known correct) */
        gold: z.int().min(0).default(2),
        maxChangedLines: z.int().min(1).max(5).default(2),
      })
      .strict()
      .default({ dataset: 'mbpp', split: 'refine', mutants: 6, gold: 2, maxChangedLines: 2 }),
    crowd: z
      .object({
        /** the campaign's annotators, by name (tokens and logins are the web app's) */
        annotators: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')).min(1),
        /** annotators per item */
        k: z.int().min(1).default(3),
        /** how long annotation stays open (extendable while it is) */
        deadline: duration.default('72h'),
        /** share of items that must have consensus.minLabels labels when annotation closes */
        quorum: z.number().min(0).max(1).default(0.8),
        /** annotation closed below the quorum: go on with what arrived, or fail the iteration */
        onDeadline: z.enum(['proceed', 'fail']).default('proceed'),
        /** annotators see the sandbox's test output with each program */
        showTestOutput: z.boolean().default(true),
        /** a SIMULATED crowd answers through the real update path (dry runs); absent: people do */
        simulated: z.object({ annotators: z.array(simulatedAnnotator).min(1) }).strict().optional(),
      })
      .strict(),
    consensus: z
      .object({
        /** consensus: the paper's Bayesian line consensus; or a standard aggregator over line labels */
        method: z.enum(CONSENSUS_METHODS).default('consensus'),
        /** prior P(line correct) of the Bayesian update: the paper's 0.5, or "estimated" (the share of correct lines the EM finds) */
        prior: z.union([z.number().gt(0).lt(1), z.literal('estimated')]).default(0.5),
        /** annotators an item needs; fewer and its program is unscorable (left out, never 0) */
        minLabels: z.int().min(1).default(2),
        /** rounds of agreement updates after the honeypot estimate */
        agreementRounds: z.int().min(0).max(100).default(10),
      })
      .strict()
      .default({ method: 'consensus', prior: 0.5, minLabels: 2, agreementRounds: 10 }),
    sandbox: z
      .object({
        cpuMs: z.int().min(100).default(10_000),
        wallMs: z.int().min(100).default(20_000),
        memoryMb: z.int().min(64).default(1024),
        batchSize: z.int().min(1).default(100),
      })
      .strict()
      .default({ cpuMs: 10_000, wallMs: 20_000, memoryMb: 1024, batchSize: 100 }),
    trainer: commandTrainerSchema,
    policyUpdate: policyUpdateSchema,
    ...campaignKernelFields,
    /** `targetPassAt1`: stop once the mean of HumanEval and MBPP pass@1 reaches it */
    stopping: stoppingSchema('targetPassAt1'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = c.crowd.annotators;
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (seen.has(n)) ctx.addIssue({ code: 'custom', path: ['crowd', 'annotators', i], message: `lists ${n} twice` });
      seen.add(n);
    });
    if (c.crowd.k > names.length) ctx.addIssue({ code: 'custom', path: ['crowd', 'k'], message: `${c.crowd.k} annotators per item but only ${names.length} annotator(s) listed` });
    if (c.consensus.minLabels > c.crowd.k) ctx.addIssue({ code: 'custom', path: ['consensus', 'minLabels'], message: `needs ${c.consensus.minLabels} labels per item but each item goes to k = ${c.crowd.k}` });
    checkGeneratingPolicy(c.models.policy, ctx, { role: 'program', what: 'cRLHF policy writes programs' });
    checkPassAtK(c.sampling.eval.ks, c.sampling.eval.n, ctx, ['sampling', 'eval', 'ks']);
    if (c.honeypots.mutants + c.honeypots.gold === 0) ctx.addIssue({ code: 'custom', path: ['honeypots'], message: 'needs at least one honeypot (mutants or gold): reliability is estimated from them' });
    const sim = c.crowd.simulated;
    if (sim) {
      sim.annotators.forEach((a, i) => {
        if (!seen.has(a.name)) ctx.addIssue({ code: 'custom', path: ['crowd', 'simulated', 'annotators', i, 'name'], message: `${a.name} is not in crowd.annotators` });
        if (a.behaviour === 'reliable' && a.reliability === undefined) ctx.addIssue({ code: 'custom', path: ['crowd', 'simulated', 'annotators', i, 'reliability'], message: 'a reliable simulated annotator needs a reliability' });
        if (a.behaviour !== 'reliable' && a.reliability !== undefined) ctx.addIssue({ code: 'custom', path: ['crowd', 'simulated', 'annotators', i, 'reliability'], message: `a ${a.behaviour} does not take a reliability` });
      });
      const simulatedNames = new Set(sim.annotators.map((a) => a.name));
      names.forEach((n, i) => {
        if (!simulatedNames.has(n)) ctx.addIssue({ code: 'custom', path: ['crowd', 'annotators', i], message: `${n} has no simulated behaviour in crowd.simulated.annotators` });
      });
    }
  });

export type CrlhfCampaignConfig = z.output<typeof crlhfCampaignConfigSchema>;
export type SimulatedAnnotator = z.output<typeof simulatedAnnotator>;

export const parseCrlhfCampaignConfig: (raw: unknown, where?: string) => CrlhfCampaignConfig = campaignConfigParser(crlhfCampaignConfigSchema);
