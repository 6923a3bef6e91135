import type { Client, WorkflowHandle } from '@temporalio/client';
import { ilfIds } from '../common/ilf';
import { campaignStatusQuery, type ilfCampaignWorkflow } from '../workflows/ilf-campaign';
import { iterationStatusQuery } from '../workflows/ilf-iteration';

/**
 * A live phase line while a campaign runs: on a terminal it rewrites one line, elsewhere it
 * prints a line per phase change (readable in CI logs).
 */
export async function followCampaign(client: Client, handle: WorkflowHandle<typeof ilfCampaignWorkflow>, out: NodeJS.WriteStream = process.stderr) {
  const tty = out.isTTY;
  let last = '';
  // Off a terminal, one line per change of state (the elapsed time alone is no change).
  const show = (state: string, elapsed: string) => {
    if (tty) out.write(`\r\x1b[2K${state} (${elapsed})`);
    else if (state !== last) out.write(`${state} (${elapsed})\n`);
    last = state;
  };
  const started = Date.now();
  const timer = setInterval(() => {
    void (async () => {
      try {
        const s = await handle.query(campaignStatusQuery);
        let phase = s.finished ? 'finished' : 'starting';
        if (s.currentIterationWorkflowId) {
          const it = await client.workflow.getHandle(ilfIds.iterationWorkflow(s.campaignId, s.iteration)).query(iterationStatusQuery);
          phase = it.phase + (it.paused ? ' (paused)' : '') + (it.openFeedbackRequests ? `, waiting for ${it.openFeedbackRequests} feedback answers` : '');
        }
        const secs = ((Date.now() - started) / 1000).toFixed(0);
        show(`  ${s.campaignId}: iteration ${s.iteration}/${s.iterations}, phase ${phase}${s.paused ? ' [paused]' : ''}`, `${secs}s`);
      } catch {
        /* the query can race a finishing workflow: progress is best effort */
      }
    })();
  }, 250);
  try {
    return await handle.result();
  } finally {
    clearInterval(timer);
    if (tty) out.write('\n');
  }
}
