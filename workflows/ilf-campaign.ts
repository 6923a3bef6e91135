import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  getExternalWorkflowHandle,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ilfIds, type CampaignStatus, type IlfCampaignInput, type IlfCampaignState, type IlfIterationResult } from '../common/ilf';
import { ALGORITHM, CAMPAIGN_ID, ITERATION, PHASE } from '../common/search-attributes';
import { ilfIterationWorkflow, pauseIterationSignal, resumeIterationSignal, stopIterationSignal } from './ilf-iteration';
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

/** The innermost failure message: "Child workflow failed" and "Activity task failed" say nothing. */
function rootCause(err: unknown): string {
  let e = err as Error | undefined;
  while (e && (e as Error & { cause?: Error }).cause) e = (e as Error & { cause?: Error }).cause;
  return e?.message ?? String(err);
}

export async function ilfCampaignWorkflow(input: IlfCampaignInput): Promise<{ status: 'completed' | 'stopped'; iterations: IlfIterationResult[]; passAt1History: number[] }> {
  const { campaignId, config } = input;
  const { store } = activitiesFor(config.taskQueues, config.timeouts);
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
  const forward = async (signal: typeof pauseIterationSignal | typeof resumeIterationSignal | typeof stopIterationSignal) => {
    if (currentChild) await getExternalWorkflowHandle(currentChild).signal(signal);
  };

  setHandler(campaignStatusQuery, status);
  setHandler(
    pauseCampaignUpdate,
    async () => {
      state.paused = true;
      await forward(pauseIterationSignal);
      return status();
    },
    {
      validator: () => {
        if (finished) throw new Error(`campaign ${campaignId} has finished`);
        if (state.stopRequested) throw new Error(`campaign ${campaignId} is stopping`);
        if (state.paused) throw new Error(`campaign ${campaignId} is already paused`);
      },
    },
  );
  setHandler(
    resumeCampaignUpdate,
    async () => {
      state.paused = false;
      await forward(resumeIterationSignal);
      return status();
    },
    {
      validator: () => {
        if (finished) throw new Error(`campaign ${campaignId} has finished`);
        if (!state.paused) throw new Error(`campaign ${campaignId} is not paused`);
      },
    },
  );
  setHandler(
    stopCampaignUpdate,
    async () => {
      state.stopRequested = true;
      await forward(stopIterationSignal);
      return status();
    },
    {
      validator: () => {
        if (finished) throw new Error(`campaign ${campaignId} has finished`);
        if (state.stopRequested) throw new Error(`campaign ${campaignId} is already stopping`);
      },
    },
  );

  upsertSearchAttributes([
    { key: CAMPAIGN_ID, value: campaignId },
    { key: ALGORITHM, value: 'ilf' },
  ]);
  if (state.nextIteration === 1) await store.registerCampaign({ campaignId, algorithm: 'ilf', config });
  if (config.refiner.train) {
    throw ApplicationFailure.nonRetryable('refiner.train is not available yet: use refiner.kind "dataset" or an already trained refiner model', 'InvalidConfig');
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
    const child = await startChild(ilfIterationWorkflow, {
      workflowId: currentChild,
      args: [{ campaignId, iteration: k, config, policy: state.policy, refiner: state.refiner }],
      // A campaign cancelled on purpose takes its running iteration with it.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
    // A pause that arrived while the child was starting reaches it now.
    if (state.paused) await child.signal(pauseIterationSignal);
    let result: IlfIterationResult;
    try {
      result = await child.result();
    } catch (err) {
      // The audit must show a failed campaign as failed, not as forever running.
      await store.finishCampaign({ campaignId, status: 'failed' });
      throw ApplicationFailure.nonRetryable(`iteration ${k} of campaign ${campaignId} failed: ${rootCause(err)}`, 'IterationFailed');
    }
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
    const patience = config.stopping.patience;
    if (patience !== undefined && state.passAt1History.length > patience) {
      const h = state.passAt1History;
      const best = Math.max(...h.slice(0, h.length - patience));
      if (Math.max(...h.slice(h.length - patience)) <= best) break;
    }

    if (workflowInfo().continueAsNewSuggested && state.nextIteration <= config.iterations) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof ilfCampaignWorkflow>({ campaignId, config, state });
    }
  }

  finished = true;
  const outcome = state.stopRequested ? 'stopped' : 'completed';
  upsertSearchAttributes([{ key: PHASE, value: outcome }]);
  await store.finishCampaign({ campaignId, status: outcome });
  await condition(allHandlersFinished);
  return { status: outcome, iterations: results, passAt1History: state.passAt1History };
}
