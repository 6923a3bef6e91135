import { ActivityFailure, TimeoutFailure } from '@temporalio/workflow';
import type { PlacementIntent } from '../common/task-queues';

/**
 * A step on a checkpoint's host, or, when no worker there starts it within the host
 * schedule-to-start timeout (the host is gone for good), the same step on any GPU host, which
 * pulls the checkpoint from the shared store (workflows/routing.ts). The step's activity is told
 * where it was sent and why, and records that with the worker that ran it.
 */
export interface HostRoute<S> {
  /** the stubs on the host's own queue, with the schedule-to-start timeout */
  host: S;
  /** the same stubs on the shared GPU queue */
  fallback: S;
  hostQueue: string;
  fallbackQueue: string;
  /** the schedule-to-start timeout, as configured (e.g. "10m") */
  after: string;
}

export function isScheduleToStartTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}

export async function onHostOrFallback<S, T>(route: HostRoute<S>, step: string, call: (stubs: S, placement: PlacementIntent) => Promise<T>): Promise<{ result: T; placement: PlacementIntent }> {
  const preferred: PlacementIntent = { step, taskQueue: route.hostQueue, reason: 'preferred-host' };
  try {
    return { result: await call(route.host, preferred), placement: preferred };
  } catch (err) {
    if (!isScheduleToStartTimeout(err)) throw err;
  }
  const fallback: PlacementIntent = { step, taskQueue: route.fallbackQueue, reason: 'fallback', preferred: route.hostQueue, after: route.after };
  return { result: await call(route.fallback, fallback), placement: fallback };
}
