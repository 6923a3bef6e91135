import type { Command } from 'commander';
import pg from 'pg';
import { loadMbpp } from '../activities/datasets/mbpp';
import { readEnv } from '../infra/env';
import { ilfIds } from '../loops/ilf/types';
import { databaseUrlOf } from '../infra/postgres';
import { submitFeedbackUpdate } from '../loops/ilf/workflow';
import { rejectionReason } from './campaign';
import { connectClient } from './evaluate';

/**
 * `feedloop feedback list|submit`: people answer a campaign's human feedback requests. Submitting
 * sends a Temporal update to the waiting iteration, which validates it (unknown task, empty
 * text, duplicate or closed request are rejected with the reason) before recording it.
 */
export interface OpenRequestRow {
  requestId: string;
  iteration: number;
  taskId: string;
  task: string;
  program: string;
  outcome: string | null;
  stderr: string | null;
}

export async function listOpenFeedbackRequests(databaseUrl: string, campaignId: string, iteration?: number): Promise<OpenRequestRow[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ request_id: string; iteration: number; task_id: string; program: string; outcome: string | null; stderr: string | null }>(
      `select q.request_id, q.iteration, q.task_id, g.program, r.outcome, r.evidence->>'stderr' as stderr
       from feedback_requests q join generations g on g.id = q.generation_id
       left join sandbox_items i on i.generation_id = g.id
       left join sandbox_results r on r.batch_id = i.batch_id and r.idx = i.idx
       where q.campaign_id = $1 and q.status = 'open' and q.source = 'human' and ($2::int is null or q.iteration = $2)
       order by q.iteration, q.request_id`,
      [campaignId, iteration ?? null],
    );
    const tasks = new Map(loadMbpp().map((t) => [String(t.taskId), t.text]));
    return rows.map((r) => ({ requestId: r.request_id, iteration: r.iteration, taskId: r.task_id, task: tasks.get(r.task_id) ?? '', program: r.program, outcome: r.outcome, stderr: r.stderr }));
  } finally {
    await client.end();
  }
}

export function registerFeedbackCommands(program: Command): void {
  const feedback = program.command('feedback').description('human feedback for campaigns whose feedback source is "human"');

  feedback
    .command('list')
    .description('list open feedback requests: the task, the failing program and its test result')
    .requiredOption('--campaign <id>', 'campaign id')
    .option('--iteration <k>', 'only this iteration', (v) => Number.parseInt(v, 10))
    .option('--json', 'print JSON')
    .action(async (opts: { campaign: string; iteration?: number; json?: boolean }) => {
      const env = readEnv();
      const rows = await listOpenFeedbackRequests(databaseUrlOf(env), opts.campaign, opts.iteration);
      if (opts.json) return console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return console.log(`no open feedback requests for ${opts.campaign}`);
      for (const r of rows) {
        console.log(`── ${r.requestId} (iteration ${r.iteration}, task ${r.taskId}, ${r.outcome ?? 'untested'})`);
        console.log(`task: ${r.task}`);
        console.log(r.program.trimEnd());
        if (r.stderr) console.log(`test output: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        console.log();
      }
      console.log(`${rows.length} open; answer with: npx feedloop feedback submit --campaign ${opts.campaign} --iteration K --request ID --text "..."`);
    });

  feedback
    .command('submit')
    .description('answer a feedback request (validated by the waiting iteration)')
    .requiredOption('--campaign <id>', 'campaign id')
    .requiredOption('--iteration <k>', 'iteration number', (v) => Number.parseInt(v, 10))
    .option('--request <requestId>', 'the request to answer')
    .option('--task <taskId>', 'or the MBPP task, when it has exactly one open request')
    .requiredOption('--text <feedback>', 'what is wrong with the program and how to fix it')
    .option('--author <name>', 'who wrote it', process.env.USER)
    .action(async (opts: { campaign: string; iteration: number; request?: string; task?: string; text: string; author?: string }) => {
      const env = readEnv();
      const { client, close } = await connectClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
      try {
        const handle = client.workflow.getHandle(ilfIds.iterationWorkflow(opts.campaign, opts.iteration));
        const res = await handle.executeUpdate(submitFeedbackUpdate, {
          args: [{ requestId: opts.request, taskId: opts.task, text: opts.text, author: opts.author }],
        });
        console.log(`accepted ${res.requestId}: ${res.answered} answered, ${res.open} still open`);
      } catch (err) {
        const reason = rejectionReason(err);
        if (reason === undefined) throw err;
        console.error(`rejected: ${reason}`);
        process.exitCode = 1;
      } finally {
        await close();
      }
    });
}
