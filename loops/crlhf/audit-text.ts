import { endText } from '../../audit/core';
import { pct } from '../../audit/report/format';
import { againstStart, auditText, campaignLines, columnTable, formatRef, formatTable, formatTrainingJob, simulatedLines, workerVersionLines, formatDatasetFile, type Column } from '../../audit/text';
import type { CrlhfCampaignAudit, CrlhfIterationAudit } from './audit';

/** The human form of `feedloop audit` for cRLHF campaigns. */
const num3 = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(3));

const ITERATION_COLUMNS: readonly Column<CrlhfIterationAudit>[] = [
  ['iteration', (it) => String(it.iteration)],
  ['status', (it) => it.status],
  ['programs', (it) => String(it.rollouts.generated)],
  ['items (honeypots)', (it) => `${it.annotation.items} (${it.annotation.honeypots.mutant + it.annotation.honeypots.gold})`],
  ['labels', (it) => `${it.annotation.labels}/${it.annotation.assignments}`],
  ['alpha', (it) => num3(it.agreement.krippendorffAlpha)],
  ['honeypot acc consensus/MV', (it) => `${pct(it.honeypotAccuracy.consensus)}/${pct(it.honeypotAccuracy.majorityVote)}`],
  ['rewards scored/unscorable', (it) => `${it.rewards.scored}/${it.rewards.unscorable}`],
  ['update', (it) => (it.policyUpdate ? String(it.policyUpdate.examples) : '-')],
  ['pass@1', (it) => pct(it.evaluation?.passAtK['1'])],
];

export function crlhfSummaryTable(iterations: readonly CrlhfIterationAudit[]): string {
  return columnTable(ITERATION_COLUMNS, iterations);
}

export function annotatorTable(it: CrlhfIterationAudit): string {
  return formatTable(
    ['annotator', 'behaviour', 'assigned', 'answered', 'honeypot lines', 'honeypot acc', 'estimated p', 'set p'],
    it.annotators.map((a) => [a.annotator, a.behaviour ? `SIMULATED ${a.behaviour}` : '-', String(a.assigned), String(a.answered), String(a.honeypotLines), pct(a.honeypotAccuracy), num3(a.estimated), num3(a.set)]),
  );
}

function formatIteration(it: CrlhfIterationAudit, start: CrlhfCampaignAudit['start']): string {
  const row = (label: string, value: string) => `  ${label.padEnd(15)}${value}`;
  const ev = it.evaluation;
  const a = it.annotation;
  const lines = [
    `── iteration ${it.iteration}: ${endText(it)} (phase ${it.phase})`,
    row('policy', it.policy.label),
    ...workerVersionLines(it, row),
    row('programs', `${it.rollouts.generated} for ${it.rollouts.tasks} tasks; ${it.rollouts.passed} pass their tests (evidence, not the reward)`),
    row('items', `${a.items}: ${a.items - a.honeypots.mutant - a.honeypots.gold} programs, ${a.honeypots.mutant} mutant and ${a.honeypots.gold} gold honeypots; ${a.assignments} assignments, ${a.labels} answered, ${a.notes} note(s); ${a.itemsWithMinLabels} items with enough labels`),
    row('agreement', `Krippendorff's alpha ${num3(it.agreement.krippendorffAlpha)} over ${it.agreement.lines} line labels`),
    row('honeypots', `${it.honeypotAccuracy.lines} known lines: consensus ${pct(it.honeypotAccuracy.consensus)} right (held out), majority vote ${pct(it.honeypotAccuracy.majorityVote)}`),
    row('consensus', `${it.consensus.method ?? '-'} / ${it.consensus.rule ?? '-'}: ${it.consensus.scored} programs scored, ${it.consensus.unscorable} UNSCORABLE (too few labels; left out, never 0); mean ${num3(it.consensus.meanScore)}; deciles [${it.consensus.histogram.join(' ')}]`),
    row('rewards', `${it.rewards.scored} scored, ${it.rewards.unscorable} unscorable (source ${it.rewards.source ?? '-'}); mean ${num3(it.rewards.meanReward)}`),
    row('policy update', formatTrainingJob(it.policyUpdate)),
    row(
      'evaluation',
      ev
        ? `pass@k ${Object.entries(ev.passAtK).map(([k, v]) => `@${k} ${pct(v)}${k === '1' ? againstStart(v, start?.evaluation.passAtK['1']) : ''}`).join(', ')} (${ev.status}); ` +
            Object.entries(ev.perDataset).map(([d, e]) => `${d} ${Object.entries(e.passAtK).map(([k, v]) => `@${k} ${pct(v)}`).join(' ')} (${e.tasks ?? '-'} tasks)`).join('; ')
        : 'not started',
    ),
    annotatorTable(it).split('\n').map((l) => `    ${l}`).join('\n'),
    row('history', `iteration     ${formatRef(it.history.iteration)}`),
    row('', `evaluation    ${formatRef(it.history.evaluation)}`),
  ];
  for (const m of it.mismatches) lines.push(row('MISMATCH', m));
  return lines.join('\n');
}

export function formatCrlhfAudit(a: CrlhfCampaignAudit): string {
  const c = a.campaign;
  const cfg = c.config;
  const header = [
    ...campaignLines(c),
    `config       ${cfg.iterations ?? '?'} iterations; policy ${cfg.policy?.label ?? '-'}; programs for ${cfg.train.dataset ?? '-'}/${cfg.train.split ?? '-'}; ` +
      `${cfg.annotators.length} annotators, k = ${cfg.k ?? '-'}; ${cfg.honeypots.mutants ?? '-'} mutant + ${cfg.honeypots.gold ?? '-'} gold honeypots; aggregator ${cfg.method ?? '-'}, min ${cfg.minLabels ?? '-'} labels`,
  ];
  header.push(...formatDatasetFile(c));
  header.push(...simulatedLines(c, 'parts', 'real people, LLMs or training'));
  const s = a.start?.evaluation;
  header.push(s ? `start        iteration 0, ${s.policy.label}: pass@1 ${pct(s.passAtK['1'])} (${Object.entries(s.perDataset).map(([d, e]) => `${d} ${pct(e.passAtK['1'])}`).join(', ')})` : 'start        the starting policy was not evaluated');
  return auditText(header, a.iterations, (its) => [crlhfSummaryTable(its)], (it) => formatIteration(it, a.start));
}
