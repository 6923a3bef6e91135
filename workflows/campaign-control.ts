import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import { getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
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
