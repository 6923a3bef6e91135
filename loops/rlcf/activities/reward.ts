import type { CompileOutcome, Outcome } from '../../../activities/sandbox/types';
import type { RlcfRewardConfig } from './config';

/**
 * RLCF's reward for one generated program: the grounding function's stages combined into one
 * number, or UNSCORABLE. Pure: the stages' verdicts in, the reward out.
 *
 * After the paper's MDP reward (Jain et al. 2023, "Coarse-Tuning Models of Code with
 * Reinforcement Learning Feedback", arXiv 2305.18341): its discriminator first runs the
 * compiler's checks on the program; a program they reject is told apart from the reference at
 * once and gets the lowest reward, -1; a program that passes them gets the reward-estimation
 * function's score, here the discriminator LLM's P(Yes) in [0, 1] (discriminator-rubric.ts).
 * feedloop adds, as configured (config.ts):
 *  - static checks that fail on a compiling program cost `staticCheckPenalty` (-0.5) instead of
 *    the paper's outright rejection, so a lint finding ranks between "does not compile" and
 *    "clean";
 *  - where the task has tests (MBJP), their result: `bonus` adds testPassed (+0.5) or
 *    testFailed (-0.5) to the discriminator's score; `replace` uses it (1 or 0) instead;
 *    `ignore` is the paper's reward;
 *  - a program that compiles never scores below one that does not: the sum is floored at
 *    `compileError`.
 * So with the defaults: not compiling -1; compiling in [-1, 1.5].
 *
 * UNSCORABLE, never 0, when the verdict needed is missing: a sandbox infra_error in any stage
 * (the infrastructure failed, not the program) or a discriminator that did not answer yes or no.
 */
export interface GroundingVerdicts {
  compile: { outcome: CompileOutcome };
  /** null when the program did not compile (not checked) */
  staticChecks: { passed: boolean } | null;
  /** null when the task has no tests or they were not run */
  tests: { outcome: Outcome } | null;
  /** null when not asked (not compiled, or tests replace it) */
  discriminator: { pYes: number | null } | null;
}

export type RewardTerm = 'compile' | 'discriminator' | 'tests' | 'staticChecks' | 'floor';

export type GroundingReward =
  | { status: 'scored'; reward: number; terms: Partial<Record<RewardTerm, number>> }
  | { status: 'unscorable'; reward: null; reason: 'infra_error' | 'discriminator_unscorable' | 'discriminator_missing'; detail: string };

function unscorable(reason: Extract<GroundingReward, { status: 'unscorable' }>['reason'], detail: string): GroundingReward {
  return { status: 'unscorable', reward: null, reason, detail };
}

/** Which stages the reward needs for a program that compiled: the activity asks only those. */
export function discriminatorNeeded(config: RlcfRewardConfig, hasTests: boolean): boolean {
  return !(config.tests === 'replace' && hasTests);
}

export function groundingReward(v: GroundingVerdicts, config: RlcfRewardConfig): GroundingReward {
  if (v.compile.outcome === 'infra_error') return unscorable('infra_error', 'the sandbox failed while compiling');
  if (v.compile.outcome !== 'compiled') return { status: 'scored', reward: config.compileError, terms: { compile: config.compileError } };
  if (v.tests?.outcome === 'infra_error') return unscorable('infra_error', 'the sandbox failed while running the tests');
  const terms: Partial<Record<RewardTerm, number>> = {};
  const tests = config.tests === 'ignore' ? null : v.tests;
  const passed = tests ? (tests.outcome === 'passed' ? 1 : 0) : null;
  if (passed !== null && config.tests === 'replace') {
    terms.tests = passed;
  } else {
    if (!v.discriminator) return unscorable('discriminator_missing', 'the reward needs the discriminator, which was not asked');
    if (v.discriminator.pYes === null) return unscorable('discriminator_unscorable', 'the discriminator answered neither yes nor no');
    terms.discriminator = v.discriminator.pYes;
    if (passed !== null) terms.tests = passed ? config.testPassed : config.testFailed;
  }
  if (v.staticChecks && !v.staticChecks.passed) terms.staticChecks = config.staticCheckPenalty;
  const sum = Object.values(terms).reduce((a, b) => a + b, 0);
  if (sum < config.compileError) terms.floor = config.compileError - sum;
  return { status: 'scored', reward: Math.max(sum, config.compileError), terms };
}
