import { endText } from '../../audit/core';
import { pct } from '../../audit/report/format';
import { againstStart, formatRef, formatTable, formatTrainingJob, workerVersionLines } from '../../audit/text';
import type { CrlhfCampaignAudit, CrlhfIterationAudit } from './audit';

/** The human form of `feedloop audit` for cRLHF campaigns. */
const num3 = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(3));

export function crlhfSummaryTable(iterations: readonly CrlhfIterationAudit[]): string {
  return formatTable(
    ['iteration', 'status', 'programs', 'items (honeypots)', 'labels', 'alpha', 'honeypot acc consensus/MV', 'rewards scored/unscorable', 'update', 'pass@1'],
    iterations.map((it) => [
      String(it.iteration),
      it.status,
      String(it.rollouts.generated),
      `${it.annotation.items} (${it.annotation.honeypots.mutant + it.annotation.honeypots.gold})`,
      `${it.annotation.labels}/${it.annotation.assignments}`,
      num3(it.agreement.krippendorffAlpha),
      `${pct(it.honeypotAccuracy.consensus)}/${pct(it.honeypotAccuracy.majorityVote)}`,
      `${it.rewards.scored}/${it.rewards.unscorable}`,
      it.policyUpdate ? String(it.policyUpdate.examples) : '-',
      pct(it.evaluation?.passAtK['1']),
    ]),
  );
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
    `campaign     ${c.id} (crlhf), ${endText(c)}; started ${c.createdAt}${c.finishedAt ? `, finished ${c.finishedAt}` : ''}`,
    `workflow     ${c.workflowId}`,
    ...(cfg.description ? [`description  ${cfg.description}`] : []),
    `config       ${cfg.iterations ?? '?'} iterations; policy ${cfg.policy?.label ?? '-'}; programs for ${cfg.train.dataset ?? '-'}/${cfg.train.split ?? '-'}; ` +
      `${cfg.annotators.length} annotators, k = ${cfg.k ?? '-'}; ${cfg.honeypots.mutants ?? '-'} mutant + ${cfg.honeypots.gold ?? '-'} gold honeypots; aggregator ${cfg.method ?? '-'}, min ${cfg.minLabels ?? '-'} labels`,
  ];
  if (c.simulated) header.push(`SIMULATED    simulated parts (${c.simulatedParts.join(', ')}): these numbers do not come from real people, LLMs or training`);
  const s = a.start?.evaluation;
  header.push(s ? `start        iteration 0, ${s.policy.label}: pass@1 ${pct(s.passAtK['1'])} (${Object.entries(s.perDataset).map(([d, e]) => `${d} ${pct(e.passAtK['1'])}`).join(', ')})` : 'start        the starting policy was not evaluated');
  const parts = [header.join('\n'), ''];
  if (a.iterations.length === 0) parts.push('no iterations recorded yet');
  else parts.push(crlhfSummaryTable(a.iterations), '', ...a.iterations.map((it) => `${formatIteration(it, a.start)}\n`));
  parts.push('export a history: npx feedloop history export <workflowId> --run-id <runId>');
  return parts.join('\n');
}
