import type { WithWorkflowArgs, Workflow } from '@temporalio/common';
import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowOptions,
} from '@temporalio/workflow';
import { campaignIds, type CampaignState, type CampaignStatus, type IterationResultBase } from '../common/campaign';
import type { ActivityTimeoutsInput } from '../common/campaign-schema';
import { ALGORITHM, CAMPAIGN_ID, ITERATION, PHASE } from '../common/search-attributes';
import type { TaskQueues } from '../common/task-queues';
import { failedStepOf } from '../common/failure-step';
import { kernelActivities, type KernelActivities } from './activities';
import {
  campaignStatusQuery,
  pauseCampaignUpdate,
  pauseIterationSignal,
  resumeCampaignUpdate,
  resumeIterationSignal,
  stopCampaignUpdate,
  stopIterationSignal,
} from './control';

/**
 * The one campaign workflow body every loop runs: iterations as child workflows
 * (`<campaign>/iteration-<k>`), each starting from what the one before left (`carry`: the
 * policy, a reward model, ...), until the configured iterations run out or a stopping rule on
 * the loop's metric fires (target, patience). Pause, resume and stop are updates, status is a
 * query, with the same definitions for every loop. Continues as new when the server suggests
 * it, carrying only the small state. A loop supplies its iteration workflow and how its carry
 * and metric follow from an iteration's result.
 */
export interface CampaignConfigBase {
  iterations: number;
  /** evaluate the starting policy before iteration 1 (default true; older inputs lack it) */
  evaluateStart?: boolean;
  stopping: { patience?: number };
  taskQueues: TaskQueues;
  timeouts: ActivityTimeoutsInput;
}

export interface CampaignLoop<Config extends CampaignConfigBase, Carry, Result extends IterationResultBase, W extends Workflow> {
  algorithm: string;
  /** the name of the metric the stopping rules watch, e.g. "pass@1" */
  /** what the campaign's metric is (status and stopping rules name it): fixed, or chosen by the config */
  metricName: string | ((config: Config) => string);
  iterationWorkflow: W;
  initialCarry(config: Config): Carry;
  /** the carry of a state a campaign recorded before the kernel existed (older continue-as-new inputs) */
  legacyCarry(state: Record<string, unknown>): Carry;
  /** work before iteration 1 (ILF: train pi_Refine); returns the carry iteration 1 starts from */
  beforeFirstIteration?(ctx: { campaignId: string; config: Config; carry: Carry; acts: KernelActivities }): Promise<Carry>;
  iterationArgs(ctx: { campaignId: string; iteration: number; config: Config; carry: Carry }): Parameters<W>;
  afterIteration(carry: Carry, result: Result): Carry;
  /** the stopping metric of a completed iteration, when it has one */
  metric(result: Result): number | undefined;
  /** the stopping rule's target, when the config sets one */
  target(config: Config): number | undefined;
  /**
   * Iteration 0: the evaluation of the starting policy, run before iteration 1 (unless the
   * config says `evaluateStart: false`), so every iteration's metrics stand beside the start.
   */
  startEvaluation?(ctx: { campaignId: string; config: Config; carry: Carry }): { workflow: Workflow; args: unknown[]; metric(summary: unknown): number | undefined };
}

export interface CampaignInput<Config, Carry> {
  campaignId: string;
  config: Config;
  /** carried over continue-as-new */
  state?: CampaignState<Carry>;
}

export interface CampaignResult<Result> {
  status: 'completed' | 'stopped';
  iterations: Result[];
  metricHistory: number[];
  /** the starting policy's metric (iteration 0), when it was evaluated */
  startMetric?: number;
}

/** Whether the last `patience` values improved on the best before them (false: stop). */
export function stillImproving(history: readonly number[], patience: number | undefined): boolean {
  if (patience === undefined || history.length <= patience) return true;
  const best = Math.max(...history.slice(0, history.length - patience));
  return Math.max(...history.slice(history.length - patience)) > best;
}

/** The innermost failure message: "Child workflow failed" and "Activity task failed" say nothing. */
export function rootCause(err: unknown): string {
  let e = err as Error | undefined;
  while (e && (e as Error & { cause?: Error }).cause) e = (e as Error & { cause?: Error }).cause;
  return e?.message ?? String(err);
}


function restoreState<Carry>(loop: { legacyCarry(s: Record<string, unknown>): Carry }, state: CampaignState<Carry> | undefined): CampaignState<Carry> | undefined {
  if (!state || 'carry' in state) return state;
  // A state written before the kernel: its history and carry had loop-specific names.
  const legacy = state as unknown as Record<string, unknown> & { nextIteration: number; paused: boolean; stopRequested: boolean };
  const history = (legacy.passAt1History ?? legacy.executabilityHistory ?? []) as number[];
  return { nextIteration: legacy.nextIteration, paused: legacy.paused, stopRequested: legacy.stopRequested, metricHistory: history, carry: loop.legacyCarry(legacy) };
}

export async function runCampaign<Config extends CampaignConfigBase, Carry, Result extends IterationResultBase, W extends Workflow>(
  loop: CampaignLoop<Config, Carry, Result, W>,
  input: CampaignInput<Config, Carry>,
): Promise<CampaignResult<Result>> {
  const { campaignId, config } = input;
  const acts = kernelActivities(config.taskQueues, config.timeouts);
  const state: CampaignState<Carry> = restoreState(loop, input.state) ?? {
    nextIteration: 1,
    paused: false,
    stopRequested: false,
    metricHistory: [],
    carry: loop.initialCarry(config),
  };
  // The reason travels as the activity's input (not part of what replay compares).
  const markFailed = (reason: string) => acts.campaignStore.finishCampaign({ campaignId, status: 'failed', reason });
  const results: Result[] = [];
  let finished = false;
  let outcome: 'completed' | 'stopped' | undefined = undefined;
  let currentChild: string | undefined;
  installCampaignControl(campaignId, state, (): CampaignStatus => ({
    campaignId,
    algorithm: loop.algorithm,
    iteration: Math.min(state.nextIteration, config.iterations),
    iterations: config.iterations,
    paused: state.paused,
    stopRequested: state.stopRequested,
    finished,
    ...(outcome ? { outcome } : {}),
    metric: { name: typeof loop.metricName === 'string' ? loop.metricName : loop.metricName(config), history: state.metricHistory, ...(state.startMetric !== undefined ? { start: state.startMetric } : {}) },
    currentIterationWorkflowId: currentChild,
  }), () => finished, () => currentChild);

  upsertSearchAttributes([
    { key: CAMPAIGN_ID, value: campaignId },
    { key: ALGORITHM, value: loop.algorithm },
  ]);
  if (state.nextIteration === 1) {
    await acts.campaignStore.registerCampaign({ campaignId, algorithm: loop.algorithm, config });
    if (loop.beforeFirstIteration) state.carry = await loop.beforeFirstIteration({ campaignId, config, carry: state.carry, acts });
    // Histories recorded before iteration 0 existed replay without it.
    if (loop.startEvaluation && config.evaluateStart !== false && patched('iteration-0-evaluation')) {
      state.startMetric = await evaluateStart(loop.startEvaluation({ campaignId, config, carry: state.carry }), { campaignId, algorithm: loop.algorithm, markFailed });
    }
  }

  while (state.nextIteration <= config.iterations && !state.stopRequested) {
    await condition(() => !state.paused || state.stopRequested);
    if (state.stopRequested) break;
    const k = state.nextIteration;
    upsertSearchAttributes([
      { key: ITERATION, value: k },
      { key: PHASE, value: 'iteration' },
    ]);
    currentChild = campaignIds.iterationWorkflow(campaignId, k);
    const result = await runCampaignChild<W, Result>(loop.iterationWorkflow, {
      campaignId,
      algorithm: loop.algorithm,
      iteration: k,
      workflowId: currentChild,
      args: loop.iterationArgs({ campaignId, iteration: k, config, carry: state.carry }),
      paused: () => state.paused,
      markFailed,
    });
    currentChild = undefined;
    results.push(result);
    state.carry = loop.afterIteration(state.carry, result);
    state.nextIteration = k + 1;
    if (!result.completed) break;
    const value = loop.metric(result);
    if (value !== undefined) state.metricHistory.push(value);

    // Stopping rules.
    const target = loop.target(config);
    if (target !== undefined && value !== undefined && value >= target) break;
    if (!stillImproving(state.metricHistory, config.stopping.patience)) break;

    if (workflowInfo().continueAsNewSuggested && state.nextIteration <= config.iterations) {
      await condition(allHandlersFinished);
      await continueAsNew<(i: CampaignInput<Config, Carry>) => Promise<unknown>>({ campaignId, config, state });
    }
  }

  outcome = state.stopRequested ? 'stopped' : 'completed';
  finished = true;
  upsertSearchAttributes([{ key: PHASE, value: outcome }]);
  await acts.campaignStore.finishCampaign({ campaignId, status: outcome });
  await condition(allHandlersFinished);
  // The result says all a caller reads of the curve: a closed workflow answers a query only once a
  // worker has replayed its whole history.
  return { status: outcome, iterations: results, metricHistory: state.metricHistory, ...(state.startMetric !== undefined ? { startMetric: state.startMetric } : {}) };
}

/** Runs iteration 0, the starting policy's evaluation, as `<campaign>/iteration-0/evaluation`. */
async function evaluateStart(
  start: { workflow: Workflow; args: unknown[]; metric(summary: unknown): number | undefined },
  opts: { campaignId: string; algorithm: string; markFailed: (reason: string) => Promise<void> },
): Promise<number | undefined> {
  upsertSearchAttributes([
    { key: ITERATION, value: 0 },
    { key: PHASE, value: 'evaluate-start' },
  ]);
  const summary = await runCampaignChild(start.workflow, { ...opts, iteration: 0, workflowId: campaignIds.evaluation(opts.campaignId, 0), args: start.args as Parameters<Workflow> });
  return start.metric(summary);
}

/** A campaign's failure from its child's: the iteration, the step and the innermost reason. */
function childFailure(iteration: number, campaignId: string, err: unknown): ApplicationFailure {
  // Histories from before it replay without the retry state ("(retries exhausted)") in the step.
  const step = failedStepOf(err, patched('failure-says-retry-state'));
  return ApplicationFailure.nonRetryable(`iteration ${iteration} of campaign ${campaignId} failed${step ? ` in ${step}` : ''}: ${rootCause(err)}`, 'IterationFailed');
}

/** Pause, resume and stop updates (validated: a refused one changes nothing) and the status query. */
function installCampaignControl(
  campaignId: string,
  state: { paused: boolean; stopRequested: boolean },
  status: () => CampaignStatus,
  isFinished: () => boolean,
  currentChild: () => string | undefined,
): void {
  const forward = async (signal: typeof pauseIterationSignal | typeof resumeIterationSignal | typeof stopIterationSignal) => {
    const child = currentChild();
    if (!child) return;
    // The iteration can close between reading its id and the signal: what the update asked for
    // holds in the campaign's state, and the next iteration starts with it.
    await getExternalWorkflowHandle(child)
      .signal(signal)
      .catch((err: unknown) => {
        if (!(err instanceof ApplicationFailure && err.type === 'ExternalWorkflowExecutionNotFound')) throw err;
      });
  };
  const refuseIfFinished = () => {
    if (isFinished()) throw new Error(`campaign ${campaignId} has finished`);
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
        refuseIfFinished();
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
        refuseIfFinished();
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
        refuseIfFinished();
        if (state.stopRequested) throw new Error(`campaign ${campaignId} is already stopping`);
      },
    },
  );
}

/**
 * Starts a child workflow of the campaign carrying the campaign's search attributes from its
 * start, so the UI's campaign filter lists it (iterations and evaluations alike).
 */
export function campaignChildOptions(opts: { campaignId: string; algorithm: string; iteration: number; workflowId: string }): Pick<ChildWorkflowOptions, 'workflowId' | 'typedSearchAttributes'> {
  // Histories recorded before children carried the attributes replay without them.
  if (!patched('children-carry-campaign-search-attributes')) return { workflowId: opts.workflowId };
  return {
    workflowId: opts.workflowId,
    typedSearchAttributes: [
      { key: CAMPAIGN_ID, value: opts.campaignId },
      { key: ALGORITHM, value: opts.algorithm },
      { key: ITERATION, value: opts.iteration },
    ],
  };
}

/**
 * Runs a child of the campaign (iteration k, or iteration 0's evaluation): a pause that arrived
 * while an iteration was starting reaches it, and a failed child marks the campaign failed (the
 * audit must not show it as running) before failing the campaign with the step and the
 * innermost reason.
 */
async function runCampaignChild<W extends Workflow, R>(
  workflow: W,
  opts: { campaignId: string; algorithm: string; iteration: number; workflowId: string; args: Parameters<W>; paused?: () => boolean; markFailed: (reason: string) => Promise<void> },
): Promise<R> {
  const options = {
    ...campaignChildOptions(opts),
    args: opts.args,
    // A campaign cancelled on purpose takes its running iteration with it.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
  } as unknown as WithWorkflowArgs<W, ChildWorkflowOptions>;
  // By type name (the function's name, as startChild(fn) uses): the generic args type needs it.
  const child = await startChild<W>(workflow.name, options);
  if (opts.paused?.()) await child.signal(pauseIterationSignal);
  try {
    return (await child.result()) as R;
  } catch (err) {
    const failure = childFailure(opts.iteration, opts.campaignId, err);
    await opts.markFailed(failure.message);
    throw failure;
  }
}
