import { continueAsNew, executeChild, patched, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import type { ActivityTimeoutsInput } from '../common/campaign-schema';
import type { SandboxLimits } from '../common/sandbox';
import { batchId, testBatchPrefix, type BatchRef, type GenerationKey } from '../common/sandbox-batches';
import type { TaskQueues } from '../common/task-queues';
import { ALGORITHM, CAMPAIGN_ID, ITERATION } from '../common/search-attributes';
import { kernelActivities } from './activities';

/**
 * Runs a run's sandbox batches in a workflow of their own, so that the workflow that asks for
 * them records two events (child started, completed) however many programs there are. The
 * batches are either made here, a page at a time, from the run's stored generations (an
 * evaluation's or an iteration's tests), or already stored (`${prefix}0` .. `${prefix}{count-1}`).
 * Every `batchesPerRun` batches, or sooner when Temporal suggests it, the workflow continues as
 * new carrying only where it stands (batch indexes and the last generation batched), so each
 * run's history stays bounded too. Batches are made with ids fixed by their index and tested by
 * an activity that resumes a batch from its stored results: a worker killed mid-run replays to
 * the same ids and no program is stored twice.
 */
export const MAX_PARALLEL_BATCHES = 4;
/** Batches made per preparing activity: one round of the parallel lanes. */
const BATCHES_PER_PAGE = MAX_PARALLEL_BATCHES;
/** About six events per batch: a run stays far below Temporal's continue-as-new suggestion. */
export const DEFAULT_BATCHES_PER_RUN = 64;

export type BatchSource =
  | { kind: 'generations'; evalRunId: string; batchSize: number; limits?: Partial<SandboxLimits> }
  | { kind: 'stored'; batches: BatchRef };

/** Where the batches stand between runs: [0, next) tested, [0, ready) made. */
export interface BatchCursor {
  next: number;
  ready: number;
  after?: GenerationKey;
  done: boolean;
  runs: number;
}

export interface SandboxBatchesInput {
  source: BatchSource;
  taskQueues: TaskQueues;
  timeouts?: ActivityTimeoutsInput;
  batchesPerRun?: number;
  cursor?: BatchCursor;
}

export interface SandboxBatchesResult {
  batches: BatchRef;
  /** runs of this workflow (continue-as-new), the last included */
  runs: number;
}

export async function sandboxBatchesWorkflow(input: SandboxBatchesInput): Promise<SandboxBatchesResult> {
  const { source } = input;
  const acts = kernelActivities(input.taskQueues, input.timeouts);
  const perRun = Math.max(1, input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN);
  const prefix = source.kind === 'stored' ? source.batches.prefix : testBatchPrefix(source.evalRunId);
  const at: BatchCursor = input.cursor ?? (source.kind === 'stored' ? { next: 0, ready: source.batches.count, done: true, runs: 0 } : { next: 0, ready: 0, done: false, runs: 0 });
  const start = at.next;
  const cursor = { ...at };

  let preparing: Promise<void> | undefined;
  /** Makes the next page of batches (one activity at a time; lanes that need it wait for it). */
  const prepare = (): Promise<void> => {
    if (source.kind === 'stored') return Promise.resolve();
    preparing ??= (async () => {
      try {
        const page = await acts.evalStore.prepareTestBatchPage({
          evalRunId: source.evalRunId,
          batchSize: source.batchSize,
          limits: source.limits,
          first: cursor.ready,
          ...(cursor.after ? { after: cursor.after } : {}),
          maxBatches: Math.min(BATCHES_PER_PAGE, start + perRun - cursor.ready),
        });
        cursor.ready += page.batches;
        cursor.after = page.after;
        cursor.done = page.done;
      } finally {
        preparing = undefined;
      }
    })();
    return preparing;
  };
  const mayTakeMore = () => cursor.next - start < perRun && !workflowInfo().continueAsNewSuggested;
  const morePages = () => !cursor.done && cursor.ready < start + perRun;

  const lane = async (): Promise<void> => {
    while (mayTakeMore()) {
      if (cursor.next >= cursor.ready) {
        if (!morePages()) return;
        await prepare();
        continue;
      }
      const index = cursor.next++;
      // The lane that takes the last made batch makes the next page while its batch runs.
      const refill = cursor.next >= cursor.ready && morePages() ? prepare() : undefined;
      await Promise.all([acts.sandbox.runTestsBatch({ batchId: batchId(prefix, index) }), refill]);
    }
  };
  await Promise.all(Array.from({ length: MAX_PARALLEL_BATCHES }, lane));

  const runs = cursor.runs + 1;
  if (cursor.done && cursor.next >= cursor.ready) return { batches: { prefix, count: cursor.ready }, runs };
  return continueAsNew<typeof sandboxBatchesWorkflow>({ ...input, cursor: { ...cursor, runs } });
}

/** The child's workflow id: one per batch prefix, under the run it tests. */
export function sandboxBatchesWorkflowId(prefix: string): string {
  return `${prefix}batches`;
}

/** Runs the batches in the child workflow and returns them by reference. */
export async function runBatchesInChild(source: BatchSource, opts: Pick<SandboxBatchesInput, 'taskQueues' | 'timeouts' | 'batchesPerRun'>): Promise<SandboxBatchesResult> {
  const prefix = source.kind === 'stored' ? source.batches.prefix : testBatchPrefix(source.evalRunId);
  // Histories recorded before the batches child carried the campaign's attributes replay without them.
  const attributes = patched('sandbox-batches-carry-search-attributes') ? campaignAttributes() : [];
  return executeChild(sandboxBatchesWorkflow, {
    workflowId: sandboxBatchesWorkflowId(prefix),
    args: [{ source, ...opts }],
    ...(attributes.length ? { typedSearchAttributes: attributes } : {}),
  });
}

/** The campaign's search attributes of the running workflow (an iteration, an evaluation), for its children: the UI's campaign filter lists them too. */
function campaignAttributes(): SearchAttributePair[] {
  const keys = new Set([CAMPAIGN_ID.name, ALGORITHM.name, ITERATION.name]);
  return workflowInfo().typedSearchAttributes.getAll().filter((p) => keys.has(p.key.name));
}
