/**
 * Types and ids of the RLAIF campaign, iteration and APIBench evaluation workflows. Only ids,
 * counts and small configs cross the workflow boundary; rollouts, feedback, rewards and scores
 * live in PostgreSQL.
 */
import type { ActivityTimeouts } from '../workflows/sample-and-test';
import type { OnnxBackendConfig } from '../activities/models/config';
import type { PolicyBackend } from './campaign-config';
import type { SamplingParams } from './evaluation';
import type { RlaifCampaignConfig } from './rlaif-config';
import type { TaskQueues } from './task-queues';

export const RLAIF_PHASES = ['generate', 'feedback', 'reward_model', 'score', 'policy_update', 'evaluate'] as const;
export type RlaifPhase = (typeof RLAIF_PHASES)[number];

/** Workflow and store ids, derived in one place (the audit relies on them). */
export const rlaifIds = {
  iterationWorkflow: (campaignId: string, k: number) => `${campaignId}/iteration-${k}`,
  /** the eval run holding the iteration's rollouts (generations) */
  rollouts: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/rollouts`,
  evaluation: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/evaluation`,
  rewardModelJob: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/reward-model`,
  policyUpdateJob: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/policy-update`,
};

/** The reward model the campaign scores with: the ONNX export of the last reward-model job. */
export interface RewardModelRef {
  backend: OnnxBackendConfig;
  /** the job that trained it */
  jobId: string;
  iteration: number;
}

export interface RlaifCampaignInput {
  campaignId: string;
  config: RlaifCampaignConfig;
  /** carried over continue-as-new */
  state?: RlaifCampaignState;
}

export interface RlaifCampaignState {
  nextIteration: number;
  /** the policy to sample, as served */
  policy: PolicyBackend;
  /** the policy's trainable weights (the last policy update's output), for the next update */
  policyCheckpoint?: string;
  rewardModel?: RewardModelRef;
  executabilityHistory: number[];
  paused: boolean;
  stopRequested: boolean;
}

export interface RlaifIterationInput {
  campaignId: string;
  iteration: number;
  config: RlaifCampaignConfig;
  policy: PolicyBackend;
  policyCheckpoint?: string;
  rewardModel?: RewardModelRef;
}

export interface RlaifIterationCounts {
  rollouts?: number;
  feedbackScored?: number;
  feedbackUnscorable?: number;
  rewardModelExamples?: number;
  rewardsScored?: number;
  rewardsUnscorable?: number;
  policyUpdateRollouts?: number;
}

/** The paper's metrics of one evaluation (rates in [0, 1]). */
export interface ApiBenchMetrics {
  samples: number;
  /** compiles and resolves against the API database (activities/metrics/executability.ts) */
  executabilityRate: number;
  compileRate: number;
  /** level 3 (runs) is not measured: the sentence says why */
  runs: { measured: false; note: string };
  /** corpus-level CodeBLEU of the answers' code against the references' */
  codebleu: number;
  /** Gorilla AST sub-tree match */
  astAccuracy: number;
  hallucinationRate: number;
  wrongApiRate: number;
  perHub: Record<string, { samples: number; executabilityRate: number; codebleu: number; astAccuracy: number; hallucinationRate: number }>;
}

export interface RlaifIterationResult {
  iteration: number;
  completed: boolean;
  lastPhase: RlaifPhase;
  counts: RlaifIterationCounts;
  metrics?: ApiBenchMetrics;
  nextPolicy: PolicyBackend;
  policyCheckpoint?: string;
  rewardModel?: RewardModelRef;
}

export interface RlaifIterationStatus {
  iteration: number;
  phase: RlaifPhase;
  paused: boolean;
  stopRequested: boolean;
}

/** Input of the APIBench evaluation workflow. */
export interface ApiBenchEvaluationInput {
  hubs: RlaifCampaignConfig['dataset']['hubs'];
  heldOutFraction: number;
  maxQuestionsPerHub?: number;
  policy: PolicyBackend;
  samplesPerQuestion: number;
  sampling: SamplingParams;
  /** defaults to the workflow id */
  evalRunId?: string;
  taskQueues?: Partial<TaskQueues>;
  timeouts?: ActivityTimeouts;
}

export interface ApiBenchEvaluationSummary {
  evalRunId: string;
  questions: number;
  metrics: ApiBenchMetrics;
}
