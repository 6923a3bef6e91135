import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerAuditCommands } from '../../cli/audit';
import { defaultHistoryFile, exportHistory } from '../../cli/history';
import { testClient } from '../helpers/temporal';
import { tempDir } from '../helpers/temp-dir';

/** `feedloop history export` against the suite's real Temporal server. */
let client: Client;
let close: () => Promise<void>;
let dir: string;
const workflowId = `audit-history/${randomUUID()}`;
let runId: string;

beforeAll(async () => {
  ({ client, close } = await testClient());
  dir = tempDir('history');
  // Nobody polls this queue: the history holds the start and a scheduled workflow task.
  const handle = await client.workflow.start('auditHistoryProbe', { taskQueue: `nobody-${randomUUID()}`, workflowId, args: [{ note: 'probe' }] });
  runId = handle.firstExecutionRunId;
  await handle.signal('poke', 1);
});
afterAll(async () => {
  await client?.workflow.getHandle(workflowId).terminate('test done').catch(() => undefined);
  await close?.();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('history export', () => {
  it('writes JSON that historyFromJSON reads back with the same events', async () => {
    const out = path.join(dir, 'h.json');
    const exported = await exportHistory(client, workflowId, { runId, out });
    expect(exported).toEqual({ file: out, events: 3 });
    const history = historyFromJSON(JSON.parse(fs.readFileSync(out, 'utf8')));
    expect(history.events).toHaveLength(3);
    const types = history.events!.map((e) => e.eventType);
    expect(types).toEqual([
      temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    ]);
    expect(history.events![0]!.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe('auditHistoryProbe');
    // the format `temporal workflow show -o json` writes: enum names, string ids
    const raw = JSON.parse(fs.readFileSync(out, 'utf8')) as { events: Array<{ eventId: string; eventType: string }> };
    expect(raw.events[0]).toMatchObject({ eventId: '1', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED' });
  });

  it('names the default file after the workflow id, with / as __', () => {
    expect(defaultHistoryFile('camp/iteration-2/evaluation')).toBe('camp__iteration-2__evaluation.history.json');
  });

  it('runs as `feedloop history export`, printing the path and the event count', async () => {
    const saved = { address: process.env.TEMPORAL_ADDRESS, cwd: process.cwd() };
    const lines: string[] = [];
    const origLog = console.log;
    process.env.TEMPORAL_ADDRESS = inject('temporalAddress');
    process.chdir(dir);
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      const program = new Command('feedloop').exitOverride();
      registerAuditCommands(program);
      await program.parseAsync(['history', 'export', workflowId], { from: 'user' });
    } finally {
      console.log = origLog;
      process.chdir(saved.cwd);
      if (saved.address === undefined) delete process.env.TEMPORAL_ADDRESS;
      else process.env.TEMPORAL_ADDRESS = saved.address;
    }
    const file = path.join(fs.realpathSync(dir), defaultHistoryFile(workflowId));
    expect(lines).toEqual([`${file}: 3 events`]);
    expect(historyFromJSON(JSON.parse(fs.readFileSync(file, 'utf8'))).events).toHaveLength(3);
  });

  it('fails with WorkflowNotFoundError for an unknown workflow', async () => {
    await expect(exportHistory(client, `audit-history/missing-${randomUUID()}`, { out: path.join(dir, 'missing.json') })).rejects.toThrow(WorkflowNotFoundError);
    expect(fs.existsSync(path.join(dir, 'missing.json'))).toBe(false);
  });
});
