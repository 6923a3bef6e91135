import fs from 'node:fs';
import path from 'node:path';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Command } from 'commander';
import { readEnv } from '../infra/env';
import { connectClient } from './evaluate';

/**
 * `feedloop history export <workflowId>`: writes a workflow's history as JSON, the format of
 * `temporal workflow show -o json` that `historyFromJSON` and `Worker.runReplayHistories` read.
 * The dev server drops closed histories after its retention period: export what must be kept.
 */

/** "camp/iteration-1/evaluation" -> "camp__iteration-1__evaluation.history.json" */
export function defaultHistoryFile(workflowId: string): string {
  return `${workflowId.replaceAll('/', '__')}.history.json`;
}

export interface ExportedHistory {
  file: string;
  events: number;
}

/** gRPC status NOT_FOUND: fetchHistory passes it through instead of a WorkflowNotFoundError */
const GRPC_NOT_FOUND = 5;

/** Fetches the history (latest run unless runId is given) and writes it, atomically, to `out`. */
export async function exportHistory(client: Client, workflowId: string, opts: { runId?: string; out?: string } = {}): Promise<ExportedHistory> {
  const history = await client.workflow
    .getHandle(workflowId, opts.runId)
    .fetchHistory()
    .catch((err: unknown) => {
      if (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND) throw new WorkflowNotFoundError(err.details || err.message, workflowId, opts.runId);
      throw err;
    });
  const file = path.resolve(opts.out ?? defaultHistoryFile(workflowId));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, `${historyToJSON(history)}\n`);
  fs.renameSync(`${file}.tmp`, file);
  return { file, events: history.events?.length ?? 0 };
}

export function registerHistoryCommands(program: Command): void {
  const history = program.command('history').description('Temporal workflow histories');
  history
    .command('export <workflowId>')
    .description('write a workflow history as JSON (replayable; same format as `temporal workflow show -o json`)')
    .option('--run-id <runId>', 'a specific run (default: the latest run)')
    .option('--out <file>', 'output file (default: <workflowId with / as __>.history.json)')
    .action(async (workflowId: string, opts: { runId?: string; out?: string }) => {
      const env = readEnv();
      const { client, close } = await connectClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
      try {
        const { file, events } = await exportHistory(client, workflowId, opts);
        console.log(`${file}: ${events} events`);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        console.error(`feedloop history export: no workflow ${workflowId}${opts.runId ? ` run ${opts.runId}` : ''} in namespace ${env.TEMPORAL_NAMESPACE} (closed histories are kept only for the retention period)`);
        process.exitCode = 1;
      } finally {
        await close();
      }
    });
}
