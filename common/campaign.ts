/**
 * What every loop's campaign and iteration workflows share: their status shapes, their results'
 * common part and the ids of their workflows. Workflow-safe: no I/O, nothing imported from above.
 */
import type { PolicyBackend } from './campaign-schema';

/** The iteration child of campaign c, and the evaluation child of an iteration. */
export const campaignIds = {
  iterationWorkflow: (campaignId: string, k: number) => `${campaignId}/iteration-${k}`,
  evaluation: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/evaluation`,
  /** the shared policy-update job of the RL loops */
  policyUpdateJob: (campaignId: string, k: number) => `${campaignId}/iteration-${k}/policy-update`,
};

/** The store key of run `n` of campaign `campaignId`. */
export const runStoreId = (campaignId: string, n: number): string => (n === 1 ? campaignId : `${campaignId}~${n}`);

/** The campaign id and run number a store key names ("X~2" -> X, 2). */
export function runOfStoreId(storeId: string): { campaignId: string; run: number } {
  const m = /^(.*)~(\d+)$/.exec(storeId);
  return m ? { campaignId: m[1]!, run: Number(m[2]) } : { campaignId: storeId, run: 1 };
}

/** What the campaign status query answers, for every loop. */
export interface CampaignStatus {
  campaignId: string;
  algorithm: string;
  iteration: number;
  iterations: number;
  paused: boolean;
  stopRequested: boolean;
  finished: boolean;
  /** how a finished campaign ended (absent while it runs, and from workers before it was answered) */
  outcome?: 'completed' | 'stopped';
  /** the metric the stopping rules watch, e.g. pass@1 (ILF) or the executability rate (RLAIF) */
  metric: { name: string; history: number[]; /** iteration 0: the starting policy's value */ start?: number };
  currentIterationWorkflowId?: string;
}

/** What an iteration's status query answers: its phase and, while it waits, for what. */
export interface IterationStatus {
  iteration: number;
  phase: string;
  paused: boolean;
  stopRequested: boolean;
  /** e.g. "human feedback: 1 of 8 answered, deadline 2026-12-04T10:00:00.000Z" */
  waitingFor?: string;
  /** ILF: feedback requests still open and answered */
  openFeedbackRequests?: number;
  answeredFeedbackRequests?: number;
}

/** The part of every iteration result the campaign kernel reads. */
export interface IterationResultBase {
  iteration: number;
  /** false when a stop request ended the iteration before its last phase */
  completed: boolean;
  lastPhase: string;
  nextPolicy: PolicyBackend;
}

/** A campaign's progress, carried across continue-as-new; `carry` is the loop's own part. */
export interface CampaignState<Carry> {
  nextIteration: number;
  paused: boolean;
  stopRequested: boolean;
  /** the stopping metric of each completed iteration */
  metricHistory: number[];
  /** the stopping metric of the starting policy (iteration 0), when it was evaluated */
  startMetric?: number;
  carry: Carry;
}
