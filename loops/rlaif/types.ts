/**
 * Types and ids of the RLAIF campaign, iteration and APIBench evaluation workflows. Only ids,
 * counts and small configs cross the workflow boundary; rollouts, feedback, rewards and scores
 * live in PostgreSQL.
 */
import type { OnnxBackendConfig } from '../../common/model-config';
import { campaignIds } from '../../common/campaign';
import type { ActivityTimeoutsInput, PolicyBackend } from '../../common/campaign-schema';
import type { SamplingParams } from '../../common/evaluation';
import type { RlaifCampaignConfig } from './config';
import type { TaskQueues } from '../../common/task-queues';

export const RLAIF_PHASES = ['generate', 'feedback', 'reward_model', 'score', 'policy_update', 'evaluate'] as const;
export type RlaifPhase = (typeof RLAIF_PHASES)[number];

/** Workflow and store ids, derived in one place (the audit relies on them). */
export const rlaifIds = {
  ...campaignIds,
  /** the eval run holding the iteration's rollouts (generations) */
  rollouts: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/rollouts`,
  rewardModelJob: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/reward-model`,
};

/** The reward model the campaign scores with: the ONNX export of the last reward-model job. */
export interface RewardModelRef {
  backend: OnnxBackendConfig;
  /** the job that trained it */
  jobId: string;
  iteration: number;
}

/** What each RLAIF iteration starts from, carried from iteration to iteration. */
export interface RlaifCarry {
  /** the policy to sample, as served */
  policy: PolicyBackend;
  /** the policy's trainable weights (the last policy update's output), for the next update */
  policyCheckpoint?: string;
  rewardModel?: RewardModelRef;
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
  /** on a code dataset: held-out pass@k keyed by k */
  passAtK?: Record<string, number>;
  nextPolicy: PolicyBackend;
  policyCheckpoint?: string;
  rewardModel?: RewardModelRef;
}

/** Input of the APIBench evaluation workflow. */
export interface ApiBenchEvaluationInput {
  hubs: Extract<RlaifCampaignConfig['dataset'], { name: 'apibench' }>['hubs'];
  heldOutFraction: number;
  maxQuestionsPerHub?: number;
  policy: PolicyBackend;
  samplesPerQuestion: number;
  sampling: SamplingParams;
  /** defaults to the workflow id */
  evalRunId?: string;
  taskQueues?: Partial<TaskQueues>;
  timeouts?: ActivityTimeoutsInput;
}

export interface ApiBenchEvaluationSummary {
  evalRunId: string;
  questions: number;
  metrics: ApiBenchMetrics;
}
