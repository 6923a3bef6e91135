/**
 * Types and ids of the cRLHF campaign, iteration and evaluation workflows. Only ids, counts and
 * small configs cross the workflow boundary: programs, items, labels and rewards live in
 * PostgreSQL.
 */
import { campaignIds } from '../../common/campaign';
import type { PolicyBackend } from '../../common/campaign-schema';
import type { EvaluationInput, EvaluationSummary } from '../../common/evaluation';

export const CRLHF_PHASES = ['generate', 'test', 'annotate', 'consensus', 'policy_update', 'evaluate'] as const;
export type CrlhfPhase = (typeof CRLHF_PHASES)[number];

/** The datasets an iteration is evaluated on by default (their test tasks): the paper's HumanEval and MBPP. */
export const CRLHF_EVAL_DATASETS = ['humaneval', 'mbpp'] as const;
/** Any Python code dataset with a test split. */
export type CrlhfEvalDataset = string;

/**
 * The datasets a campaign evaluates on, in a fixed order: HumanEval and MBPP first, as every
 * campaign before the choice did, then the others by name. A config stored before the choice
 * (or none) evaluates on the default two.
 */
export function crlhfEvalDatasets(evalConfig: unknown): string[] {
  const names = evalConfig && typeof evalConfig === 'object' ? Object.keys(evalConfig) : [...CRLHF_EVAL_DATASETS];
  const known = CRLHF_EVAL_DATASETS.filter((d) => names.includes(d));
  return [...known, ...names.filter((d) => !(CRLHF_EVAL_DATASETS as readonly string[]).includes(d)).sort()];
}

/** Workflow and store ids, derived in one place (the audit relies on them). */
export const crlhfIds = {
  ...campaignIds,
  /** the eval run holding the iteration's generated programs */
  rollouts: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/rollouts`,
  /** one dataset's part of iteration k's evaluation (k = 0: the starting policy) */
  datasetEvaluation: (campaignId: string, k: number, dataset: CrlhfEvalDataset) => `${campaignId}/iteration-${k}/evaluation/${dataset}`,
};


export interface CrlhfCarry {
  policy: PolicyBackend;
  policyCheckpoint?: string;
}

export interface CrlhfIterationInput {
  campaignId: string;
  iteration: number;
  config: import('./config').CrlhfCampaignConfig;
  policy: PolicyBackend;
  policyCheckpoint?: string;
}

/** One annotation item as the waiting iteration knows it: no program text, no honeypot flag. */
export interface AnnotationItemRef {
  itemId: string;
  lineCount: number;
  annotators: string[];
}

export interface CrlhfIterationCounts {
  rollouts?: number;
  sampleOutcomes?: Record<string, number>;
  items?: number;
  honeypots?: number;
  assignments?: number;
  labels?: number;
  itemsWithQuorum?: number;
  rewardsScored?: number;
  rewardsUnscorable?: number;
  policyUpdateRollouts?: number;
}

export interface CrlhfIterationResult {
  iteration: number;
  completed: boolean;
  lastPhase: CrlhfPhase;
  counts: CrlhfIterationCounts;
  passAtK?: Record<string, number>;
  nextPolicy: PolicyBackend;
  policyCheckpoint?: string;
}

export interface CrlhfEvaluationInput {
  campaignId: string;
  iteration: number;
  algorithm: string;
  perDataset: Array<EvaluationInput & { dataset: CrlhfEvalDataset; evalRunId: string }>;
}

export interface CrlhfEvaluationSummary {
  /** keyed "<dataset>/pass@<k>", plus "pass@<k>": the mean over the datasets */
  passAtK: Record<string, number>;
  perDataset: Record<string, EvaluationSummary>;
}
