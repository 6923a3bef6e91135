import { FEEDBACK_SOURCES, type CampaignAudit, type IterationAudit } from './audit';
import { formatOutcomes, pct } from '../../audit/report/format';
import { againstStart, auditText, campaignLines, columnTable, formatRef, formatTrainingJob, simulatedLines, workerVersionLines, formatVersionSpread, formatDatasetFile, type Column } from '../../audit/text';
import { endText, formatPlacement } from '../../audit/core';

/** The human form of `feedloop audit` for ILF campaigns. */
const ITERATION_COLUMNS: readonly Column<IterationAudit>[] = [
  ['iteration', (it) => String(it.iteration)],
  ['status', (it) => it.status],
  ['samples', (it) => String(it.samples.generated)],
  ['passed', (it) => String(it.samples.outcomes.passed)],
  ['feedback req/recv', (it) => `${it.feedback.requested}/${it.feedback.received}`],
  ['refinements gen/kept', (it) => `${it.refinements.generated}/${it.refinements.kept}`],
  ['trained', (it) => (it.training ? (it.training.weights === 'simulated' ? 'SIMULATED' : it.training.weights === 'trained' ? 'yes' : it.training.weights === 'none' ? 'no weights' : it.training.weights) : '-')],
  ['pass@1', (it) => pct(it.passAt1)],
  ['pass@10', (it) => pct(it.passAt10)],
];

export function summaryTable(iterations: readonly IterationAudit[]): string {
  return columnTable(ITERATION_COLUMNS, iterations);
}

function formatIteration(it: IterationAudit, start: CampaignAudit['start']): string {
  const row = (label: string, value: string) => `  ${label.padEnd(13)}${value}`;
  const fbSources = FEEDBACK_SOURCES.filter((s) => it.feedback.bySource[s].requested > 0 || it.feedback.bySource[s].received > 0)
    .map((s) => `${s}: ${it.feedback.bySource[s].requested} requested, ${it.feedback.bySource[s].received} received`);
  const fbStatus = Object.entries(it.feedback.byStatus).filter(([, n]) => n > 0).map(([s, n]) => `${s}=${n}`);
  const ev = it.evaluation;
  const lines = [
    `── iteration ${it.iteration}: ${endText(it)} (phase ${it.phase})`,
    row('policy', it.policy.label),
    ...workerVersionLines(it, row),
    row('samples', `${it.samples.generated} generated on MBPP_Train, ${it.samples.tested} tested` + (it.samples.retriedResults ? ` (${it.samples.retriedResults} after a retry)` : '')),
    row('outcomes', formatOutcomes(it.samples.outcomes)),
    row('feedback', `${it.feedback.requested} requested, ${it.feedback.received} received` + (fbSources.length ? ` (${fbSources.join('; ')})` : '') + (fbStatus.length ? `; requests ${fbStatus.join(' ')}` : '')),
    row('refinements', `${it.refinements.generated} generated, ${it.refinements.tested} tested, ${it.refinements.kept} kept` + (it.refinements.refiners.length ? ` (refiner ${it.refinements.refiners.join(', ')})` : '')),
    row('training', formatTrainingJob(it.training)),
    row(
      'evaluation',
      ev
        ? `pass@1 ${pct(it.passAt1)}${againstStart(it.passAt1, start?.passAt1)}, pass@10 ${pct(it.passAt10)}` +
            Object.entries(ev.passAtK).filter(([k]) => k !== '1' && k !== '10').map(([k, v]) => `, pass@${k} ${pct(v)}`).join('') +
            ` (${ev.status}; ${ev.tasks ?? '-'} tasks, ${ev.samples ?? '-'} samples, ${ev.scored ?? '-'} scored; policy ${ev.policy.label}); outcomes ${formatOutcomes(ev.outcomes)}`
        : 'not started',
    ),
    ...(ev?.placement ? [row('ran', formatPlacement(ev.placement)!)] : []),
    row('history', `iteration     ${formatRef(it.history.iteration)}`),
    row('', `evaluation    ${formatRef(it.history.evaluation)}`),
  ];
  // The train samples are usually an eval run of the iteration workflow itself: name it only when not.
  const train = it.history.trainSamples;
  if (train && (train.workflowId !== it.history.iteration.workflowId || train.runId !== it.history.iteration.runId)) lines.push(row('', `train samples ${formatRef(train)}`));
  if (it.sandboxHosts.length) lines.push(row('sandbox on', it.sandboxHosts.map((h) => `${h.hostname}${h.cpu ? ` (${h.cpu})` : ''}`).join(', ')));
  for (const m of it.mismatches) lines.push(row('MISMATCH', m));
  return lines.join('\n');
}

export function formatCampaignHeader(a: CampaignAudit): string[] {
  const c = a.campaign;
  const cfg = c.config;
  const models = (['policy', 'refiner', 'feedback'] as const).filter((r) => cfg.models[r]).map((r) => `${r} ${cfg.models[r]!.label}`);
  const lines = campaignLines(c);
  lines.push(
    `models       ${models.join('; ') || '-'}`,
    `config       ${cfg.iterations ?? '?'} iterations; feedback ${cfg.feedbackSource ?? '-'}; refiner ${cfg.refinerKind ?? '-'}${cfg.refinerTrained ? ' (trained first)' : ''}${cfg.refinerControl ? ` (${cfg.refinerControl}: a no-feedback control)` : ''}; ` +
      `trainer ${cfg.trainer ? `${cfg.trainer.kind}${cfg.trainer.simulated ? ' (SIMULATED)' : ''}` : '-'}; ` +
      `samples/task train ${cfg.trainSamplesPerTask ?? '-'}, eval ${cfg.evalSamplesPerTask ?? '-'}; pass@${cfg.ks.join(',') || '-'}`,
  );
  lines.push(...formatDatasetFile(c));
  lines.push(...simulatedLines(c, 'models', 'real LLMs'));
  if (a.refinerTraining) lines.push(`refiner job  ${formatTrainingJob(a.refinerTraining)}`);
  const versions = formatVersionSpread(a.iterations);
  if (versions) lines.push(`versions     ${versions}`);
  lines.push(
    a.start
      ? `start        iteration 0, the starting policy ${a.start.evaluation.policy.label} on MBPP_Test: pass@1 ${pct(a.start.passAt1)}, pass@10 ${pct(a.start.passAt10)} ` +
          `(${a.start.evaluation.tasks ?? '-'} tasks, ${a.start.evaluation.samples ?? '-'} samples; ${formatRef(a.start.history)})`
      : 'start        the starting policy was not evaluated (evaluateStart: false, or a campaign from before iteration 0)',
  );
  return lines;
}

/** The human form of `feedloop audit`. */
export function formatAudit(a: CampaignAudit): string {
  return auditText(formatCampaignHeader(a), a.iterations, (its) => [summaryTable(its)], (it) => formatIteration(it, a.start));
}

