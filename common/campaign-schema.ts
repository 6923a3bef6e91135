import { z } from 'zod';
import { configIssuesError } from './config-error';
import { modelBackendConfigSchema, type ModelBackendConfig } from './model-config';
import { DEFAULT_TASK_QUEUES } from './task-queues';

/**
 * The parts of a campaign config every loop shares: policies, durations, activity timeouts and
 * retry caps, task queues, and the activity-timeout shape workflows route with. Pure zod: the
 * loops' schemas (loops/<name>/config.ts) build on it, and workflows import its types.
 */
/** Attempts of one activity unless a campaign says otherwise (older campaigns' inputs lack the field). */
export const DEFAULT_MAX_ATTEMPTS = 20;

export const replayPolicySchema = z
  .object({
    backend: z.literal('replay'),
    /** ilf-codegen: the CodeGen-Mono 6.1B programs of the ILF data; gold: MBPP's reference programs */
    source: z.enum(['ilf-codegen', 'gold']),
  })
  .strict();

export const policyBackendSchema = z.union([replayPolicySchema, modelBackendConfigSchema]);

export const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration like 30s, 15m, 72h or 7d');

/**
 * How long a silent activity may be before Temporal retries it elsewhere. Shorter means a
 * killed worker's work moves sooner; longer tolerates slow steps between heartbeats.
 */
export const timeoutsSchema = z
  .object({
    /** store and bookkeeping activities (quick queries) */
    store: duration.default('1m'),
    /** sandbox, feedback and refinement activities, which heartbeat per program */
    cpuHeartbeat: duration.default('1m'),
    /** generation and training activities on GPU workers */
    gpuHeartbeat: duration.default('10m'),
    /**
     * attempts of any one activity before the step fails the campaign with the last error and
     * the worker it ran on (a host that cannot sandbox, a model server that keeps refusing)
     */
    maxAttempts: z.int().min(1).max(1000).default(DEFAULT_MAX_ATTEMPTS),
    /**
     * work on a checkpoint waits this long for the host that holds it (its own queue) before any
     * GPU host takes it, reading the checkpoint from the shared blob store (default 10m)
     */
    hostScheduleToStart: duration.optional(),
  })
  .strict()
  .default({ store: '1m', cpuHeartbeat: '1m', gpuHeartbeat: '10m', maxAttempts: DEFAULT_MAX_ATTEMPTS });

export const taskQueuesSchema = z
  .object({ workflow: z.string().min(1), cpu: z.string().min(1), gpu: z.string().min(1) })
  .strict()
  .default(DEFAULT_TASK_QUEUES);

/** A trainer registered on the GPU workers (their trainers file: activities/training/trainer-registry.ts). */
export const trainerNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a trainer name: letters, digits, ".", "_" and "-"');

/** How a campaign says which trainer runs: `command` (argv, workers without a trainers file) or `name` (a registered trainer). */
export const trainerRefFields = {
  /** argv; the job spec path is appended (or replaces an element "{spec}") */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** a trainer registered on the workers, which decide its argv and env (a shared deployment) */
  name: trainerNameSchema.optional(),
};

/** Exactly one of `command` and `name`. */
export function checkTrainerRef(t: { command?: unknown; name?: unknown }, ctx: z.RefinementCtx, path: PropertyKey[] = []): void {
  if ((t.command === undefined) === (t.name === undefined)) {
    ctx.addIssue({ code: 'custom', path: [...path, t.command === undefined ? 'name' : 'command'], message: 'give exactly one of command (argv) or name (a trainer registered on the workers)' });
  }
}

/**
 * The policy of a loop that generates code: a simulated one plays `role` (`what` it does, for
 * the message), an onnx one is a causal LM.
 */
export function checkGeneratingPolicy(policy: PolicyBackend, ctx: z.RefinementCtx, simulated: { role: string; what: string }): void {
  if (policy.backend === 'simulated' && policy.role !== simulated.role) {
    ctx.addIssue({ code: 'custom', path: ['models', 'policy', 'role'], message: `a simulated ${simulated.what}: use role "${simulated.role}"` });
  }
  if (policy.backend === 'onnx' && policy.task !== 'causal-lm') {
    ctx.addIssue({ code: 'custom', path: ['models', 'policy', 'task'], message: 'the policy generates: use task "causal-lm"' });
  }
}

/**
 * A yes/no judge asked in chat messages (RLAIF's AI feedback, RLCF's discriminator LLM), the
 * config's `models.<role>`: any OpenAI-compatible chat model, or a simulated judge; not onnx.
 * `why` is the loop's wording of each rule, ahead of what to use.
 */
export function checkChatJudge(judge: ModelBackendConfig, ctx: z.RefinementCtx, role: string, why: { backend: string; api: string; role: string }): void {
  const path = ['models', role];
  if (judge.backend === 'onnx') {
    ctx.addIssue({ code: 'custom', path: [...path, 'backend'], message: `${why.backend}: use "openai" (any OpenAI-compatible server) or "simulated"` });
  }
  if (judge.backend === 'openai' && judge.api !== 'chat') {
    ctx.addIssue({ code: 'custom', path: [...path, 'api'], message: `${why.api}: use api "chat"` });
  }
  if (judge.backend === 'simulated' && judge.role !== 'judge') {
    ctx.addIssue({ code: 'custom', path: [...path, 'role'], message: `${why.role}: use role "judge"` });
  }
}

/** Each pass@k needs at least k samples per task; `indexed`: the issue names the k's index in `path`. */
export function checkPassAtK(ks: readonly number[], n: number, ctx: z.RefinementCtx, path: PropertyKey[], indexed = false): void {
  ks.forEach((k, i) => {
    if (k > n) ctx.addIssue({ code: 'custom', path: indexed ? [...path, i] : path, message: `pass@${k} needs at least ${k} samples per task (n is ${n})` });
  });
}

/** A loop's `parseConfig`: the schema's output, or one ConfigError naming every bad field. */
export function campaignConfigParser<S extends z.ZodType>(schema: S): (raw: unknown, where?: string) => z.output<S> {
  return (raw, where = '') => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw configIssuesError(`invalid campaign config${where ? ` ${where}` : ''}`, parsed.error.issues);
    return parsed.data;
  };
}

/** A command trainer of the trainer protocol (trainers/PROTOCOL.md). */
export const commandTrainerSchema = z
  .object({
    ...trainerRefFields,
    hyperparameters: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .superRefine((t, ctx) => checkTrainerRef(t, ctx));

/**
 * How a policy update turns rewards into advantages, registered by name in the reference trainer
 * (trainers/reference/feedloop_trainer/advantages.py): normalised over the batch (PPO-style, the
 * default), per-prompt group mean/std (GRPO), or leave-one-out per prompt (RLOO). An unscorable
 * rollout is left out of its group under every one.
 */
export const ADVANTAGE_ESTIMATORS = ['batch', 'grpo', 'rloo'] as const;
/** The estimators that compare a rollout with the other rollouts of its prompt (its group). */
export const GROUP_ADVANTAGE_ESTIMATORS: ReadonlySet<string> = new Set<(typeof ADVANTAGE_ESTIMATORS)[number]>(['grpo', 'rloo']);

/** The RL loops' shared policy update (trainer protocol `policy_update`). */
export const policyUpdateSchema = z
  .object({
    /** the advantage estimator (passed to the trainer as hyperparameter `advantage`); the trainer's default is batch */
    advantage: z.enum(ADVANTAGE_ESTIMATORS).optional(),
    /**
     * as-scored: each rollout trains with its own reward. shuffled: the NO-FEEDBACK CONTROL, the
     * same campaign with the rewards permuted across the iteration's rollouts (under grpo and
     * rloo among the rollouts of each prompt, so each group keeps its rewards; seeded by the
     * iteration and its rollouts, so a control repeats), so the same reward values and the same
     * update run, but the feedback says nothing about the program it is joined to. A learning
     * claim puts this campaign beside the real one.
     * Absent: as-scored.
     */
    rewards: z.enum(['as-scored', 'shuffled']).optional(),
    /** the policy's trainable weights for iteration 1 (later iterations continue from the last update) */
    baseModel: z.string().min(1),
    /** the KL reference (default: baseModel, the policy before RL) */
    referenceModel: z.string().min(1).optional(),
    /** e.g. kl_coef, clip_range, learning_rate (trainers/reference/README.md) */
    hyperparameters: z.record(z.string(), z.unknown()).default({ kl_coef: 0.05, clip_range: 0.2 }),
  })
  .strict();

/** A campaign's stopping rules: a target for the loop's metric, and patience (iterations without improvement). */
export function stoppingSchema<K extends string>(targetKey: K) {
  const target = z.number().min(0).max(1).optional();
  const patience = z.int().min(1).optional();
  return z
    .object({ [targetKey]: target, patience } as { [P in K]: typeof target } & { patience: typeof patience })
    .strict()
    .default({} as never);
}

/** The first fields of a loop's campaign config: which loop, a label for humans, the seed. */
export function campaignHeadFields<A extends string>(algorithm: A) {
  return {
    algorithm: z.literal(algorithm),
    /** a label for humans; the campaign id is given when starting */
    description: z.string().optional(),
    seed: z.int().default(0),
  };
}

/** The fields every loop's campaign config has besides its own: iterations, timeouts and retry caps, task queues. */
export const campaignKernelFields = {
  iterations: z.int().min(1).max(1000),
  /** iteration 0: evaluate the starting policy before iteration 1, so each iteration shows its change */
  evaluateStart: z.boolean().default(true),
  timeouts: timeoutsSchema,
  taskQueues: taskQueuesSchema,
};

export type CommandTrainerConfig = z.output<typeof commandTrainerSchema>;
export type PolicyUpdateConfig = z.output<typeof policyUpdateSchema>;
export type PolicyBackend = z.output<typeof policyBackendSchema>;
export type ActivityTimeouts = z.output<typeof timeoutsSchema>;
/** What workflows accept: a campaign's timeouts, or those of a history recorded before maxAttempts existed. */
export type ActivityTimeoutsInput = Omit<ActivityTimeouts, 'maxAttempts'> & { maxAttempts?: number };
export const DEFAULT_TIMEOUTS: ActivityTimeouts = { store: '1m', cpuHeartbeat: '1m', gpuHeartbeat: '10m', maxAttempts: DEFAULT_MAX_ATTEMPTS };

/** A dataset file of the user's own tasks, as every loop's `dataset.file` takes it (common/dataset-file.ts). */
export const fileSplitsSchema = z.record(z.string().min(1), z.union([z.array(z.string().min(1)).min(1), z.number().gt(0).max(1)]));

export const datasetFileSchema = z
  .object({
    path: z.string().min(1),
    splits: fileSplitsSchema,
    /** set when the campaign starts: the file's SHA-256 */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  })
  .strict();
