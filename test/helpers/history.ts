import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export const HISTORY_FIXTURES_DIR = path.join(__dirname, '..', 'fixtures', 'histories');

/**
 * Writes a workflow's history as a replay fixture when FEEDLOOP_RECORD_HISTORIES is 1 (every
 * fixture) or a comma-separated list naming this one (record new fixtures and keep the old ones,
 * which must go on replaying); the replay test replays every fixture on every run, so a
 * non-deterministic change fails CI.
 */
export async function maybeRecordHistory(client: Client, workflowId: string, name: string): Promise<void> {
  const wanted = process.env.FEEDLOOP_RECORD_HISTORIES;
  if (!wanted || (wanted !== '1' && !wanted.split(',').includes(name))) return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  fs.mkdirSync(HISTORY_FIXTURES_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORY_FIXTURES_DIR, `${name}.json`), `${historyToJSON(history)}\n`);
}

/** Activity type and the task queue it was scheduled on, plus who started it. */
export function activityPlacements(events: readonly HistoryEvent[]) {
  const scheduled = new Map<string, { type: string; taskQueue: string }>();
  const out: Array<{ type: string; taskQueue: string; startedBy: string; scheduledEventId: string }> = [];
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), { type: s.activityType?.name ?? '', taskQueue: s.taskQueue?.name ?? '' });
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const sched = scheduled.get(String(st.scheduledEventId));
      if (sched) out.push({ ...sched, startedBy: st.identity ?? '', scheduledEventId: String(st.scheduledEventId) });
    }
  }
  return out;
}
