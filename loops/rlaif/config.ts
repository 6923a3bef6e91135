import { z } from 'zod';
import { CODE_FEEDBACK_QUESTION_IDS, FEEDBACK_QUESTION_IDS } from '../../activities/feedback/ai-feedback-rubric';
import { API_HUBS, codeDatasetsIn } from '../../common/datasets';
import { modelBackendConfigSchema } from '../../common/model-config';
import { campaignConfigParser, checkChatJudge, checkGeneratingPolicy, checkPassAtK, commandTrainerSchema, policyUpdateSchema, campaignHeadFields, campaignKernelFields, stoppingSchema } from '../../common/campaign-schema';

/**
 * The RLAIF campaign config (Dutta et al. 2024, "Applying RLAIF for Code Generation with
 * API-usage in Lightweight LLMs"): one YAML or JSON file, validated before anything starts; every
 * bad field is named. It travels as the campaign workflow's input, so it holds no secrets.
 *
 * Per iteration: rollouts from the policy on training questions -> AI feedback from a larger LLM
 * -> (first iteration, then every `rewardModel.retrainEvery`) reward-model training -> reward
 * scores for the rollouts -> a PPO-style policy update against them -> evaluation on the
 * APIBench eval sets (executability, CodeBLEU, AST match). With `reward: ai-feedback` the judge's
 * scores are the rewards and no reward model is trained.
 *
 * The same loop runs on any Python code dataset with tests (`dataset.name`: MBPP, the synthetic
 * family, ...): the judge answers the code rubric about each program, and the evaluation is
 * held-out pass@k on the dataset's test split. The tests never reach the reward.
 */

/** APIBench (the paper's setting): a dataset object without a name is this one. */
const apibenchDataset = z
  .object({
    name: z.literal('apibench'),
    hubs: z.array(z.enum(API_HUBS)).min(1).default([...API_HUBS]),
    /**
     * Share of the HuggingFace and TensorFlow Hub eval questions held out as training
     * questions (their training splits are not available; TorchHub has its own). Held-out
     * questions are never evaluated.
     */
    heldOutFraction: z.number().gt(0).lt(1).default(0.2),
    /** training questions sampled per iteration (the rollout batch) */
    rolloutQuestions: z.int().min(1).default(256),
    /** evaluate on the first N eval questions of each hub only (quick runs); all by default */
    maxEvalQuestionsPerHub: z.int().min(1).optional(),
  })
  .strict();

/** A Python code dataset with unit tests: rollouts on one split, held-out pass@k on another. */
const codeTaskDataset = z
  .object({
    name: z.enum(codeDatasetsIn('python')),
    /** the split the rollouts' tasks come from */
    train: z.string().min(1).default('train'),
    /** the held-out split evaluated with pass@k */
    test: z.string().min(1).default('test'),
    /** the first N tasks of the train split each iteration; all by default */
    rolloutTasks: z.int().min(1).optional(),
    /** the first N tasks of the test split; all by default */
    maxEvalTasks: z.int().min(1).optional(),
    /** pass@k reported for these k (n = sampling.eval.n must be >= each) */
    ks: z.array(z.int().min(1)).min(1).default([1]),
  })
  .strict();

const datasetSchema = z.preprocess(
  (d) => (d && typeof d === 'object' && !Array.isArray(d) && !('name' in d) ? { ...d, name: 'apibench' } : d),
  z.discriminatedUnion('name', [apibenchDataset, codeTaskDataset]),
);
export type RlaifCodeDataset = z.output<typeof codeTaskDataset>;
export type RlaifDataset = z.output<typeof datasetSchema>;


const sampling = (n: number, temperature: number) =>
  z
    .object({
      n: z.int().min(1).default(n),
      temperature: z.number().min(0).max(2).default(temperature),
      topP: z.number().gt(0).max(1).default(0.95),
      maxTokens: z.int().min(1).default(512),
    })
    .strict()
    .default({ n, temperature, topP: 0.95, maxTokens: 512 });

export const rlaifCampaignConfigSchema = z
  .object({
    ...campaignHeadFields('rlaif'),
    dataset: datasetSchema.default({ name: 'apibench', hubs: [...API_HUBS], heldOutFraction: 0.2, rolloutQuestions: 256 }),
    models: z
      .object({
        /** the small policy being trained (the paper: GPT-2-large, 780M) */
        policy: modelBackendConfigSchema,
        /** the larger LLM that gives AI feedback (the paper: GPT-3.5); any OpenAI-compatible server */
        feedback: modelBackendConfigSchema,
      })
      .strict(),
    sampling: z
      .object({
        /** samples per training question each iteration */
        rollout: sampling(2, 0.8),
        /** samples per eval question (metrics average over them) */
        eval: sampling(1, 0),
      })
      .strict()
      .default({ rollout: { n: 2, temperature: 0.8, topP: 0.95, maxTokens: 512 }, eval: { n: 1, temperature: 0, topP: 0.95, maxTokens: 512 } }),
    feedback: z
      .object({
        /** the decomposed yes/no questions asked about every rollout: the APIBench rubric's, or the code rubric's on a code dataset (default: all of the dataset's rubric) */
        questions: z.array(z.enum([...FEEDBACK_QUESTION_IDS, ...CODE_FEEDBACK_QUESTION_IDS] as [string, ...string[]])).min(1).optional(),
        /** auto: P(Yes) from logprobs when the server returns them, else parsed answers; or force one */
        scoring: z.enum(['auto', 'logprobs', 'parsed']).default('auto'),
        /** alternatives asked for per answer position (logprobs) */
        topLogprobs: z.int().min(1).max(20).default(5),
        /** tokens the judge may write per answer */
        maxTokens: z.int().min(1).max(256).default(4),
      })
      .strict()
      .default({ scoring: 'auto', topLogprobs: 5, maxTokens: 4 }),
    trainer: commandTrainerSchema,
    /**
     * What the policy update's rewards are: `reward-model` (the paper's): a reward model trained on
     * the AI feedback scores the rollouts; `ai-feedback`: the judge's score itself (the mean P(Yes)
     * over the questions asked), with no reward model between (Lee et al. 2023's direct RLAIF).
     */
    reward: z.enum(['reward-model', 'ai-feedback']).default('reward-model'),
    rewardModel: z
      .object({
        /** the model the reward model starts from (a local model directory the trainer loads) */
        baseModel: z.string().min(1),
        /** 0: trained on iteration 1 only; k: retrained on all feedback so far every k iterations */
        retrainEvery: z.int().min(0).default(0),
        hyperparameters: z.record(z.string(), z.unknown()).default({}),
        /** how the exported ONNX reward model is run on GPU workers */
        scoring: z
          .object({
            executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
            batchSize: z.int().min(1).max(1024).default(8),
            maxLength: z.int().min(2).default(1024),
          })
          .strict()
          .default({ executionProvider: 'cpu', batchSize: 8, maxLength: 1024 }),
      })
      .strict()
      .optional(),
    policyUpdate: policyUpdateSchema,
    ...campaignKernelFields,
    /** `targetExecutability`: stop once the evaluation's executability rate reaches it; `patience`: stop after that many iterations without an improvement */
    stopping: stoppingSchema('targetExecutability'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const code = c.dataset.name !== 'apibench';
    checkGeneratingPolicy(c.models.policy, ctx, code ? { role: 'program', what: 'policy on a code dataset writes programs' } : { role: 'api-code', what: 'RLAIF policy answers APIBench questions' });
    checkChatJudge(c.models.feedback, ctx, 'feedback', {
      backend: 'AI feedback comes from an instruction-following LLM',
      api: 'the AI-feedback prompts are chat messages',
      role: 'a simulated AI-feedback model answers yes/no questions',
    });
    if (c.reward === 'reward-model' && !c.rewardModel) ctx.addIssue({ code: 'custom', path: ['rewardModel'], message: 'is required when reward is reward-model (or set reward: ai-feedback to reward the judge\'s score directly)' });
    if (c.reward === 'ai-feedback' && c.rewardModel) ctx.addIssue({ code: 'custom', path: ['rewardModel'], message: 'is not used when reward is ai-feedback (the judge\'s score is the reward): remove it' });
    const questions = c.feedback.questions ?? [];
    if (new Set(questions).size !== questions.length) {
      ctx.addIssue({ code: 'custom', path: ['feedback', 'questions'], message: 'lists a question twice' });
    }
    const rubric: readonly string[] = c.dataset.name === 'apibench' ? FEEDBACK_QUESTION_IDS : CODE_FEEDBACK_QUESTION_IDS;
    questions.forEach((q, i) => {
      if (!rubric.includes(q)) ctx.addIssue({ code: 'custom', path: ['feedback', 'questions', i], message: `"${q}" is not a question of the ${c.dataset.name === 'apibench' ? 'APIBench' : 'code'} rubric (${rubric.join(', ')})` });
    });
    if (c.dataset.name === 'apibench') {
      if (new Set(c.dataset.hubs).size !== c.dataset.hubs.length) ctx.addIssue({ code: 'custom', path: ['dataset', 'hubs'], message: 'lists a hub twice' });
    } else {
      checkPassAtK(c.dataset.ks, c.sampling.eval.n, ctx, ['dataset', 'ks'], true);
    }
  })
  // the questions asked: the configured ones, or every question of the dataset's rubric
  .transform((c) => ({ ...c, feedback: { ...c.feedback, questions: c.feedback.questions ?? [...(c.dataset.name === 'apibench' ? FEEDBACK_QUESTION_IDS : CODE_FEEDBACK_QUESTION_IDS)] } }));

export type RlaifCampaignConfig = z.output<typeof rlaifCampaignConfigSchema>;

export const parseRlaifCampaignConfig: (raw: unknown, where?: string) => RlaifCampaignConfig = campaignConfigParser(rlaifCampaignConfigSchema);
