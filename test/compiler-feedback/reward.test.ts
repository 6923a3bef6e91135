import { describe, expect, it } from 'vitest';
import { parseRlcfGroundingConfig, rlcfRewardConfigSchema } from '../../loops/rlcf/activities/config';
import { groundingReward, type GroundingVerdicts } from '../../loops/rlcf/activities/reward';
import { ConfigError } from '../../common/config-error';

/** The reward is a pure function of the stages' verdicts: each rule, with the default weights and with others. */
const DEFAULTS = rlcfRewardConfigSchema.parse({});

function verdicts(over: Partial<GroundingVerdicts> = {}): GroundingVerdicts {
  return { compile: { outcome: 'compiled' }, staticChecks: { passed: true }, tests: null, discriminator: { pYes: 0.8 }, ...over };
}

describe('groundingReward', () => {
  it('has the documented defaults', () => {
    expect(DEFAULTS).toEqual({ compileError: -1, staticCheckPenalty: -0.5, tests: 'bonus', testPassed: 0.5, testFailed: -0.5 });
  });

  it('gives -1 to a program that does not compile (or not within the CPU limit), whatever the other stages say', () => {
    for (const outcome of ['compile_error', 'timeout'] as const) {
      const r = groundingReward(verdicts({ compile: { outcome }, staticChecks: null, discriminator: null }), DEFAULTS);
      expect(r).toEqual({ status: 'scored', reward: -1, terms: { compile: -1 } });
    }
  });

  it('is the discriminator score for a clean program without tests, the paper\'s reward', () => {
    expect(groundingReward(verdicts(), DEFAULTS)).toEqual({ status: 'scored', reward: 0.8, terms: { discriminator: 0.8 } });
  });

  it('subtracts the static-check penalty', () => {
    const r = groundingReward(verdicts({ staticChecks: { passed: false } }), DEFAULTS);
    expect(r.status === 'scored' && r.reward).toBeCloseTo(0.3);
  });

  it('adds the test bonus or penalty in bonus mode, and never goes below a compile failure', () => {
    const passed = groundingReward(verdicts({ tests: { outcome: 'passed' } }), DEFAULTS);
    expect(passed.status === 'scored' && passed.reward).toBeCloseTo(1.3);
    const failed = groundingReward(verdicts({ tests: { outcome: 'runtime_error' }, staticChecks: { passed: false }, discriminator: { pYes: 0 } }), DEFAULTS);
    expect(failed).toEqual({ status: 'scored', reward: -1, terms: { discriminator: 0, tests: -0.5, staticChecks: -0.5 } });
    const floored = groundingReward(verdicts({ tests: { outcome: 'failed' }, staticChecks: { passed: false }, discriminator: { pYes: 0 } }), { ...DEFAULTS, testFailed: -2 });
    expect(floored.status === 'scored' && floored.reward).toBe(-1);
    expect(floored.status === 'scored' && floored.terms.floor).toBeCloseTo(1.5);
  });

  it('uses the test result instead of the discriminator in replace mode, and ignores tests in ignore mode', () => {
    const replace = { ...DEFAULTS, tests: 'replace' as const };
    expect(groundingReward(verdicts({ tests: { outcome: 'passed' }, discriminator: null }), replace)).toEqual({ status: 'scored', reward: 1, terms: { tests: 1 } });
    expect(groundingReward(verdicts({ tests: { outcome: 'failed' }, discriminator: null }), replace)).toEqual({ status: 'scored', reward: 0, terms: { tests: 0 } });
    // no tests: replace falls back on the discriminator
    expect(groundingReward(verdicts({ discriminator: { pYes: 0.25 } }), replace)).toEqual({ status: 'scored', reward: 0.25, terms: { discriminator: 0.25 } });
    const ignore = { ...DEFAULTS, tests: 'ignore' as const };
    expect(groundingReward(verdicts({ tests: { outcome: 'failed' } }), ignore)).toEqual({ status: 'scored', reward: 0.8, terms: { discriminator: 0.8 } });
  });

  it('is unscorable, never 0, when the sandbox failed or the discriminator could not be read', () => {
    expect(groundingReward(verdicts({ compile: { outcome: 'infra_error' }, staticChecks: null, discriminator: null }), DEFAULTS)).toMatchObject({ status: 'unscorable', reward: null, reason: 'infra_error' });
    expect(groundingReward(verdicts({ tests: { outcome: 'infra_error' } }), DEFAULTS)).toMatchObject({ status: 'unscorable', reward: null, reason: 'infra_error' });
    expect(groundingReward(verdicts({ discriminator: { pYes: null } }), DEFAULTS)).toMatchObject({ status: 'unscorable', reward: null, reason: 'discriminator_unscorable' });
    expect(groundingReward(verdicts({ discriminator: null }), DEFAULTS)).toMatchObject({ status: 'unscorable', reward: null, reason: 'discriminator_missing' });
    // a program that does not compile needs no discriminator: still scored
    expect(groundingReward(verdicts({ compile: { outcome: 'compile_error' }, discriminator: { pYes: null } }), DEFAULTS).status).toBe('scored');
  });
});

describe('parseRlcfGroundingConfig', () => {
  it('fills the defaults', () => {
    const config = parseRlcfGroundingConfig(undefined);
    expect(config.staticChecks).toEqual({ version: 'rlcf-static-checks-v1', signature: true });
    expect(config.discriminator).toEqual({ kind: 'llm', scoring: 'auto', topLogprobs: 5, maxTokens: 4 });
    expect(config.reward).toEqual(DEFAULTS);
    expect(config.infraRetries).toBe(2);
  });

  it('names each bad field in a ConfigError', () => {
    const bad = () => parseRlcfGroundingConfig({ reward: { compileError: 1, tests: 'sometimes' }, staticChecks: { version: 'v0' }, extra: true });
    expect(bad).toThrow(ConfigError);
    const message = (() => {
      try {
        bad();
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/grounding\.reward\.compileError/);
    expect(message).toMatch(/grounding\.reward\.tests/);
    expect(message).toMatch(/grounding\.staticChecks\.version/);
    expect(message).toMatch(/extra/);
  });
});
