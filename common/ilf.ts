/**
 * Types of the ILF campaign and iteration workflows. Only ids, counts and small configs cross
 * the workflow boundary.
 */
import type { IlfCampaignConfig, PolicyBackend } from './campaign-config';

export const ILF_PHASES = ['generate', 'test', 'feedback', 'refine', 'filter', 'train', 'evaluate'] as const;
export type IlfPhase = (typeof ILF_PHASES)[number];

/** Workflow and store ids, derived in one place (the audit relies on them). */
export const ilfIds = {
  iterationWorkflow: (campaignId: string, k: number) => `${campaignId}/iteration-${k}`,
  trainSamples: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/train-samples`,
  refinements: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/refinements`,
  evaluation: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/evaluation`,
  trainingJob: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/sft`,
  refinerJob: (campaignId: string) => `${campaignId}/refiner-sft`,
};

export interface IlfCampaignInput {
  campaignId: string;
  config: IlfCampaignConfig;
  /** carried over continue-as-new */
  state?: IlfCampaignState;
}

export interface IlfCampaignState {
  /** the next iteration to run (1-based) */
  nextIteration: number;
  policy: PolicyBackend;
  refiner?: PolicyBackend;
  passAt1History: number[];
  paused: boolean;
  stopRequested: boolean;
  /** pi_Refine was trained on MBPP_Refine (refiner.train) */
  refinerTrained?: boolean;
}

export interface IlfIterationInput {
  campaignId: string;
  iteration: number;
  config: IlfCampaignConfig;
  policy: PolicyBackend;
  refiner?: PolicyBackend;
}

export interface IlfIterationCounts {
  samples?: number;
  sampleOutcomes?: Record<string, number>;
  failing?: number;
  feedbackRequested?: number;
  feedbackReceived?: number;
  refinementsGenerated?: number;
  refinementsKept?: number;
  trainingExamples?: number;
}

export interface IlfIterationResult {
  iteration: number;
  /** false when a stop request ended the iteration before its last phase */
  completed: boolean;
  lastPhase: IlfPhase;
  counts: IlfIterationCounts;
  passAtK?: Record<string, number>;
  nextPolicy: PolicyBackend;
}

export interface FeedbackSubmission {
  /** the request to answer; or name the task, when it has exactly one open request */
  requestId?: string;
  taskId?: string;
  text: string;
  author?: string;
}

export interface OpenFeedbackRequest {
  requestId: string;
  taskId: string;
}

export interface CampaignStatus {
  campaignId: string;
  iteration: number;
  iterations: number;
  paused: boolean;
  stopRequested: boolean;
  finished: boolean;
  passAt1History: number[];
  currentIterationWorkflowId?: string;
}

export interface IterationStatus {
  iteration: number;
  phase: IlfPhase;
  paused: boolean;
  stopRequested: boolean;
  openFeedbackRequests: number;
  answeredFeedbackRequests: number;
}
