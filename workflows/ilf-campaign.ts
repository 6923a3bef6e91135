import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ilfIds, type CampaignStatus, type IlfCampaignInput, type IlfCampaignState, type IlfIterationResult } from '../common/ilf';
import { ALGORITHM, CAMPAIGN_ID, ITERATION, PHASE } from '../common/search-attributes';
import { closeCampaign, installCampaignControl, runIterationChild, stillImproving } from './campaign-control';
import { ilfIterationWorkflow } from './ilf-iteration';
import { activitiesFor } from './sample-and-test';

/**
 * An ILF campaign: iterations as child workflows (`<campaign>/iteration-<k>`), each policy the
 * checkpoint of the one before, until the configured iterations run out or a stopping rule
 * fires. Pause, resume and stop are updates (a rejected one says why); status is a query.
 * Continues as new when the server suggests it, carrying only the small state.
 */
export const pauseCampaignUpdate = defineUpdate<CampaignStatus>('pause');
export const resumeCampaignUpdate = defineUpdate<CampaignStatus>('resume');
export const stopCampaignUpdate = defineUpdate<CampaignStatus>('stop');
export const campaignStatusQuery = defineQuery<CampaignStatus>('status');

export async function ilfCampaignWorkflow(input: IlfCampaignInput): Promise<{ status: 'completed' | 'stopped'; iterations: IlfIterationResult[]; passAt1History: number[] }> {
  const { campaignId, config } = input;
  const { store, training } = activitiesFor(config.taskQueues, config.timeouts);
  const state: IlfCampaignState = input.state ?? {
    nextIteration: 1,
    policy: config.models.policy,
    refiner: config.models.refiner,
    passAt1History: [],
    paused: false,
    stopRequested: false,
  };
  const results: IlfIterationResult[] = [];
  let finished = false;
  let currentChild: string | undefined;

  const status = (): CampaignStatus => ({
    campaignId,
    iteration: Math.min(state.nextIteration, config.iterations),
    iterations: config.iterations,
    paused: state.paused,
    stopRequested: state.stopRequested,
    finished,
    passAt1History: state.passAt1History,
    currentIterationWorkflowId: currentChild,
  });
  installCampaignControl({
    campaignId,
    state,
    isFinished: () => finished,
    currentChild: () => currentChild,
    status,
    updates: { pause: pauseCampaignUpdate, resume: resumeCampaignUpdate, stop: stopCampaignUpdate },
    query: campaignStatusQuery,
  });

  upsertSearchAttributes([
    { key: CAMPAIGN_ID, value: campaignId },
    { key: ALGORITHM, value: 'ilf' },
  ]);
  if (state.nextIteration === 1) await store.registerCampaign({ campaignId, algorithm: 'ilf', config });
  if (config.refiner.train && state.nextIteration === 1 && !state.refinerTrained) {
    // pi_Refine is trained once, on the MBPP_Refine triples, before the first iteration.
    upsertSearchAttributes([{ key: PHASE, value: 'train-refiner' }]);
    const trained = await training.trainIlfRefiner({ campaignId, refineSplit: config.dataset.splits.refine, trainer: config.trainer, refiner: state.refiner! });
    state.refiner = trained.nextRefiner;
    state.refinerTrained = true;
  }

  while (state.nextIteration <= config.iterations && !state.stopRequested) {
    await condition(() => !state.paused || state.stopRequested);
    if (state.stopRequested) break;
    const k = state.nextIteration;
    upsertSearchAttributes([
      { key: ITERATION, value: k },
      { key: PHASE, value: 'iteration' },
    ]);
    currentChild = ilfIds.iterationWorkflow(campaignId, k);
    const result = await runIterationChild(ilfIterationWorkflow, {
      campaignId,
      iteration: k,
      workflowId: currentChild,
      args: [{ campaignId, iteration: k, config, policy: state.policy, refiner: state.refiner }],
      state,
      markFailed: () => store.finishCampaign({ campaignId, status: 'failed' }),
    });
    currentChild = undefined;
    results.push(result);
    state.policy = result.nextPolicy;
    state.nextIteration = k + 1;
    if (!result.completed) break;
    const passAt1 = result.passAtK?.['1'];
    if (passAt1 !== undefined) state.passAt1History.push(passAt1);

    // Stopping rules.
    const target = config.stopping.targetPassAt1;
    if (target !== undefined && passAt1 !== undefined && passAt1 >= target) break;
    if (!stillImproving(state.passAt1History, config.stopping.patience)) break;

    if (workflowInfo().continueAsNewSuggested && state.nextIteration <= config.iterations) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof ilfCampaignWorkflow>({ campaignId, config, state });
    }
  }

  finished = true;
  const outcome = await closeCampaign(state, (status) => store.finishCampaign({ campaignId, status }));
  return { status: outcome, iterations: results, passAt1History: state.passAt1History };
}
