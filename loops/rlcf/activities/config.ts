import { z } from 'zod';
import { ConfigError, describeIssues } from '../../../common/config-error';
import { STATIC_CHECKS_VERSION } from './static-checks';

/**
 * What an RLCF campaign says about its grounding function: the static checks, the discriminator
 * and the reward weights. Defaults and their sources are documented at each field and in
 * reward.ts; the README's "RLCF grounding function (preview)" sums them up.
 */
export const rlcfRewardConfigSchema = z
  .object({
    /** reward of a program javac rejects (or cannot compile within the CPU limit): the paper's -1 */
    compileError: z.number().max(0).default(-1),
    /** added when a compiling program fails the static checks (feedloop's choice; the paper rejects such programs outright, i.e. -1) */
    staticCheckPenalty: z.number().max(0).default(-0.5),
    /**
     * How test results enter, where a task has tests (MBJP; not the paper's setting, which has
     * only the compiler and the discriminator):
     * - bonus: discriminator score plus testPassed / testFailed (default)
     * - replace: the test result (1 passed, 0 not) instead of the discriminator, which is not asked
     * - ignore: the paper's reward, tests unused
     */
    tests: z.enum(['bonus', 'replace', 'ignore']).default('bonus'),
    testPassed: z.number().min(0).default(0.5),
    testFailed: z.number().max(0).default(-0.5),
  })
  .strict();
export type RlcfRewardConfig = z.output<typeof rlcfRewardConfigSchema>;

/** Which static checks run (the versioned list, static-checks.ts) and whether the signature is compared. */
export const rlcfStaticChecksSchema = z
  .object({
    version: z.literal(STATIC_CHECKS_VERSION).default(STATIC_CHECKS_VERSION),
    /** compare the method the prompt asks for with the compiled class */
    signature: z.boolean().default(true),
  })
  .strict()
  .prefault({});

export const rlcfGroundingConfigSchema = z
  .object({
    staticChecks: rlcfStaticChecksSchema,
    discriminator: z
      .object({
        kind: z.literal('llm').default('llm'),
        /** auto: P(Yes) from logprobs when the server returns them, else the parsed answer */
        scoring: z.enum(['auto', 'logprobs', 'parsed']).default('auto'),
        topLogprobs: z.int().min(1).max(20).default(5),
        maxTokens: z.int().min(1).max(64).default(4),
      })
      .strict()
      .prefault({}),
    reward: rlcfRewardConfigSchema.prefault({}),
    /** immediate re-runs of a stage that hit a sandbox infra_error before the program is recorded unscorable */
    infraRetries: z.int().min(0).max(5).default(2),
  })
  .strict();
export type RlcfGroundingConfig = z.output<typeof rlcfGroundingConfigSchema>;
export type RlcfGroundingConfigInput = z.input<typeof rlcfGroundingConfigSchema>;

/** Parses a grounding config; bad input throws ConfigError naming each bad field. */
export function parseRlcfGroundingConfig(raw: unknown, where = 'grounding'): RlcfGroundingConfig {
  const parsed = rlcfGroundingConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(`invalid RLCF grounding config:\n${describeIssues(parsed.error.issues, `${where}.`)}`);
  return parsed.data;
}
