/**
 * Types of the ILF campaign and iteration workflows. Only ids, counts and small configs cross
 * the workflow boundary.
 */
import { campaignIds } from '../../common/campaign';
import type { PolicyBackend } from '../../common/campaign-schema';
import type { IlfCampaignConfig } from './config';

export const ILF_PHASES = ['generate', 'test', 'feedback', 'refine', 'filter', 'train', 'evaluate'] as const;
export type IlfPhase = (typeof ILF_PHASES)[number];

/** Workflow and store ids, derived in one place (the audit relies on them). */
export const ilfIds = {
  ...campaignIds,
  trainSamples: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/train-samples`,
  refinements: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/refinements`,
  trainingJob: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/sft`,
  refinerJob: (campaignId: string) => `${campaignId}/refiner-sft`,
};

/** What each ILF iteration starts from, carried from iteration to iteration. */
export interface IlfCarry {
  policy: PolicyBackend;
  refiner?: PolicyBackend;
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

