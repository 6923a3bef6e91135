import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { campaignIds } from '../common/campaign';
import { ConfigError } from '../common/config-error';
import { readEnv } from '../infra/env';
import {
  annotationProgressQuery,
  closeAnnotationUpdate,
  extendAnnotationDeadlineUpdate,
  submitLineLabelsUpdate,
  type AnnotationProgress,
  type LineLabel,
  type LineLabelReceipt,
  type LineLabelSubmission,
} from '../loops/crlhf/annotation-protocol';
import { campaignStatusQuery } from '../workflows/control';
import { rejectionReason } from './campaign';
import { connectClient } from './evaluate';

/**
 * `feedloop annotate submit|progress|extend|close`: cRLHF line labels from the command line. A
 * submission is the same Temporal update the annotator web app sends to the waiting iteration
 * (`<campaign>/iteration-<n>`), so it meets the same validation; a rejection prints its reason
 * and exits 1. The web app's `annotate serve` and `annotate invite` plug into the same
 * `annotate` command (annotateCommand).
 */

/** The `annotate` command of the program, created once: every annotate subcommand hangs off it. */
export function annotateCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'annotate') ?? program.command('annotate').description('cRLHF annotation: line labels for a campaign\'s programs');
}

/** The iteration handle a campaign's annotation messages go to. */
export function annotationHandle(client: Client, campaignId: string, iteration: number) {
  return client.workflow.getHandle(campaignIds.iterationWorkflow(campaignId, iteration));
}

export function submitLineLabels(client: Client, campaignId: string, iteration: number, submission: LineLabelSubmission): Promise<LineLabelReceipt> {
  return annotationHandle(client, campaignId, iteration).executeUpdate(submitLineLabelsUpdate, { args: [submission] });
}

/** `--note 3=off by one` -> { "3": "off by one" }; repeatable. */
export function parseNote(value: string, notes: Record<string, string> = {}): Record<string, string> {
  const m = /^(\d+)=(.*)$/s.exec(value);
  if (!m) throw new ConfigError(`--note ${JSON.stringify(value)}: write LINE=TEXT, e.g. --note 3="off by one"`);
  return { ...notes, [m[1]!]: m[2]! };
}

function parseIteration(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--iteration: must be an integer >= 1, got ${JSON.stringify(v)}`);
  return n;
}

export function formatProgress(campaignId: string, iteration: number, p: AnnotationProgress): string {
  const lines = [
    `${campaignId} iteration ${iteration}: annotation ${p.open ? 'open' : 'closed'}, deadline ${p.deadline || '-'}, ${p.items} items, quorum ${p.quorum}`,
    ...p.perAnnotator.map((a) => `  ${a.annotator.padEnd(20)} ${String(a.answered).padStart(4)} / ${a.assigned} answered`),
  ];
  return lines.join('\n');
}

async function withClient<T>(run: (client: Client) => Promise<T>): Promise<T | undefined> {
  const env = readEnv();
  const { client, close } = await connectClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
  try {
    return await run(client);
  } catch (err) {
    const reason = rejectionReason(err);
    if (reason === undefined) throw err;
    console.error(`rejected: ${reason}`);
    process.exitCode = 1;
    return undefined;
  } finally {
    await close();
  }
}

export function registerAnnotateSubmitCommands(annotate: Command): void {
  annotate
    .command('submit')
    .description('label every line of an assigned item "correct" or "wrong" (validated by the waiting iteration)')
    .requiredOption('--campaign <id>', 'campaign id')
    .requiredOption('--iteration <n>', 'iteration number', parseIteration)
    .requiredOption('--annotator <name>', 'your annotator name (crowd.annotators)')
    .requiredOption('--item <itemId>', 'the item to label')
    .requiredOption('--labels <list>', 'one label per program line, in order: correct,wrong,...')
    .option('--note <LINE=TEXT>', 'a note on one line (repeatable, at most 500 characters)', parseNote, {} as Record<string, string>)
    .action(async (opts: { campaign: string; iteration: number; annotator: string; item: string; labels: string; note: Record<string, string> }) => {
      const labels = opts.labels.split(',').map((l) => l.trim()) as LineLabel[];
      const notes = Object.keys(opts.note).length ? opts.note : undefined;
      const receipt = await withClient((client) => submitLineLabels(client, opts.campaign, opts.iteration, { annotator: opts.annotator, itemId: opts.item, labels, ...(notes ? { notes } : {}) }));
      if (receipt) console.log(`accepted ${receipt.itemId}: ${receipt.remaining} item(s) left for ${opts.annotator}`);
    });

  annotate
    .command('progress')
    .description('annotation progress of an iteration: open or closed, deadline, per-annotator counts')
    .requiredOption('--campaign <id>', 'campaign id')
    .option('--iteration <n>', 'iteration number (default: the running one)', parseIteration)
    .option('--json', 'print JSON')
    .action(async (opts: { campaign: string; iteration?: number; json?: boolean }) => {
      await withClient(async (client) => {
        const iteration = opts.iteration ?? (await client.workflow.getHandle(opts.campaign).query(campaignStatusQuery)).iteration;
        if (!iteration) throw new ConfigError(`campaign ${opts.campaign} has no running iteration: name one with --iteration`);
        const p = await annotationHandle(client, opts.campaign, iteration).query(annotationProgressQuery);
        console.log(opts.json ? JSON.stringify({ iteration, ...p }, null, 2) : formatProgress(opts.campaign, iteration, p));
      });
    });

  annotate
    .command('extend')
    .description('move an open annotation deadline later')
    .requiredOption('--campaign <id>', 'campaign id')
    .requiredOption('--iteration <n>', 'iteration number', parseIteration)
    .requiredOption('--deadline <iso>', 'the new deadline, e.g. 2026-12-04T10:00:00Z')
    .requiredOption('--reason <text>', 'why')
    .action(async (opts: { campaign: string; iteration: number; deadline: string; reason: string }) => {
      const p = await withClient((client) => annotationHandle(client, opts.campaign, opts.iteration).executeUpdate(extendAnnotationDeadlineUpdate, { args: [{ deadline: opts.deadline, reason: opts.reason }] }));
      if (p) console.log(formatProgress(opts.campaign, opts.iteration, p));
    });

  annotate
    .command('close')
    .description('close annotation early: the iteration goes on with the labels it has')
    .requiredOption('--campaign <id>', 'campaign id')
    .requiredOption('--iteration <n>', 'iteration number', parseIteration)
    .requiredOption('--reason <text>', 'why')
    .action(async (opts: { campaign: string; iteration: number; reason: string }) => {
      const p = await withClient((client) => annotationHandle(client, opts.campaign, opts.iteration).executeUpdate(closeAnnotationUpdate, { args: [{ reason: opts.reason }] }));
      if (p) console.log(formatProgress(opts.campaign, opts.iteration, p));
    });
}
