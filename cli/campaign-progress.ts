import type { Client, WorkflowHandle } from '@temporalio/client';
import { campaignStatus } from './campaign';

/**
 * A live phase line while a campaign runs: on a terminal it rewrites one line, elsewhere it
 * prints a line per phase change (readable in CI logs).
 */
export async function followCampaign<R>(client: Client, handle: WorkflowHandle, out: NodeJS.WriteStream = process.stderr): Promise<R> {
  const tty = out.isTTY;
  let last = '';
  let lastShape = '';
  let lastLineAt = 0;
  // Off a terminal, one line per change of state (the elapsed time alone is no change); a count
  // that ticks within the same phase (labels answered) shows at most every 15 s.
  const show = (state: string, elapsed: string) => {
    const shape = state.replace(/\d+/g, '#');
    if (tty) out.write(`\r\x1b[2K${state} (${elapsed})`);
    else if (state !== last && (shape !== lastShape || Date.now() - lastLineAt >= 15_000)) {
      out.write(`${state} (${elapsed})\n`);
      lastShape = shape;
      lastLineAt = Date.now();
    }
    last = state;
  };
  const started = Date.now();
  const timer = setInterval(() => {
    void (async () => {
      try {
        const { campaign: s, iteration: it } = await campaignStatus(client, handle.workflowId);
        let phase = s.finished ? 'finished' : 'starting';
        if (it) phase = it.phase + (it.paused ? ' (paused)' : '') + (it.waitingFor ? `, waiting for ${it.waitingFor}` : '');
        const secs = ((Date.now() - started) / 1000).toFixed(0);
        show(`  ${s.campaignId}: iteration ${s.iteration}/${s.iterations}, phase ${phase}${s.paused ? ' [paused]' : ''}`, `${secs}s`);
      } catch {
        /* the query can race a finishing workflow: progress is best effort */
      }
    })();
  }, 250);
  try {
    return (await handle.result()) as R;
  } finally {
    clearInterval(timer);
    if (tty) out.write('\n');
  }
}
