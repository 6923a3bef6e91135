import { z } from 'zod';
import { ConfigError, formatConfigIssues } from './config-error';

export { formatConfigIssues };

/**
 * Backend configs: what a campaign config says about each model role. They travel in workflow
 * inputs and activity payloads, so they hold no secrets: an API key is named by the environment
 * variable that holds it on the worker (`apiKeyEnv`), never by value.
 */

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name, e.g. OPENAI_API_KEY');

const noInlineSecret = z
  .never({ error: 'API keys never go in configs: put the key in an environment variable on the worker and name it in apiKeyEnv' })
  .optional();

export const openaiBackendConfigSchema = z
  .object({
    backend: z.literal('openai'),
    /** the server's base URL including /v1, e.g. http://gpu-1:8000/v1 (vLLM) or http://localhost:11434/v1 (Ollama) */
    baseUrl: z.url().optional(),
    /** or: the environment variable on the worker that holds the base URL */
    baseUrlEnv: envVarName.optional(),
    model: z.string().min(1),
    /**
     * A LoRA adapter served by vLLM under its own model name. Requests then name the adapter, so a
     * freshly trained adapter is used without restarting the server. With `path`, the backend first
     * asks vLLM to load it (POST /v1/load_lora_adapter; needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True).
     */
    adapter: z.object({ name: z.string().min(1), path: z.string().min(1).optional() }).strict().optional(),
    /** environment variable holding the API key; unset means the server needs none (local vLLM, Ollama) */
    apiKeyEnv: envVarName.optional(),
    apiKey: noInlineSecret,
    api: z.enum(['chat', 'completions']).default('chat'),
    /** chat only: OpenAI's reasoning models take max_completion_tokens; most other servers take max_tokens */
    maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).default('max_tokens'),
    /** requests in flight at once through this backend */
    maxConcurrency: z.int().min(1).max(1024).default(8),
    /** per-request client timeout; a timeout is a retryable failure */
    timeoutMs: z.int().min(100).default(120_000),
    /** samples asked for per request: set 1 for servers that ignore `n` (llama.cpp, Ollama) */
    samplesPerRequest: z.int().min(1).optional(),
  })
  .strict()
  .refine((c) => !(c.baseUrl && c.baseUrlEnv), { message: 'set baseUrl or baseUrlEnv, not both', path: ['baseUrlEnv'] });

export const onnxBackendConfigSchema = z
  .object({
    backend: z.literal('onnx'),
    /** causal-lm generates; sequence-classification scores (prompt, program) pairs as a reward model */
    task: z.enum(['causal-lm', 'sequence-classification']),
    /** a Hugging Face Optimum export: model.onnx, tokenizer.json, config.json */
    modelDir: z.string().min(1),
    modelFile: z.string().min(1).default('model.onnx'),
    executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
    /** CUDA device ordinal */
    deviceId: z.int().min(0).default(0),
    intraOpThreads: z.int().min(1).optional(),
    /** pairs per ONNX run when scoring */
    batchSize: z.int().min(1).max(1024).default(8),
    /** tokens kept per scored pair (longer pairs are cut from the end of the program) */
    maxLength: z.int().min(2).default(1024),
    /** which logit is the reward when the classifier has more than one label */
    rewardLabel: z.int().min(0).default(0),
    /** reward = the raw logit, or its sigmoid */
    scoreTransform: z.enum(['logit', 'sigmoid']).default('logit'),
  })
  .strict();

export const SIMULATED_ROLES = ['program', 'api-code', 'feedback', 'judge', 'reward'] as const;

export const simulatedBackendConfigSchema = z
  .object({
    backend: z.literal('simulated'),
    /** program: MBPP policy/refiner; api-code: APIBench policy (Gorilla-format answers); feedback: feedback LLM text; judge: Yes/No answers; reward: reward model */
    role: z.enum(SIMULATED_ROLES).default('program'),
    /** a label for records, e.g. the checkpoint path a simulated trainer returned */
    model: z.string().min(1).default('simulated-base'),
    seed: z.int().default(0),
    /** what the simulated checkpoint was trained on: quality rises with examples */
    trained: z
      .object({ steps: z.int().min(0).default(0), examples: z.int().min(0).default(0) })
      .strict()
      .default({ steps: 0, examples: 0 }),
    quality: z
      .object({
        /** pass probability of the untrained model */
        initial: z.number().min(0).max(1).default(0.15),
        /** the probability approached with unlimited training */
        ceiling: z.number().min(0).max(1).default(0.8),
        /** training examples that close half the gap */
        halfwayExamples: z.number().positive().default(2000),
      })
      .strict()
      .default({ initial: 0.15, ceiling: 0.8, halfwayExamples: 2000 }),
  })
  .strict();

export const modelBackendConfigSchema = z.discriminatedUnion('backend', [
  openaiBackendConfigSchema,
  onnxBackendConfigSchema,
  simulatedBackendConfigSchema,
]);

export type OpenAIBackendConfig = z.output<typeof openaiBackendConfigSchema>;
export type OnnxBackendConfig = z.output<typeof onnxBackendConfigSchema>;
export type SimulatedBackendConfig = z.output<typeof simulatedBackendConfigSchema>;
export type ModelBackendConfig = z.output<typeof modelBackendConfigSchema>;
/** what a campaign config may write: defaults not yet applied */
export type ModelBackendConfigInput = z.input<typeof modelBackendConfigSchema>;

export const MODEL_ROLES = ['policy', 'refiner', 'feedback', 'reward'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/** One backend per role; a loop names only the roles it uses. */
export const modelRolesSchema = z
  .object({
    policy: modelBackendConfigSchema,
    refiner: modelBackendConfigSchema.optional(),
    feedback: modelBackendConfigSchema.optional(),
    reward: modelBackendConfigSchema.optional(),
  })
  .strict();
export type ModelRoles = z.output<typeof modelRolesSchema>;

/** Validates one backend config; the error names each bad field under `where` (e.g. "models.policy"). */
export function parseModelBackendConfig(raw: unknown, where = 'model'): ModelBackendConfig {
  const parsed = modelBackendConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid model backend config:\n${formatConfigIssues(parsed.error.issues, where)}`);
  return parsed.data;
}

export function parseModelRoles(raw: unknown, where = 'models'): ModelRoles {
  const parsed = modelRolesSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid model roles:\n${formatConfigIssues(parsed.error.issues, where)}`);
  return parsed.data;
}
