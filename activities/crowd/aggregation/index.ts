/**
 * Crowd label aggregation: answers {task, worker, label} in, a label and a label distribution per
 * task out, plus each method's own estimates. Pure and deterministic; the methods and defaults
 * are those of Toloka's crowd-kit 1.4.2, checked against its outputs (test/crowd/).
 */
import type { AggregationResult, Answer } from './answers';
import { dawidSkene } from './dawid-skene';
import { glad } from './glad';
import { mace } from './mace';
import { majorityVote } from './majority-vote';
import { oneCoinDawidSkene } from './one-coin-dawid-skene';
import { wawa } from './wawa';

export type { AggregationResult, Answer, Table } from './answers';

export interface Aggregator {
  name: AggregationMethod;
  /** what crowd-kit calls it */
  crowdKitName: string;
  summary: string;
  aggregate(answers: readonly Answer[]): AggregationResult;
}

export const AGGREGATION_METHODS = ['majority-vote', 'wawa', 'dawid-skene', 'one-coin-dawid-skene', 'glad', 'mace'] as const;
export type AggregationMethod = (typeof AGGREGATION_METHODS)[number];

export const AGGREGATORS: Record<AggregationMethod, Aggregator> = {
  'majority-vote': { name: 'majority-vote', crowdKitName: 'MajorityVote', summary: 'most frequent label', aggregate: majorityVote },
  wawa: { name: 'wawa', crowdKitName: 'Wawa', summary: 'vote weighted by agreement with the majority', aggregate: wawa },
  'dawid-skene': { name: 'dawid-skene', crowdKitName: 'DawidSkene', summary: 'EM with a confusion matrix per worker', aggregate: (a) => dawidSkene(a) },
  'one-coin-dawid-skene': { name: 'one-coin-dawid-skene', crowdKitName: 'OneCoinDawidSkene', summary: 'EM with one accuracy per worker', aggregate: (a) => oneCoinDawidSkene(a) },
  glad: { name: 'glad', crowdKitName: 'GLAD', summary: 'EM over worker ability and task difficulty', aggregate: (a) => glad(a) },
  mace: { name: 'mace', crowdKitName: 'MACE', summary: 'variational Bayes over knowing vs spamming workers', aggregate: (a) => mace(a) },
};

export function isAggregationMethod(name: string): name is AggregationMethod {
  return (AGGREGATION_METHODS as readonly string[]).includes(name);
}

export function aggregate(method: AggregationMethod, answers: readonly Answer[]): AggregationResult {
  return AGGREGATORS[method].aggregate(answers);
}

export { dawidSkene, glad, mace, majorityVote, oneCoinDawidSkene, wawa };

// What the cRLHF loop builds on the aggregates: line consensus, annotator reliability, agreement.
export { CRLHF_CONSENSUS_V1, DEFAULT_CONSENSUS_RULE, linePosterior, programConsensus } from './line-consensus';
export type { ConsensusRule, LineLabel, LineVerdict, ProgramConsensus } from './line-consensus';
export { honeypotReliability, l1LogisticReliability, LAPLACE } from './annotator-reliability';
export type { HoneypotLabel, HoneypotReliability, L1LogisticFit, L1LogisticOptions, SmoothingPrior } from './annotator-reliability';
export { cohenKappa, fleissKappa, krippendorffAlphaNominal } from './agreement';
