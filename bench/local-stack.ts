import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { downLocalServers, isolatedEnv, upLocalServers } from '../infra/local-servers';
import { createLogger } from '../infra/logger';
import { WORKFLOWS_PATH } from '../infra/paths';
import { resolveWorkerOptions } from '../workers/options';
import { startWorkers } from '../workers/run-workers';
import { createSandboxRunner } from '../activities/sandbox/sandbox-runner';
import { DEFAULT_TASK_QUEUES } from '../common/task-queues';

/**
 * What the pipeline benchmarks run on: a throw-away Temporal dev server and PostgreSQL (own
 * state directory, free loopback ports, as the test suite's global setup starts them) and
 * workers of every role in this process, so that this process's peak RSS is the worker's.
 */
export interface LocalStack {
  client: Client;
  databaseUrl: string;
  queues: typeof DEFAULT_TASK_QUEUES;
  /** the CPU worker's sandbox runner (warm it before timing) */
  runner: ReturnType<typeof createSandboxRunner>;
  /** programs the CPU worker runs at once per sandbox activity */
  sandboxConcurrency: number;
  close(): Promise<void>;
}

export async function startLocalStack(opts: { sandboxConcurrency?: number } = {}): Promise<LocalStack> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-bench-'));
  const env = await isolatedEnv(home);
  const cleanups: Array<() => Promise<void>> = [
    async () => {
      await downLocalServers(env);
      fs.rmSync(home, { recursive: true, force: true });
    },
  ];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error(`bench clean-up: ${(err as Error).message}`));
  };
  try {
    const servers = await upLocalServers(env);
    const queues = DEFAULT_TASK_QUEUES;
    const workerOptions = resolveWorkerOptions({
      temporalAddress: servers.temporalAddress,
      databaseUrl: servers.databaseUrl,
      gpus: 1,
      shutdownGraceMs: 2000,
      ...(opts.sandboxConcurrency ? { sandboxConcurrency: opts.sandboxConcurrency } : {}),
    });
    const log = createLogger('bench', 'warn');
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
    const runner = createSandboxRunner({ size: workerOptions.sandboxConcurrency, log });
    const workers = await startWorkers(['workflow', 'cpu', 'gpu'], workerOptions, { workflowBundle, runner, log });
    cleanups.push(async () => {
      workers.shutdown();
      await workers.done;
      await runner.close();
    });
    const connection = await Connection.connect({ address: servers.temporalAddress });
    cleanups.push(() => connection.close());
    return { client: new Client({ connection }), databaseUrl: servers.databaseUrl, queues, runner, sandboxConcurrency: workerOptions.sandboxConcurrency, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The largest payload a history may carry: what the claim-check tests hold every loop to
 * (test/ilf/dry-run-campaign.test.ts); Temporal itself warns at 512 KiB and refuses 2 MiB.
 */
export const CLAIM_CHECK_LIMIT_BYTES = 256 * 1024;

/** The largest payload in history events (inputs, results, heartbeat details, memos...). */
export function largestPayload(events: readonly unknown[]): number {
  let largest = 0;
  const visit = (value: unknown, depth: number): void => {
    if (!value || typeof value !== 'object' || depth > 6) return;
    if ((value as { data?: unknown }).data instanceof Uint8Array && 'metadata' in value) {
      largest = Math.max(largest, ((value as { data?: unknown }).data as Uint8Array).length);
      return;
    }
    const payloads = (value as { payloads?: unknown }).payloads;
    if (Array.isArray(payloads)) {
      for (const p of payloads as Array<{ data?: Uint8Array | null }>) largest = Math.max(largest, p.data?.length ?? 0);
      return;
    }
    for (const v of Object.values(value)) visit(v, depth + 1);
  };
  for (const e of events) visit(e, 0);
  return largest;
}

/** The worker process's peak resident set, in MiB (ru_maxrss is in KiB on Linux). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

export function intFlag(name: string, fallback: number): number {
  const raw = flag(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a whole number >= 1, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

interface HistoryEventLike {
  eventId?: { toString(): string } | null;
  eventTime?: { seconds?: { toString(): string } | null; nanos?: number | null } | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: { toString(): string } | null } | null;
}

/**
 * Where a workflow's time went: per activity type, how many ran and the summed time from
 * scheduling to completion (queueing included), from the history's event times.
 */
export function activityTimes(events: readonly HistoryEventLike[]): Array<{ type: string; count: number; seconds: number }> {
  const at = (e: HistoryEventLike) => Number(e.eventTime?.seconds?.toString() ?? 0) + (e.eventTime?.nanos ?? 0) / 1e9;
  const scheduled = new Map<string, { type: string; time: number }>();
  const byType = new Map<string, { count: number; seconds: number }>();
  for (const e of events) {
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) scheduled.set(e.eventId?.toString() ?? '', { type, time: at(e) });
    const done = e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString();
    const start = done === undefined ? undefined : scheduled.get(done);
    if (start) {
      const t = byType.get(start.type) ?? { count: 0, seconds: 0 };
      byType.set(start.type, { count: t.count + 1, seconds: t.seconds + at(e) - start.time });
    }
  }
  return [...byType].map(([type, t]) => ({ type, ...t }));
}

/** One run of a workflow: its events, the largest payload in them, and what it scheduled. */
export interface RunFigures {
  workflowId: string;
  runId: string;
  events: number;
  largestPayload: number;
  /** activities scheduled, by type */
  activities: Record<string, number>;
  /** activities completed: count and summed schedule-to-close time, by type */
  times: ReturnType<typeof activityTimes>;
  /** child workflows started: their ids and first runs */
  children: Array<{ workflowId: string; runId: string }>;
}

/**
 * The runs of a workflow from the given run on (default: its latest), following continue-as-new
 * (fetchHistory of a bare workflow id reads the latest run only).
 */
export async function workflowRuns(client: Client, workflowId: string, firstRunId?: string): Promise<RunFigures[]> {
  const runs: RunFigures[] = [];
  for (let runId = firstRunId; ; ) {
    const handle = client.workflow.getHandle(workflowId, runId);
    const events = (await handle.fetchHistory()).events ?? [];
    const activities: Record<string, number> = {};
    const children: RunFigures['children'] = [];
    for (const e of events) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) activities[type] = (activities[type] ?? 0) + 1;
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId && child.runId) children.push({ workflowId: child.workflowId, runId: child.runId });
    }
    runs.push({
      workflowId,
      runId: runId ?? (await handle.describe()).runId,
      events: events.length,
      largestPayload: largestPayload(events),
      activities,
      times: activityTimes(events),
      children,
    });
    const next = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return runs;
    runId = next;
  }
}

/** Every run of a workflow and of all its children, recursively. */
export async function workflowTreeRuns(client: Client, workflowId: string, firstRunId?: string): Promise<RunFigures[]> {
  const runs = await workflowRuns(client, workflowId, firstRunId);
  const nested = await Promise.all(runs.flatMap((r) => r.children).map((c) => workflowTreeRuns(client, c.workflowId, c.runId)));
  return [...runs, ...nested.flat()];
}
