import { z } from 'zod';
import { modelBackendConfigSchema } from '../../common/model-config';
import { codeDatasetsIn } from '../../common/datasets';
import { codeDataset } from '../../activities/datasets/registry';
import { campaignConfigParser, checkTrainerRef, duration, trainerRefFields, policyBackendSchema, campaignHeadFields, campaignKernelFields, datasetFileSchema, stoppingSchema } from '../../common/campaign-schema';

/**
 * The ILF campaign config: one YAML or JSON file. Validated with zod before anything starts;
 * the error lists every bad field by its path. It travels as the campaign workflow's input, so
 * it holds no secrets (backends name the environment variable of an API key, never the key).
 */
const taskRange = z
  .tuple([z.int().min(0), z.int().min(0)])
  .refine(([lo, hi]) => lo <= hi, { message: 'must be [first, last] with first <= last' });

/** The ILF paper's MBPP splits (Chen, Scheurer et al. 2023): MBPP's default. */
const MBPP_ILF_SPLITS = { refine: [111, 310], train: [311, 974], test: [11, 110] } as const;

type IlfSplits = { refine: [number, number]; train: [number, number]; test: [number, number] };

/**
 * A dataset's splits when the config names none: MBPP's are the ILF paper's; any other dataset's
 * come from its own split table (train and test; refine, which only pi_Refine's training reads,
 * is its refine split, else its train split).
 */
export function defaultIlfSplits(name: string): IlfSplits {
  if (name === 'mbpp') return { refine: [...MBPP_ILF_SPLITS.refine], train: [...MBPP_ILF_SPLITS.train], test: [...MBPP_ILF_SPLITS.test] };
  const table = codeDataset(name).splits;
  const range = (r: readonly [number, number] | undefined): [number, number] | undefined => (r ? [r[0], r[1]] : undefined);
  const train = range(table.train);
  const test = range(table.test);
  if (!train || !test) throw new Error(`${name} has no train and test splits: give dataset.splits`);
  return { refine: range(table.refine) ?? train, train, test };
}

export const ilfCampaignConfigSchema = z
  .object({
    ...campaignHeadFields('ilf'),
    dataset: z
      .object({
        /**
         * any Python code dataset of the registry (activities/datasets/registry.ts). The released
         * human feedback and refinements (feedback.source and refiner.kind "dataset", refiner.train)
         * exist for MBPP only.
         */
        name: z.enum(codeDatasetsIn('python')).default('mbpp'),
        /**
         * inclusive ranges of task numbers. MBPP: the ILF paper's splits; another dataset: its own
         * split table (train, test; refine falls back to train), each field when not given.
         */
        splits: z
          .object({ refine: taskRange.optional(), train: taskRange.optional(), test: taskRange.optional() })
          .strict()
          .optional(),
        /** use only the first N tasks of the train split (quick runs); all by default */
        maxTrainTasks: z.int().min(1).optional(),
        /** use only the first N tasks of the test split; all by default */
        maxTestTasks: z.int().min(1).optional(),
        /** your own tasks instead of MBPP (Python): its splits `train` and `test` (common/dataset-file.ts) */
        file: datasetFileSchema.optional(),
      })
      .strict()
      .default({ name: 'mbpp' })
      // the splits are always written out: the workflow reads them from the config it was given
      .transform(({ name, splits, ...d }) => ({ name, splits: { ...defaultIlfSplits(name), ...splits } as IlfSplits, ...d })),
    models: z
      .object({
        policy: policyBackendSchema,
        refiner: modelBackendConfigSchema.optional(),
        feedback: modelBackendConfigSchema.optional(),
      })
      .strict(),
    sampling: z
      .object({
        /** samples per MBPP_Train task each iteration */
        train: z
          .object({ n: z.int().min(1).default(1), temperature: z.number().min(0).max(2).default(0.8), topP: z.number().gt(0).max(1).default(0.95), maxTokens: z.int().min(1).default(512) })
          .strict()
          .default({ n: 1, temperature: 0.8, topP: 0.95, maxTokens: 512 }),
        /** samples per MBPP_Test task for pass@k (the paper: 30 at temperature 0.8) */
        eval: z
          .object({
            n: z.int().min(1).default(10),
            temperature: z.number().min(0).max(2).default(0.8),
            topP: z.number().gt(0).max(1).default(0.95),
            maxTokens: z.int().min(1).default(512),
            ks: z.array(z.int().min(1)).min(1).default([1, 10]),
          })
          .strict()
          .default({ n: 10, temperature: 0.8, topP: 0.95, maxTokens: 512, ks: [1, 10] }),
      })
      .strict()
      .default({ train: { n: 1, temperature: 0.8, topP: 0.95, maxTokens: 512 }, eval: { n: 10, temperature: 0.8, topP: 0.95, maxTokens: 512, ks: [1, 10] } }),
    feedback: z
      .object({
        source: z.enum(['dataset', 'llm', 'human']),
        human: z
          .object({
            /** how long an iteration waits for people */
            deadline: duration.default('72h'),
            /** fraction of requests that must be answered before the deadline ends the wait early */
            quorum: z.number().gt(0).max(1).default(1),
            /** at the deadline with the quorum unmet: go on with what arrived, or fail the iteration */
            onDeadline: z.enum(['proceed', 'fail']).default('proceed'),
          })
          .strict()
          .optional(),
        /**
         * failing: feedback on each program that failed its tests (ILF). shuffled: the NO-FEEDBACK
         * CONTROL for the tests' first verdicts: feedback on as many programs as failed, chosen by
         * the verdicts permuted among the iteration's judged programs (seeded by the iteration and
         * its programs, so a control repeats), so which programs get refined says nothing.
         */
        programs: z.enum(['failing', 'shuffled']).default('failing'),
      })
      .strict(),
    refiner: z
      .object({
        /** dataset: the ILF paper's human refinements; model: models.refiner with the refinement prompt */
        kind: z.enum(['dataset', 'model']),
        /** train pi_Refine on MBPP_Refine triples before the first iteration */
        train: z.boolean().default(false),
        /**
         * tests: keep only refinements that pass the unit tests (ILF's filter). none: every
         * judged refinement is kept whatever its outcome. shuffled: as many are kept as passed,
         * chosen by the verdicts permuted among the judged refinements (seeded by the iteration
         * and its refinements, so a control repeats); with feedback: shuffled, the NO-FEEDBACK
         * CONTROL: a learning claim then shows that the gain comes from the feedback.
         */
        filter: z.enum(['tests', 'none', 'shuffled']).default('tests'),
        /**
         * given: each failing program is refined with its own feedback. shuffled: the NO-FEEDBACK
         * CONTROL for the language feedback, each with the feedback another task's failing
         * program got this iteration (seeded by the iteration and its feedback, so a control
         * repeats): the same texts reach the refiner, but they say nothing about the program.
         */
        feedback: z.enum(['given', 'shuffled']).default('given'),
      })
      .strict(),
    sandbox: z
      .object({
        cpuMs: z.int().min(100).default(10_000),
        wallMs: z.int().min(100).default(20_000),
        memoryMb: z.int().min(64).default(1024),
        /** programs per sandbox activity */
        batchSize: z.int().min(1).max(5000).default(200),
      })
      .strict()
      .default({ cpuMs: 10_000, wallMs: 20_000, memoryMb: 1024, batchSize: 200 }),
    trainer: z
      .discriminatedUnion('kind', [
        /** no training: the iteration writes the fine-tuning set and says plainly that no weights were trained */
        z.object({ kind: z.literal('none') }).strict(),
        z
          .object({
            kind: z.literal('command'),
            /** `command` (argv; the job spec path is appended) or `name` (a trainer registered on the workers) */
            ...trainerRefFields,
            baseModel: z.string().min(1),
            hyperparameters: z.record(z.string(), z.unknown()).default({}),
          })
          .strict(),
        z
          .object({
            kind: z.literal('simulated'),
            /** simulated optimizer steps per training example */
            stepsPerExample: z.int().min(1).default(1),
          })
          .strict(),
      ])
      .default({ kind: 'none' }),
    ...campaignKernelFields,
    /** `targetPassAt1`: stop once MBPP_Test pass@1 reaches it; `patience`: stop after that many iterations without an improvement */
    stopping: stoppingSchema('targetPassAt1'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.trainer.kind === 'command') checkTrainerRef(c.trainer, ctx, ['trainer']);
    // Training on test tasks would inflate the held-out pass@k the campaign reports.
    const { train, test } = c.dataset.splits;
    if (!c.dataset.file && train[0] <= test[1] && test[0] <= train[1]) {
      ctx.addIssue({ code: 'custom', path: ['dataset', 'splits', 'train'], message: `[${train.join(', ')}] overlaps dataset.splits.test [${test.join(', ')}]: train and test must be disjoint` });
    }
    // ILF names the field to raise (its users' configs and tests read this wording).
    for (const k of c.sampling.eval.ks) {
      if (k > c.sampling.eval.n) ctx.addIssue({ code: 'custom', path: ['sampling', 'eval', 'ks'], message: `pass@${k} needs sampling.eval.n >= ${k}` });
    }
    if (c.refiner.kind === 'model' && !c.models.refiner) ctx.addIssue({ code: 'custom', path: ['models', 'refiner'], message: 'required when refiner.kind is "model"' });
    if (c.feedback.source === 'llm' && !c.models.feedback) ctx.addIssue({ code: 'custom', path: ['models', 'feedback'], message: 'required when feedback.source is "llm"' });
    if (c.feedback.source === 'human' && !c.feedback.human) c.feedback.human = { deadline: '72h', quorum: 1, onDeadline: 'proceed' };
    // The ILF paper's human feedback and refinements are MBPP's: another dataset, or a dataset file, needs them from an LLM (or people).
    if (c.dataset.file && c.dataset.name !== 'mbpp') ctx.addIssue({ code: 'custom', path: ['dataset', 'file'], message: `a dataset file replaces dataset.name: drop one (dataset.name is ${c.dataset.name})` });
    const tasks = c.dataset.file ? 'with dataset.file' : c.dataset.name !== 'mbpp' ? `with dataset.name ${c.dataset.name}` : undefined;
    if (tasks) {
      if (c.feedback.source === 'dataset') ctx.addIssue({ code: 'custom', path: ['feedback', 'source'], message: `${tasks}, feedback comes from "llm" or "human" (the dataset feedback is MBPP's)` });
      if (c.refiner.kind === 'dataset') ctx.addIssue({ code: 'custom', path: ['refiner', 'kind'], message: `${tasks}, the refiner is a "model" (the dataset refinements are MBPP's)` });
      if (c.refiner.train) ctx.addIssue({ code: 'custom', path: ['refiner', 'train'], message: `${tasks}, pi_Refine cannot be trained on the released triples (they are MBPP's)` });
    }
    if (c.refiner.feedback === 'shuffled' && c.refiner.kind !== 'model') ctx.addIssue({ code: 'custom', path: ['refiner', 'feedback'], message: '"shuffled" needs refiner.kind "model" (the dataset\'s refinements do not read the feedback)' });
    if (c.refiner.train && c.refiner.kind !== 'model') ctx.addIssue({ code: 'custom', path: ['refiner', 'train'], message: 'a trained refiner needs refiner.kind "model"' });
    if (c.refiner.train && c.trainer.kind === 'none') ctx.addIssue({ code: 'custom', path: ['refiner', 'train'], message: 'training the refiner needs a trainer (trainer.kind other than "none")' });
    if (c.models.policy.backend === 'replay' && c.trainer.kind !== 'none') {
      ctx.addIssue({ code: 'custom', path: ['trainer', 'kind'], message: 'a replay policy serves recorded programs and cannot be trained: use "none"' });
    }
    if (c.trainer.kind === 'simulated' && c.models.policy.backend !== 'simulated') {
      ctx.addIssue({ code: 'custom', path: ['trainer', 'kind'], message: '"simulated" trains only a simulated policy (models.policy.backend: simulated)' });
    }
    if (c.models.policy.backend === 'replay' && (c.sampling.train.n !== 1 || c.sampling.eval.n !== 1)) {
      ctx.addIssue({ code: 'custom', path: ['sampling'], message: 'a replay policy has one recorded program per task: set sampling.train.n and sampling.eval.n to 1 (and eval.ks to [1])' });
    }
  });

export type IlfCampaignConfig = z.output<typeof ilfCampaignConfigSchema>;

export const parseIlfCampaignConfig: (raw: unknown, where?: string) => IlfCampaignConfig = campaignConfigParser(ilfCampaignConfigSchema);


