import { endText } from '../../audit/core';
import { pct } from '../../audit/report/format';
import { html, type SafeHtml } from '../../audit/report/safe-html';
import { ref, reportPage, trainingCell, type ReportOptions } from '../../audit/report/shell';
import { groupedBarPlot, rateLinePlot } from '../../audit/report/svg';
import type { CrlhfCampaignAudit, CrowdExample } from './audit';

/**
 * The cRLHF campaign report: one self-contained HTML file with annotator reliability (estimated,
 * honeypot-measured, set for a SIMULATED crowd), the consensus score distribution, consensus vs
 * majority vote on honeypots, pass@k per iteration beside the start, the audit table and a few
 * labelled programs. All store text is escaped.
 */
const num3 = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(3));
const PALETTE = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#c62828', '#00838f', '#5d4037', '#9e9e9e'];

function plots(a: CrlhfCampaignAudit): SafeHtml {
  const its = a.iterations;
  const last = its[its.length - 1];
  const annotators = last?.annotators ?? [];
  const reliability = groupedBarPlot({
    title: `Annotator reliability (iteration ${last?.iteration ?? '-'}): estimated p, honeypot accuracy, set p`,
    yLabel: 'reliability',
    yMax: 1,
    xLabels: annotators.map((x) => x.annotator),
    series: [
      { name: 'estimated p', color: '#1565c0', values: annotators.map((x) => x.estimated) },
      { name: 'honeypot accuracy', color: '#2e7d32', values: annotators.map((x) => x.honeypotAccuracy) },
      { name: 'set p (SIMULATED)', color: '#ef6c00', values: annotators.map((x) => x.set) },
    ],
  });
  const distribution = groupedBarPlot({
    title: 'Consensus score distribution (P(all lines correct)) per iteration',
    yLabel: 'programs',
    xLabels: Array.from({ length: 10 }, (_v, i) => `${(i / 10).toFixed(1)}-${((i + 1) / 10).toFixed(1)}`),
    series: its.map((it, i) => ({ name: `it ${it.iteration}`, color: PALETTE[i % PALETTE.length]!, values: it.consensus.histogram })),
  });
  const xLabels = [...(a.start ? ['start'] : []), ...its.map((it) => `it ${it.iteration}`)];
  const evals = [...(a.start ? [a.start.evaluation] : []), ...its.map((it) => it.evaluation)];
  const datasets = Object.keys(evals.find((e) => e)?.perDataset ?? {});
  const ks = Object.keys(evals.find((e) => e)?.perDataset[datasets[0] ?? '']?.passAtK ?? { 1: 0 });
  const passAtK = rateLinePlot({
    title: `pass@k per iteration (${datasets.join(', ')} test tasks)`,
    xLabels,
    series: datasets.flatMap((d, di) => ks.map((k, ki) => ({ name: `${d} pass@${k}`, color: PALETTE[(di * ks.length + ki) % PALETTE.length]!, values: evals.map((e) => e?.perDataset[d]?.passAtK[k] ?? null) }))),
  });
  const honeypots = rateLinePlot({
    title: 'Accuracy on honeypot lines: consensus (held out) vs majority vote',
    xLabels: its.map((it) => `it ${it.iteration}`),
    series: [
      { name: 'consensus', color: '#1565c0', values: its.map((it) => it.honeypotAccuracy.consensus) },
      { name: 'majority vote', color: '#9e9e9e', values: its.map((it) => it.honeypotAccuracy.majorityVote) },
    ],
  });
  return html`<div class="plots">${reliability}${distribution}${passAtK}${honeypots}</div>`;
}

function summary(a: CrlhfCampaignAudit): SafeHtml {
  const c = a.campaign;
  const cfg = c.config;
  return html`<dl class="summary">
<dt>campaign</dt><dd><code>${c.id}</code> (crlhf)</dd>
<dt>status</dt><dd>${endText(c)}; started ${c.createdAt}${c.finishedAt ? `, finished ${c.finishedAt}` : ''}</dd>
<dt>policy</dt><dd><code>${cfg.policy?.label ?? '-'}</code>; programs for ${cfg.train.dataset ?? '-'}/${cfg.train.split ?? '-'}</dd>
<dt>crowd</dt><dd>${cfg.annotators.join(', ')}; k = ${cfg.k ?? '-'} per item${cfg.simulatedCrowd ? html`; <strong>SIMULATED crowd</strong>` : ''}</dd>
<dt>consensus</dt><dd>${cfg.method ?? '-'}; reward = P(every line correct) (crlhf-consensus-v1); items with fewer than ${cfg.minLabels ?? '-'} labels are unscorable (left out, never 0)</dd>
<dt>start (iteration 0)</dt><dd>${a.start ? html`pass@1 ${pct(a.start.evaluation.passAtK['1'])}` : 'not evaluated'}</dd>
</dl>`;
}

function auditTable(a: CrlhfCampaignAudit): SafeHtml {
  const rows = a.iterations.map(
    (it) => html`<tr><td class="num">${it.iteration}</td><td>${it.status}</td><td class="num">${it.rollouts.generated}<br><small>${it.rollouts.passed} pass</small></td>
<td class="num">${it.annotation.items}<br><small>${it.annotation.honeypots.mutant} mutant, ${it.annotation.honeypots.gold} gold</small></td>
<td class="num">${it.annotation.labels} / ${it.annotation.assignments}</td><td class="num">${num3(it.agreement.krippendorffAlpha)}</td>
<td class="num">${pct(it.honeypotAccuracy.consensus)} / ${pct(it.honeypotAccuracy.majorityVote)}</td>
<td class="num">${it.rewards.scored} / ${it.rewards.unscorable}<br><small>mean ${num3(it.rewards.meanReward)}</small></td>
<td>${trainingCell(it.policyUpdate)}</td><td class="num">${pct(it.evaluation?.passAtK['1'])}</td><td>${ref(it.history.iteration)}</td></tr>${
      it.mismatches.length ? html`<tr><td></td><td colspan="10" class="mismatch">${it.mismatches.map((m) => html`${m}<br>`)}</td></tr>` : ''
    }`,
  );
  const annotatorRows = a.iterations.flatMap((it) =>
    it.annotators.map(
      (x) => html`<tr><td class="num">${it.iteration}</td><td>${x.annotator}</td><td>${x.behaviour ? `SIMULATED ${x.behaviour}` : '-'}</td><td class="num">${x.answered} / ${x.assigned}</td>
<td class="num">${x.honeypotLines}</td><td class="num">${pct(x.honeypotAccuracy)}</td><td class="num">${num3(x.estimated)}</td><td class="num">${num3(x.set)}</td></tr>`,
    ),
  );
  return html`<table><thead><tr><th>iteration</th><th>status</th><th>programs</th><th>items</th><th>labels / assignments</th><th>Krippendorff alpha</th><th>honeypot accuracy consensus / MV</th>
<th>rewards scored / unscorable</th><th>policy update</th><th>pass@1</th><th>workflow</th></tr></thead><tbody>${rows}</tbody></table>
<table><thead><tr><th>iteration</th><th>annotator</th><th>behaviour</th><th>answered / assigned</th><th>honeypot lines</th><th>honeypot accuracy</th><th>estimated p</th><th>set p</th></tr></thead><tbody>${annotatorRows}</tbody></table>`;
}

function examples(list: readonly CrowdExample[]): SafeHtml {
  if (list.length === 0) return html`<p>No items recorded.</p>`;
  return html`${list.map(
    (e) => html`<div class="example"><div class="meta">iteration ${e.iteration} · item <code>${e.itemId}</code> · task <code>${e.taskId}</code>${e.honeypot ? ' · honeypot' : ''} · ${e.status === 'unscorable' ? html`<span class="dropped">UNSCORABLE</span>` : html`score ${num3(e.score)}`}</div>
<table><thead><tr><th>#</th><th>line</th><th>P(correct)</th><th>known</th><th>labels</th></tr></thead><tbody>${e.lines.map(
      (l, i) => html`<tr><td class="num">${i + 1}</td><td><code>${l.text}</code></td><td class="num">${num3(l.posterior)}</td><td>${l.known === null ? '' : l.known ? 'correct' : 'wrong'}</td><td><small>${Object.entries(l.labels).map(([who, v]) => `${who}: ${v}`).join(', ')}</small></td></tr>`,
    )}</tbody></table></div>`,
  )}`;
}

export function renderCrlhfReport(audit: CrlhfCampaignAudit, list: readonly CrowdExample[], opts: ReportOptions = {}): string {
  return reportPage(audit, [
    ['Campaign', summary(audit)],
    ['Per iteration', plots(audit)],
    ['Audit', auditTable(audit)],
    ['Labelled programs', examples(list)],
  ], opts);
}
