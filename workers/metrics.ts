import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, NativeConnection } from '@temporalio/worker';

/**
 * feedloop's own metrics, next to the SDK's on the worker's Prometheus endpoint
 * (`--metrics-address` / FEEDLOOP_METRICS_ADDRESS: Runtime telemetry, served at /metrics):
 *   feedloop_activities            activities finished, by activity_type and status (completed|failed)
 *   feedloop_programs              sandboxed programs run, by outcome (pass, fail, timeout, ...)
 *   feedloop_training_steps        optimizer steps of finished training jobs
 *   feedloop_task_queue_backlog    approximate backlog of each queue this worker polls (sampled)
 * Programs per second is `rate(feedloop_programs[1m])`. Counters go through the SDK's metric
 * meter, so they carry its labels (namespace, task_queue) and need no second exporter.
 */
export function metricsInterceptor(): ActivityInterceptorsFactory {
  return () => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const ctx = Context.current();
        const meter = ctx.metricMeter;
        const activityType = ctx.info.activityType;
        try {
          const result = await next(input);
          meter.createCounter('feedloop_activities', '1', 'activities finished').add(1, { activity_type: activityType, status: 'completed' });
          recordResult(meter, result);
          return result;
        } catch (err) {
          meter.createCounter('feedloop_activities', '1', 'activities finished').add(1, { activity_type: activityType, status: 'failed' });
          throw err;
        }
      },
    };
    return { inbound };
  };
}

/** Reads what the kernel's activities return: a sandbox batch's outcome counts, a training job's steps. */
function recordResult(meter: MetricMeter, result: unknown): void {
  if (!result || typeof result !== 'object') return;
  const r = result as { outcomes?: unknown; ran?: unknown; steps?: unknown; modelPath?: unknown };
  if (r.outcomes && typeof r.outcomes === 'object' && typeof r.ran === 'number' && r.ran > 0) {
    const programs = meter.createCounter('feedloop_programs', '1', 'sandboxed programs run, by outcome');
    // the batch's counts include programs an earlier attempt ran; count this attempt's share only
    const total = Object.values(r.outcomes as Record<string, number>).reduce((a, b) => a + b, 0);
    for (const [outcome, n] of Object.entries(r.outcomes as Record<string, number>)) {
      const mine = total > 0 ? Math.round((n * r.ran) / total) : 0;
      if (mine > 0) programs.add(mine, { outcome });
    }
  }
  if (typeof r.steps === 'number' && r.steps > 0 && typeof r.modelPath === 'string') {
    meter.createCounter('feedloop_training_steps', '1', 'optimizer steps of finished training jobs').add(r.steps);
  }
}

/** Samples the backlog of the given queues every `intervalMs` into a gauge; returns a stop function. */
export function sampleBacklog(meter: MetricMeter, connection: NativeConnection, namespace: string, taskQueues: readonly string[], intervalMs = 15_000): () => void {
  const gauge = meter.createGauge('feedloop_task_queue_backlog', 'int', '1', 'approximate activity and workflow task backlog');
  const sample = async () => {
    for (const name of taskQueues) {
      for (const [taskQueueType, type] of [[1, 'workflow'], [2, 'activity']] as const) {
        try {
          const res = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name }, taskQueueType, reportStats: true });
          const backlog = Number(res.stats?.approximateBacklogCount ?? 0);
          gauge.set(backlog, { task_queue: name, task_queue_type: type });
        } catch {
          /* a sample missed while the server restarts: the next one tells */
        }
      }
    }
  };
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  void sample();
  return () => clearInterval(timer);
}
