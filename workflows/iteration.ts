import { condition, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { IterationStatus } from '../common/campaign';
import type { ActivityTimeoutsInput, PolicyBackend } from '../common/campaign-schema';
import { ALGORITHM, CAMPAIGN_ID, ITERATION, PHASE } from '../common/search-attributes';
import type { TaskQueues } from '../common/task-queues';
import { kernelActivities, type KernelActivities } from './activities';
import { iterationStatusQuery, pauseIterationSignal, resumeIterationSignal, stopIterationSignal } from './control';
import { currentWorkerVersion } from './versioning';

/**
 * The skeleton of every loop's iteration workflow: the pause, resume and stop signals the
 * campaign forwards, the status query (phase, and what the iteration waits for), the search
 * attributes, the iteration row, and `enter(phase)`, which waits while paused, records the phase
 * and the counts the step before produced. A loop's iteration workflow creates it, installs its
 * own handlers if it has any (ILF's feedback submissions), calls `start()`, then runs its steps,
 * checking `stopRequested` between them (stop = end after the current step).
 */
export interface IterationSkeletonOptions<Phase extends string> {
  campaignId: string;
  iteration: number;
  algorithm: string;
  firstPhase: Phase;
  policy: PolicyBackend;
  config: { taskQueues: TaskQueues; timeouts: ActivityTimeoutsInput };
  /** whether a stopped iteration records itself as stopped (ILF histories before that did not) */
  recordsStop: () => boolean;
  /** loop-specific parts of the status query's answer */
  status?: () => Partial<IterationStatus>;
}

export class IterationSkeleton<Phase extends string, Counts extends object> {
  readonly acts: KernelActivities;
  readonly counts = {} as Counts;
  phase: Phase;
  paused = false;
  stopRequested = false;
  /** what the iteration waits for now, for the status query (e.g. human feedback) */
  waitingFor: (() => string | undefined) | undefined;

  constructor(private readonly o: IterationSkeletonOptions<Phase>) {
    this.phase = o.firstPhase;
    this.acts = kernelActivities(o.config.taskQueues, o.config.timeouts);
    setHandler(pauseIterationSignal, () => void (this.paused = true));
    setHandler(resumeIterationSignal, () => void (this.paused = false));
    setHandler(stopIterationSignal, () => void (this.stopRequested = true));
    setHandler(iterationStatusQuery, () => {
      const waitingFor = this.waitingFor?.();
      return { iteration: o.iteration, phase: this.phase, paused: this.paused, stopRequested: this.stopRequested, ...(waitingFor ? { waitingFor } : {}), ...o.status?.() };
    });
  }

  /** Sets the iteration's search attributes and writes its row, with the worker version it runs on (pinned: all of it). */
  async start(): Promise<void> {
    const { campaignId: c, iteration: k } = this.o;
    upsertSearchAttributes([
      { key: CAMPAIGN_ID, value: c },
      { key: ALGORITHM, value: this.o.algorithm },
      { key: ITERATION, value: k },
      { key: PHASE, value: this.o.firstPhase },
    ]);
    // An activity's input is not part of what replay compares: older histories replay unchanged.
    const workerVersion = currentWorkerVersion();
    await this.acts.campaignStore.startIteration({ campaignId: c, iteration: k, policy: this.o.policy, ...(workerVersion ? { workerVersion } : {}) });
  }

  /** Enters the next phase: merges the counts the last step produced, waits while paused, records. */
  async enter(next: Phase, phaseCounts?: Partial<Counts>): Promise<void> {
    Object.assign(this.counts, phaseCounts);
    await condition(() => !this.paused || this.stopRequested);
    this.phase = next;
    upsertSearchAttributes([{ key: PHASE, value: next }]);
    await this.acts.campaignStore.recordPhase({ campaignId: this.o.campaignId, iteration: this.o.iteration, phase: next, counts: phaseCounts as Record<string, unknown> | undefined });
  }

  /** The result of an iteration a stop request ended before its last phase. */
  async stopped<R extends { nextPolicy: PolicyBackend }>(result: R): Promise<R & { iteration: number; completed: false; lastPhase: Phase; counts: Counts }> {
    if (this.o.recordsStop()) {
      await this.acts.campaignStore.finishIteration({ campaignId: this.o.campaignId, iteration: this.o.iteration, status: 'stopped', nextPolicy: result.nextPolicy });
    }
    return { ...result, iteration: this.o.iteration, completed: false, lastPhase: this.phase, counts: this.counts };
  }

  /** Records the iteration as completed with its metrics. */
  async completed(metrics: Record<string, number>, nextPolicy: PolicyBackend): Promise<void> {
    await this.acts.campaignStore.finishIteration({ campaignId: this.o.campaignId, iteration: this.o.iteration, status: 'completed', metrics, nextPolicy });
  }
}
