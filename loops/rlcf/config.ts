import { z } from 'zod';
import { rlcfRewardConfigSchema, rlcfStaticChecksSchema } from './activities/config';
import { discriminatorNeeded } from './activities/reward';
import { modelBackendConfigSchema } from '../../common/model-config';
import { campaignConfigParser, checkChatJudge, checkGeneratingPolicy, checkPassAtK, commandTrainerSchema, policyUpdateSchema, campaignHeadFields, campaignKernelFields, datasetFileSchema, stoppingSchema } from '../../common/campaign-schema';
import { RLCF_SPLITS } from './types';
import { codeDatasetsIn, type CodeDatasetName } from '../../common/datasets';

/** The Java datasets RLCF trains on: those with references (MathQA-Java has none: evaluation only, mathqaEvalTasks). */
const RLCF_DATASETS = codeDatasetsIn('java').filter((d) => d !== 'mathqa-java') as [CodeDatasetName, ...CodeDatasetName[]];

/**
 * The RLCF campaign config (Jain et al. 2023, "Coarse-Tuning Models of Code with Reinforcement
 * Learning Feedback", arXiv 2305.18341): one YAML or JSON file, validated before anything
 * starts; every bad field is named. It travels as the campaign workflow's input: no secrets.
 *
 * Per iteration: Java programs from the policy for MBJP training tasks -> the grounding
 * function (compiles, static checks, runs and passes, the discriminator against the reference)
 * -> the reward -> a PPO-style policy update -> evaluation on MBJP's eval tasks and MathQA-Java
 * (compile, static-check pass and execution rates, pass@k).
 */
const sampling = (n: number, temperature: number) =>
  z
    .object({
      n: z.int().min(1).default(n),
      temperature: z.number().min(0).max(2).default(temperature),
      topP: z.number().gt(0).max(1).default(0.95),
      maxTokens: z.int().min(1).default(512),
    })
    .strict()
    .prefault({});

const discriminatorSchema = z.discriminatedUnion('kind', [
  z
    .object({
      /** a larger LLM on any OpenAI-compatible server (models.discriminator), asked with rubric rlcf-discriminator-v1 */
      kind: z.literal('llm'),
      /** auto: P(Yes) from logprobs when the server returns them, else the parsed answer */
      scoring: z.enum(['auto', 'logprobs', 'parsed']).default('auto'),
      topLogprobs: z.int().min(1).max(20).default(5),
      maxTokens: z.int().min(1).max(64).default(4),
    })
    .strict(),
  z
    .object({
      /** SIMULATED: a seeded function of the distance to the reference (dry runs, tests) */
      kind: z.literal('simulated'),
      /** share of programs the simulated discriminator gives no readable answer (unscorable) */
      unscorableShare: z.number().min(0).max(1).default(0.05),
    })
    .strict(),
  z
    .object({
      /** the paper's GAN-like setting: a sequence classifier trained through the trainer protocol (reference = 1, generated = 0), scored with onnx on GPU workers */
      kind: z.literal('trained'),
      /** the model the classifier starts from (a local model directory the trainer loads) */
      baseModel: z.string().min(1),
      /** retrain every k iterations on all compiled rollouts so far (1: every iteration, the paper's alternation); the first iteration always trains */
      retrainEvery: z.int().min(0).default(1),
      hyperparameters: z.record(z.string(), z.unknown()).default({}),
      /** how the exported ONNX classifier is run */
      scoring: z
        .object({
          executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
          batchSize: z.int().min(1).max(1024).default(8),
          maxLength: z.int().min(2).default(1024),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
]);

export const rlcfCampaignConfigSchema = z
  .object({
    ...campaignHeadFields('rlcf'),
    dataset: z
      .object({
        /** a registered Java dataset: MBJP (the default), or the synthetic family `synth-java` */
        name: z.enum(RLCF_DATASETS).default('mbjp'),
        /** MBJP: how its tasks split into training and evaluation tasks, by MBPP task number (README: "RLCF") */
        split: z.enum(Object.keys(RLCF_SPLITS) as [keyof typeof RLCF_SPLITS]).default('mbpp'),
        /** other datasets: the split the rollouts' tasks come from, and the held-out split evaluated */
        train: z.string().min(1).default('train'),
        test: z.string().min(1).default('test'),
        /** training tasks (with a usable reference) sampled each iteration, the first N of the split; all by default */
        rolloutTasks: z.int().min(1).optional(),
        /** evaluate on the first N MBJP eval tasks only (quick runs); all by default */
        maxEvalTasks: z.int().min(1).optional(),
        /** MathQA-Java tasks evaluated too (its first N; 0: none). Evaluation only: no references */
        mathqaEvalTasks: z.int().min(0).max(1883).default(100),
        /** your own Java tasks instead of MBJP: its splits `train` and `test` (common/dataset-file.ts) */
        file: datasetFileSchema.optional(),
      })
      .strict()
      .prefault({}),
    models: z
      .object({
        /** the policy being trained (the paper: CodeGPT / CodeT5-class models) */
        policy: modelBackendConfigSchema,
        /** the discriminator LLM, for grounding.discriminator.kind "llm": any OpenAI-compatible server */
        discriminator: modelBackendConfigSchema.optional(),
      })
      .strict(),
    sampling: z
      .object({
        /** samples per training task each iteration */
        rollout: sampling(2, 0.8),
        /** samples per eval task: n >= max(ks) */
        eval: sampling(2, 0.8),
        ks: z.array(z.int().min(1)).min(1).default([1, 2]),
      })
      .strict()
      .prefault({}),
    grounding: z
      .object({
        staticChecks: rlcfStaticChecksSchema,
        discriminator: discriminatorSchema.default({ kind: 'llm', scoring: 'auto', topLogprobs: 5, maxTokens: 4 }),
        reward: rlcfRewardConfigSchema.prefault({}),
        /** immediate re-runs of a compile that hit a sandbox infra_error before the program is recorded unscorable */
        infraRetries: z.int().min(0).max(5).default(2),
      })
      .strict()
      .prefault({}),
    trainer: commandTrainerSchema,
    policyUpdate: policyUpdateSchema,
    ...campaignKernelFields,
    /** `targetPassAt1`: stop once MBJP eval pass@1 reaches it; `patience`: stop after that many iterations without an improvement */
    stopping: stoppingSchema('targetPassAt1'),
  })
  .strict()
  .superRefine((c, ctx) => {
    checkGeneratingPolicy(c.models.policy, ctx, { role: 'program', what: 'RLCF policy writes Java programs' });
    const kind = c.grounding.discriminator.kind;
    const judge = c.models.discriminator;
    // With the tests replacing the discriminator's score, it is never asked (workflow.ts).
    const asked = discriminatorNeeded(c.grounding.reward, true);
    if (kind === 'llm' && !judge && asked) {
      ctx.addIssue({ code: 'custom', path: ['models', 'discriminator'], message: 'the "llm" discriminator needs a model: any OpenAI-compatible server (backend "openai", api "chat")' });
    }
    if (kind === 'llm' && judge) {
      checkChatJudge(judge, ctx, 'discriminator', {
        backend: 'the discriminator LLM answers a chat prompt',
        api: 'the discriminator prompt is chat messages',
        role: 'a simulated discriminator LLM answers yes/no',
      });
    }
    if (kind !== 'llm' && judge && asked) {
      ctx.addIssue({ code: 'custom', path: ['models', 'discriminator'], message: `is only used by the "llm" discriminator (grounding.discriminator.kind is "${kind}")` });
    }
    const ks = c.sampling.ks;
    checkPassAtK(ks, c.sampling.eval.n, ctx, ['sampling', 'ks'], true);
    if (new Set(ks).size !== ks.length) ctx.addIssue({ code: 'custom', path: ['sampling', 'ks'], message: 'lists a k twice' });
  });

export type RlcfCampaignConfig = z.output<typeof rlcfCampaignConfigSchema>;

export const parseRlcfCampaignConfig: (raw: unknown, where?: string) => RlcfCampaignConfig = campaignConfigParser(rlcfCampaignConfigSchema);
