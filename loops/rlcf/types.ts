/**
 * Types and ids of the RLCF campaign, iteration and Java evaluation workflows. Only ids, counts
 * and small configs cross the workflow boundary; programs, verdicts and rewards live in
 * PostgreSQL (generations, rlcf_grounding, sandbox results, rollout_rewards).
 */
import { campaignIds } from '../../common/campaign';
import { MBJP_SPLIT_SCHEMES, type FileDatasetName, type MbjpSplitScheme } from '../../common/datasets';
import type { ActivityTimeoutsInput, PolicyBackend } from '../../common/campaign-schema';
import type { SamplingParams } from '../../common/evaluation';
import type { TaskQueues } from '../../common/task-queues';
import type { DiscriminatorSpec, JavaRunMetrics, RewardStageOutput, StageCounts } from './activities/stored-grounding';
import type { OnnxBackendConfig } from '../../common/model-config';

export type { DiscriminatorSpec, JavaRunMetrics, RewardStageOutput, StageCounts };

/** The `trained` discriminator the campaign scores with: the ONNX export of its last reward_model job. */
export interface DiscriminatorModelRef {
  backend: OnnxBackendConfig;
  jobId: string;
  iteration: number;
}

export const RLCF_PHASES = ['generate', 'compile', 'static_checks', 'tests', 'discriminator', 'reward', 'policy_update', 'evaluate'] as const;
export type RlcfPhase = (typeof RLCF_PHASES)[number];

/**
 * MBJP's training and evaluation tasks by MBPP task number (MBJP keeps MBPP's numbers): the split
 * schemes of the one split table (common/datasets.ts), which is workflow-safe.
 */
export const RLCF_SPLITS: { readonly [S in MbjpSplitScheme]: { readonly train: readonly [number, number]; readonly eval: readonly [number, number] } } = MBJP_SPLIT_SCHEMES;

/** Workflow and store ids, derived in one place (the audit relies on them). */
export const rlcfIds = {
  ...campaignIds,
  /** the eval run holding the iteration's rollouts (generations) */
  rollouts: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/rollouts`,
  /** the `trained` discriminator's reward_model job (loops/rlcf/activities/trained-discriminator.ts) */
  discriminatorJob: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/discriminator`,
  /** the eval run of one dataset within the evaluation of iteration k (0: the starting policy) */
  evalRun: (campaignId: string, k: number, dataset: 'mbjp' | 'mathqa-java') => `${campaignId}/iteration-${k}/evaluation/${dataset}`,
};

/** What each RLCF iteration starts from. */
export interface RlcfCarry {
  policy: PolicyBackend;
  /** the policy's trainable weights (the last policy update's output), for the next update */
  policyCheckpoint?: string;
  /** the `trained` discriminator's last export */
  discriminator?: DiscriminatorModelRef;
}

export interface RlcfIterationCounts {
  rollouts?: number;
  discriminatorExamples?: number;
  compiled?: number;
  compileErrors?: number;
  staticPassed?: number;
  staticFailed?: number;
  tested?: number;
  discriminatorScored?: number;
  discriminatorUnscorable?: number;
  rewardsScored?: number;
  rewardsUnscorable?: number;
  policyUpdateRollouts?: number;
}

/** The evaluation of one policy: MBJP's eval tasks and (optionally) a MathQA-Java subset. */
export interface RlcfEvaluationInput {
  policy: PolicyBackend;
  /** `dataset`: a dataset file of the campaign's own Java tasks (its split `test`) instead of MBJP */
  mbjp: { taskRange: [number, number]; maxTasks?: number; dataset?: FileDatasetName };
  mathqaTasks: number;
  samplesPerTask: number;
  ks: number[];
  sampling: SamplingParams;
  infraRetries: number;
  signature: boolean;
  taskQueues?: Partial<TaskQueues>;
  timeouts?: ActivityTimeoutsInput;
}

export interface RlcfEvaluationSummary {
  mbjp: JavaRunMetrics;
  mathqa: JavaRunMetrics | null;
}

export interface RlcfIterationResult {
  iteration: number;
  completed: boolean;
  lastPhase: RlcfPhase;
  counts: RlcfIterationCounts;
  metrics?: RlcfEvaluationSummary;
  nextPolicy: PolicyBackend;
  policyCheckpoint?: string;
  discriminator?: DiscriminatorModelRef;
}
