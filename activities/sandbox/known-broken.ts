import type { CheckDataset } from '../../common/datasets';

/**
 * Reference solutions that do not pass their own tests, with the reason, found by
 * `feedloop sandbox check`. A check reports these apart from unexpected failures; the test
 * suite asserts that exactly these fail, so a sandbox regression cannot hide among them.
 */
const EXITS_EARLY = "calls System.exit(0) before the tests run (MBXP's exit-status check would count it as passed)";
const DOES_NOT_COMPILE = 'reference + tests do not compile:';

export const KNOWN_BROKEN: Record<CheckDataset, Readonly<Record<string, string>>> = {
  // All 974 MBPP and 164 HumanEval references pass.
  mbpp: {},
  humaneval: {},
  // the synthetic family's references are rendered from its spec; all pass (test/unit/synthetic-family.test.ts)
  synth: {},
  'synth-java': {},
  mbjp: {
    'MBJP/106': EXITS_EARLY,
    'MBJP/180': `${DOES_NOT_COMPILE} Number cannot be converted to double`,
    'MBJP/198': `${DOES_NOT_COMPILE} int cannot be converted to Double`,
    'MBJP/214': `${DOES_NOT_COMPILE} int cannot be converted to Double`,
    'MBJP/300': `${DOES_NOT_COMPILE} int cannot be converted to Double`,
    'MBJP/325': `${EXITS_EARLY}; it also reads stdin`,
    'MBJP/397': `${DOES_NOT_COMPILE} int cannot be converted to Double`,
    'MBJP/432': `${DOES_NOT_COMPILE} Number cannot be converted to double`,
    'MBJP/519': `${DOES_NOT_COMPILE} int cannot be converted to Double`,
    'MBJP/535': `${DOES_NOT_COMPILE} int cannot be converted to Double`,
    'MBJP/553': EXITS_EARLY,
    'MBJP/579': EXITS_EARLY,
    'MBJP/622': `${DOES_NOT_COMPILE} Integer cannot be converted to Double`,
    'MBJP/738': `${DOES_NOT_COMPILE} int cannot be converted to Double`,
    'MBJP/835': EXITS_EARLY,
    'MBJP/871': EXITS_EARLY,
    'MBJP/904': `${DOES_NOT_COMPILE} bad operand types for binary operator '%' (Number)`,
  },
};
