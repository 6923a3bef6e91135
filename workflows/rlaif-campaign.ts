import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { rlaifIds, type RlaifCampaignInput, type RlaifCampaignState, type RlaifIterationResult } from '../common/rlaif';
import { ALGORITHM, CAMPAIGN_ID, ITERATION, PHASE } from '../common/search-attributes';
import { closeCampaign, installCampaignControl, runIterationChild, stillImproving } from './campaign-control';
import { rlaifIterationWorkflow } from './rlaif-iteration';
import { activitiesFor } from './sample-and-test';

/**
 * An RLAIF campaign: one child workflow per iteration (`<campaign>/iteration-<k>`), each starting
 * from the policy and reward model the one before left, until the configured iterations run
 * out or a stopping rule on the executability rate fires. Pause, resume and stop are updates and
 * status is a query, under the same names as the ILF campaign's. Continues as new when the server
 * suggests it, carrying only the small state.
 */
export interface RlaifCampaignStatus {
  campaignId: string;
  algorithm: 'rlaif';
  iteration: number;
  iterations: number;
  paused: boolean;
  stopRequested: boolean;
  finished: boolean;
  executabilityHistory: number[];
  currentIterationWorkflowId?: string;
}

export const pauseRlaifCampaignUpdate = defineUpdate<RlaifCampaignStatus>('pause');
export const resumeRlaifCampaignUpdate = defineUpdate<RlaifCampaignStatus>('resume');
export const stopRlaifCampaignUpdate = defineUpdate<RlaifCampaignStatus>('stop');
export const rlaifCampaignStatusQuery = defineQuery<RlaifCampaignStatus>('status');

export async function rlaifCampaignWorkflow(input: RlaifCampaignInput): Promise<{ status: 'completed' | 'stopped'; iterations: RlaifIterationResult[]; executabilityHistory: number[] }> {
  const { campaignId, config } = input;
  const { store } = activitiesFor(config.taskQueues, config.timeouts);
  const state: RlaifCampaignState = input.state ?? {
    nextIteration: 1,
    policy: config.models.policy,
    executabilityHistory: [],
    paused: false,
    stopRequested: false,
  };
  const results: RlaifIterationResult[] = [];
  let finished = false;
  let currentChild: string | undefined;
  const status = (): RlaifCampaignStatus => ({
    campaignId,
    algorithm: 'rlaif',
    iteration: Math.min(state.nextIteration, config.iterations),
    iterations: config.iterations,
    paused: state.paused,
    stopRequested: state.stopRequested,
    finished,
    executabilityHistory: state.executabilityHistory,
    currentIterationWorkflowId: currentChild,
  });
  installCampaignControl({
    campaignId,
    state,
    isFinished: () => finished,
    currentChild: () => currentChild,
    status,
    updates: { pause: pauseRlaifCampaignUpdate, resume: resumeRlaifCampaignUpdate, stop: stopRlaifCampaignUpdate },
    query: rlaifCampaignStatusQuery,
  });

  upsertSearchAttributes([
    { key: CAMPAIGN_ID, value: campaignId },
    { key: ALGORITHM, value: 'rlaif' },
  ]);
  // The campaign store is shared with ILF, whose config type it names; it stores any config as JSON.
  if (state.nextIteration === 1) await store.registerCampaign({ campaignId, algorithm: 'rlaif', config });

  while (state.nextIteration <= config.iterations && !state.stopRequested) {
    await condition(() => !state.paused || state.stopRequested);
    if (state.stopRequested) break;
    const k = state.nextIteration;
    upsertSearchAttributes([
      { key: ITERATION, value: k },
      { key: PHASE, value: 'iteration' },
    ]);
    currentChild = rlaifIds.iterationWorkflow(campaignId, k);
    const result = await runIterationChild(rlaifIterationWorkflow, {
      campaignId,
      iteration: k,
      workflowId: currentChild,
      args: [{ campaignId, iteration: k, config, policy: state.policy, policyCheckpoint: state.policyCheckpoint, rewardModel: state.rewardModel }],
      state,
      markFailed: () => store.finishCampaign({ campaignId, status: 'failed' }),
    });
    currentChild = undefined;
    results.push(result);
    state.policy = result.nextPolicy;
    state.policyCheckpoint = result.policyCheckpoint;
    state.rewardModel = result.rewardModel;
    state.nextIteration = k + 1;
    if (!result.completed) break;
    const executability = result.metrics?.executabilityRate;
    if (executability !== undefined) state.executabilityHistory.push(executability);

    // Stopping rules.
    const target = config.stopping.targetExecutability;
    if (target !== undefined && executability !== undefined && executability >= target) break;
    if (!stillImproving(state.executabilityHistory, config.stopping.patience)) break;

    if (workflowInfo().continueAsNewSuggested && state.nextIteration <= config.iterations) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof rlaifCampaignWorkflow>({ campaignId, config, state });
    }
  }

  finished = true;
  const outcome = await closeCampaign(state, (status) => store.finishCampaign({ campaignId, status }));
  return { status: outcome, iterations: results, executabilityHistory: state.executabilityHistory };
}
