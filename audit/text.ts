import { formatDuration } from './report/format';
import { endText, isSimulatedName, type CampaignHead, type ExecutionRef, type IterationHead, type LearningSignalAudit, type ScoredSetAudit, type TrainingJobAudit } from './core';
import { formatWorkerVersion } from '../common/worker-version';

/** Text pieces every loop's `feedloop audit` prints with. */

/** A fixed-width table for terminals; the last column is left unpadded. */
export function formatTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** A column of a loop's iteration table: its header and its cell for one row. */
export type Column<R> = readonly [header: string, cell: (row: R) => string];

/** A table from the columns a loop declares, one line per row. */
export function columnTable<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  return formatTable(
    columns.map(([header]) => header),
    rows.map((r) => columns.map(([, cell]) => cell(r))),
  );
}

/** The first lines of every loop's audit: the campaign, its workflow and its description. */
export function campaignLines(c: CampaignHead<{ description?: string | null }>): string[] {
  return [
    `campaign     ${c.id} (${c.algorithm}), ${endText(c)}; started ${c.createdAt}${c.finishedAt ? `, finished ${c.finishedAt}` : ''}`,
    `workflow     ${c.workflowId}`,
    ...(c.config.description ? [`description  ${c.config.description}`] : []),
  ];
}

/** The SIMULATED line of a campaign with simulated parts (`parts`: what they are; `notFrom`: what the numbers do not come from). */
export function simulatedLines(c: Pick<CampaignHead<unknown>, 'simulated' | 'simulatedParts'>, parts: string, notFrom: string): string[] {
  return c.simulated ? [`SIMULATED    simulated ${parts} (${c.simulatedParts.join(', ')}): these numbers do not come from ${notFrom}`] : [];
}

/**
 * The human form of `feedloop audit`, framed the same for every loop: the loop's header lines,
 * its iteration table and one section per iteration (or that there are none yet), its notes,
 * and how to export a history.
 */
export function auditText<I>(header: readonly string[], iterations: readonly I[], table: (iterations: readonly I[]) => string[], section: (it: I) => string, notes: readonly string[] = []): string {
  const parts = [header.join('\n'), ''];
  if (iterations.length === 0) parts.push('no iterations recorded yet');
  else parts.push(...table(iterations), '', ...iterations.map((it) => `${section(it)}\n`));
  parts.push(...notes, 'export a history: npx feedloop history export <workflowId> --run-id <runId>');
  return parts.join('\n');
}

/** One training job, as `feedloop audit` prints it. */
export function formatTrainingJob(j: TrainingJobAudit | null): string {
  if (!j) return 'no training job recorded';
  const trainer = j.trainer === 'simulated' ? 'simulated (SIMULATED)' : j.trainer;
  const figures = [`${j.examples} examples`, `${j.steps ?? '-'} steps`, `duration ${formatDuration(j.durationMs)}`, `checkpoint ${j.checkpoint ?? 'none'}${isSimulatedName(j.checkpoint) ? ' (SIMULATED)' : ''}`];
  const head = `${j.id}: trainer ${trainer}, ${j.status}; ${figures.join(', ')}\n${' '.repeat(15)}${j.statement}`;
  return j.learningSignal ? `${head}\n${formatLearningSignal(j.learningSignal, ' '.repeat(15))}` : head;
}

const perplexities = (s: ScoredSetAudit) =>
  `${s.set} (${s.pairs} programs, ${s.tokens} tokens): perplexity ${s.before.perplexity.toFixed(3)} -> ${s.after.perplexity.toFixed(3)} ` +
  `(mean log-likelihood ${s.before.meanLogprob.toFixed(4)} -> ${s.after.meanLogprob.toFixed(4)})`;

/** A job's learning signal: where its policy came from, the loss curve's ends, perplexities before -> after, flags. */
export function formatLearningSignal(l: LearningSignalAudit, indent: string): string {
  const lines = [
    `policy trained: ${l.policyBefore}${l.policyBeforeFrom ? ` (the export of ${l.policyBeforeFrom})` : ' (the starting model)'}`,
    `wrote: ${l.policyAfter} (the next iteration's policy)`,
    l.lossCurve.length
      ? `training loss ${l.lossFirst!.toFixed(4)} (step ${l.lossCurve[0]![0]}) -> ${l.lossLast!.toFixed(4)} (step ${l.lossCurve.at(-1)![0]}), ${l.lossCurve.length} points`
      : 'training loss: no progress events with a loss',
  ];
  if (l.heldOut) lines.push(`held-out ${perplexities(l.heldOut)}`);
  if (l.trainingSet) lines.push(perplexities(l.trainingSet));
  if (l.note) lines.push(l.note);
  for (const f of l.flags) lines.push(`FLAG: ${f}`);
  return lines.map((line) => `${indent}${line}`).join('\n');
}

/** A history reference as `feedloop history export` takes it. */
export function formatRef(r: ExecutionRef | null): string {
  return r ? `${r.workflowId} (run ${r.runId ?? 'unknown'})` : '-';
}

/** "+4.0 pts over the start" for a rate beside iteration 0's. */
export function againstStart(value: number | null, start: number | null | undefined): string {
  if (value === null || start === null || start === undefined) return '';
  const d = 100 * (value - start);
  return ` (${d >= 0 ? '+' : ''}${d.toFixed(1)} pts over the start)`;
}

/** An iteration's "worker" line: the deployment version it ran on; none for unversioned workers. */
export function workerVersionLines(it: Pick<IterationHead, 'workerVersion'>, row: (label: string, value: string) => string): string[] {
  return it.workerVersion ? [row('worker', `${formatWorkerVersion(it.workerVersion)} (pinned: the whole iteration ran on this version)`)] : [];
}

/** "feedloop/A: iterations 1-2; feedloop/B: iteration 3", or undefined when no iteration recorded a version. */
export function formatVersionSpread(iterations: readonly Pick<IterationHead, 'iteration' | 'workerVersion'>[]): string | undefined {
  if (!iterations.some((it) => it.workerVersion)) return undefined;
  const groups: { version: string; ks: number[] }[] = [];
  for (const it of iterations) {
    const version = formatWorkerVersion(it.workerVersion);
    const last = groups.at(-1);
    if (last?.version === version) last.ks.push(it.iteration);
    else groups.push({ version, ks: [it.iteration] });
  }
  return groups.map((g) => `${g.version}: iteration${g.ks.length > 1 ? `s ${g.ks[0]}-${g.ks.at(-1)}` : ` ${g.ks[0]}`}`).join('; ');
}

/** The audit line naming a campaign's dataset file by path and SHA-256; none for built-in datasets. */
export function formatDatasetFile(head: { datasetFile: { path: string; sha256: string | null } | null }): string[] {
  return head.datasetFile ? [`dataset file ${head.datasetFile.path} (sha256 ${head.datasetFile.sha256 ?? 'not pinned'})`] : [];
}
