import { CancelledFailure, TerminatedFailure, TimeoutFailure, WorkflowNotFoundError } from '@temporalio/common';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import net from 'node:net';
import type pg from 'pg';
import { endText } from '../audit/core';
import { readEnv } from '../infra/env';
import { connectClient } from './evaluate';

/**
 * How a campaign's workflows ended, as Temporal tells it, and the store brought in line with it.
 * A workflow records its own end where it can (completed, stopped, failed with the step and the
 * reason); where it cannot (terminated, cancelled, timed out, a worker that died), `campaign
 * status`, `audit` and `report` reconcile the store from Temporal's describe and close event when
 * they read it, so all three say the same thing in the same words (audit/core.ts endText).
 */

export type EndStatus = 'running' | 'completed' | 'stopped' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

export interface WorkflowEnd {
  status: EndStatus;
  /** the failure (step and innermost message) or the terminate reason; null when none */
  endReason: string | null;
  runId: string;
  closedAt: Date | null;
  /** the execution's search attributes (FeedloopAlgorithm, FeedloopIteration, ...) */
  searchAttributes: Record<string, unknown>;
}

type FailureLike = Error & { cause?: FailureLike; activityType?: string; failure?: unknown };

/** "in activity trainPolicy: Cannot find module ..." from a failure chain: the step it names and the innermost message. */
export function failureText(err: unknown): string {
  let step: string | undefined;
  let e = err as FailureLike | undefined;
  let last = e;
  for (; e; e = e.cause) {
    if (!step && e.activityType) step = `activity ${e.activityType}`;
    last = e;
  }
  const message = last?.message || String(err);
  // A campaign's own failure already names its iteration and step.
  return step && !message.includes(step) ? `in ${step}: ${message}` : message;
}

/** How one workflow execution ended (or that it runs); undefined when Temporal knows no such workflow. */
export async function workflowEnd(client: Client, workflowId: string, runId?: string): Promise<WorkflowEnd | undefined> {
  const handle = client.workflow.getHandle(workflowId, runId);
  let desc;
  try {
    desc = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const base = { runId: desc.runId, closedAt: desc.closeTime ?? null, searchAttributes: desc.searchAttributes as Record<string, unknown> };
  if (desc.status.name === 'RUNNING') return { ...base, status: 'running', endReason: null };
  try {
    // Closed: the result (or the failure) comes from the close event, following continue-as-new.
    const result = (await handle.result()) as { status?: string } | undefined;
    return { ...base, status: result?.status === 'stopped' ? 'stopped' : 'completed', endReason: null };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    if (cause instanceof TerminatedFailure) return { ...base, status: 'terminated', endReason: cause.message && cause.message !== 'Workflow execution terminated' ? cause.message : null };
    if (cause instanceof CancelledFailure) return { ...base, status: 'cancelled', endReason: null };
    if (cause instanceof TimeoutFailure) return { ...base, status: 'timed_out', endReason: 'the workflow execution timeout passed' };
    return { ...base, status: 'failed', endReason: failureText(cause ?? err) };
  }
}

/** A step of a running workflow (or of its running children) that Temporal is retrying, with its last error. */
export interface RetryingStep {
  workflowId: string;
  activity: string;
  attempt: number;
  lastError: string | null;
  lastErrorAt: Date | null;
}

type PendingActivity = { activityType?: { name?: string | null } | null; attempt?: number | null; lastFailure?: { message?: string | null; cause?: unknown } | null; lastAttemptCompleteTime?: { seconds?: unknown } | null };
type PendingChild = { workflowId?: string | null; runId?: string | null };

const innermost = (f: { message?: string | null; cause?: unknown } | null | undefined): string | null => {
  let e = f;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? null;
};

/** The steps Temporal retries in a workflow and its running children (to `depth` levels): attempt, last error and its time. */
export async function retryingSteps(client: Client, workflowId: string, depth = 3): Promise<RetryingStep[]> {
  let raw: { pendingActivities?: PendingActivity[] | null; pendingChildren?: PendingChild[] | null };
  try {
    raw = (await client.workflow.getHandle(workflowId).describe()).raw as typeof raw;
  } catch {
    return []; // closing as we ask: best effort
  }
  const out: RetryingStep[] = [];
  for (const a of raw.pendingActivities ?? []) {
    if ((a.attempt ?? 1) <= 1 && !a.lastFailure) continue;
    const seconds = Number(a.lastAttemptCompleteTime?.seconds ?? 0);
    out.push({ workflowId, activity: a.activityType?.name ?? '?', attempt: a.attempt ?? 1, lastError: innermost(a.lastFailure), lastErrorAt: seconds ? new Date(seconds * 1000) : null });
  }
  if (depth > 0) {
    for (const child of raw.pendingChildren ?? []) if (child.workflowId) out.push(...(await retryingSteps(client, child.workflowId, depth - 1)));
  }
  return out;
}

/** "retrying activity policyUpdate (attempt 5) in c/iteration-1; last error at 2026-...: Cannot find module" */
export function formatRetryingStep(s: RetryingStep): string {
  return `retrying activity ${s.activity} (attempt ${s.attempt}) in ${s.workflowId}` + (s.lastError ? `; last error${s.lastErrorAt ? ` at ${s.lastErrorAt.toISOString()}` : ''}: ${s.lastError.split('\n')[0]}` : '');
}

const ENDED = (s: EndStatus) => s !== 'running' && s !== 'completed' && s !== 'stopped';

/**
 * Brings the store's campaign and iteration rows in line with how Temporal says their workflows
 * ended: a row still `running` (or `failed` with no reason) whose workflow has closed gets its
 * status and reason, and the training jobs it left `running` get the same end. Changes nothing
 * while the workflows run. Returns the campaign's end as Temporal tells it (undefined: unknown to Temporal).
 */
export async function reconcileCampaign(pool: pg.Pool, client: Client, campaignId: string): Promise<WorkflowEnd | undefined> {
  const { rows: campaigns } = await pool.query<{ workflow_id: string; status: string; end_reason: string | null }>(
    `select workflow_id, status, to_jsonb(c)->>'end_reason' as end_reason from campaigns c where id = $1`,
    [campaignId],
  );
  const campaign = campaigns[0];
  const end = await workflowEnd(client, campaign?.workflow_id || campaignId);
  if (!campaign || !end) return end;
  const hasEndReason = await pool
    .query(`select 1 from information_schema.columns where table_name = 'campaigns' and column_name = 'end_reason'`)
    .then((r) => r.rowCount! > 0);
  if (!hasEndReason) return end; // a store from before migration 011: nothing to record into
  if (end.status !== 'running' && (campaign.status === 'running' || (campaign.status === 'failed' && !campaign.end_reason))) {
    await pool.query(
      `update campaigns set status = $2, end_reason = coalesce(end_reason, $3), finished_at = coalesce(finished_at, $4, now())
       where id = $1 and (status = 'running' or (status = 'failed' and end_reason is null))`,
      [campaignId, end.status, end.endReason, end.closedAt],
    );
  }
  const { rows: iterations } = await pool.query<{ iteration: number; workflow_id: string; run_id: string }>(
    `select iteration, workflow_id, run_id from campaign_iterations where campaign_id = $1 and (status = 'running' or (status = 'failed' and end_reason is null))`,
    [campaignId],
  );
  for (const it of iterations) {
    const itEnd = await workflowEnd(client, it.workflow_id, it.run_id || undefined);
    if (!itEnd || !ENDED(itEnd.status)) continue;
    await pool.query(
      `update campaign_iterations set status = $3, end_reason = coalesce(end_reason, $4), finished_at = coalesce(finished_at, $5, now())
       where campaign_id = $1 and iteration = $2`,
      [campaignId, it.iteration, itEnd.status, itEnd.endReason, itEnd.closedAt],
    );
    await endRunningJobs(pool, campaignId, it.iteration, endText(itEnd));
  }
  // Jobs of the campaign itself (ILF's refiner) and of iterations that never recorded their end.
  if (ENDED(end.status)) await endRunningJobs(pool, campaignId, null, `the campaign ${endText(end)}`);
  return end;
}

/** Training jobs a closed workflow left `running` (a trainer that kept crashing): ended, with why. */
async function endRunningJobs(pool: pg.Pool, campaignId: string, iteration: number | null, why: string): Promise<void> {
  await pool.query(
    `update training_jobs set status = 'interrupted', note = coalesce(note || '; ', '') || $3, finished_at = coalesce(finished_at, now())
     where campaign_id = $1 and ($2::int is null or iteration = $2) and status = 'running'`,
    [campaignId, iteration, why],
  );
}

/**
 * Reconciles the campaign's rows when the Temporal server of the environment answers (the audit
 * and the report read the store; a server that is down leaves the store as it is, quietly).
 */
export async function reconcileIfReachable(pool: pg.Pool, campaignId: string): Promise<void> {
  let connection: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    const env = readEnv();
    // A refused port answers at once; the client's connect would wait out its timeout.
    if (!(await portAnswers(env.TEMPORAL_ADDRESS))) return;
    connection = await connectClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
    await reconcileCampaign(pool, connection.client, campaignId);
  } catch {
    /* no server, or it cannot say: the store is what there is */
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Whether host:port accepts a TCP connection within `ms`. */
function portAnswers(address: string, ms = 1000): Promise<boolean> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)), timeout: ms });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
