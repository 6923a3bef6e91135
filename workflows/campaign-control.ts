import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import type { WithWorkflowArgs, Workflow } from '@temporalio/common';
import {
  ApplicationFailure,
  type ChildWorkflowOptions,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { PHASE } from '../common/search-attributes';
import { pauseIterationSignal, resumeIterationSignal, stopIterationSignal } from './ilf-iteration';

/**
 * Pause, resume and stop of a campaign workflow (Temporal updates: a refused one says why and
 * changes nothing) and its status query. The running iteration child gets the same request as a
 * signal. Shared by the loops' campaign workflows; names match the ILF campaign's, so the CLI
 * steers every loop the same way.
 */
export interface CampaignControlState {
  paused: boolean;
  stopRequested: boolean;
}

export interface CampaignControl<S> {
  campaignId: string;
  state: CampaignControlState;
  isFinished: () => boolean;
  currentChild: () => string | undefined;
  status: () => S;
  updates: { pause: UpdateDefinition<S>; resume: UpdateDefinition<S>; stop: UpdateDefinition<S> };
  query: QueryDefinition<S>;
}

export function installCampaignControl<S>(c: CampaignControl<S>): void {
  const { campaignId, state } = c;
  const forward = async (signal: typeof pauseIterationSignal | typeof resumeIterationSignal | typeof stopIterationSignal) => {
    const child = c.currentChild();
    if (child) await getExternalWorkflowHandle(child).signal(signal);
  };
  setHandler(c.query, c.status);
  setHandler(
    c.updates.pause,
    async () => {
      state.paused = true;
      await forward(pauseIterationSignal);
      return c.status();
    },
    {
      validator: () => {
        if (c.isFinished()) throw new Error(`campaign ${campaignId} has finished`);
        if (state.stopRequested) throw new Error(`campaign ${campaignId} is stopping`);
        if (state.paused) throw new Error(`campaign ${campaignId} is already paused`);
      },
    },
  );
  setHandler(
    c.updates.resume,
    async () => {
      state.paused = false;
      await forward(resumeIterationSignal);
      return c.status();
    },
    {
      validator: () => {
        if (c.isFinished()) throw new Error(`campaign ${campaignId} has finished`);
        if (!state.paused) throw new Error(`campaign ${campaignId} is not paused`);
      },
    },
  );
  setHandler(
    c.updates.stop,
    async () => {
      state.stopRequested = true;
      await forward(stopIterationSignal);
      return c.status();
    },
    {
      validator: () => {
        if (c.isFinished()) throw new Error(`campaign ${campaignId} has finished`);
        if (state.stopRequested) throw new Error(`campaign ${campaignId} is already stopping`);
      },
    },
  );
}

/** The innermost failure message: "Child workflow failed" and "Activity task failed" say nothing. */
export function rootCause(err: unknown): string {
  let e = err as Error | undefined;
  while (e && (e as Error & { cause?: Error }).cause) e = (e as Error & { cause?: Error }).cause;
  return e?.message ?? String(err);
}

/** Whether the last `patience` values improved on the best before them (false: stop). */
export function stillImproving(history: readonly number[], patience: number | undefined): boolean {
  if (patience === undefined || history.length <= patience) return true;
  const best = Math.max(...history.slice(0, history.length - patience));
  return Math.max(...history.slice(history.length - patience)) > best;
}

/**
 * Runs iteration k as a child workflow: a pause that arrived while it was starting reaches it,
 * and a failed iteration marks the campaign failed (the audit must not show it as running)
 * before failing the campaign with the innermost reason.
 */
export async function runIterationChild<W extends Workflow>(
  workflow: W,
  opts: { campaignId: string; iteration: number; workflowId: string; args: Parameters<W>; state: CampaignControlState; markFailed: () => Promise<void> },
): Promise<Awaited<ReturnType<W>>> {
  const options = {
    workflowId: opts.workflowId,
    args: opts.args,
    // A campaign cancelled on purpose takes its running iteration with it.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
  } as unknown as WithWorkflowArgs<W, ChildWorkflowOptions>;
  // By type name (the function's name, as startChild(fn) uses): the generic args type needs it.
  const child = await startChild<W>(workflow.name, options);
  if (opts.state.paused) await child.signal(pauseIterationSignal);
  try {
    return (await child.result()) as Awaited<ReturnType<W>>;
  } catch (err) {
    await opts.markFailed();
    throw ApplicationFailure.nonRetryable(`iteration ${opts.iteration} of campaign ${opts.campaignId} failed: ${rootCause(err)}`, 'IterationFailed');
  }
}

/** Records how a campaign ended and lets in-flight updates finish; returns the outcome. */
export async function closeCampaign(state: CampaignControlState, finish: (status: 'completed' | 'stopped') => Promise<void>): Promise<'completed' | 'stopped'> {
  const outcome = state.stopRequested ? 'stopped' : 'completed';
  upsertSearchAttributes([{ key: PHASE, value: outcome }]);
  await finish(outcome);
  await condition(allHandlersFinished);
  return outcome;
}
