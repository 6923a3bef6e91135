import { endText } from '../../audit/core';
import { pct } from '../../audit/report/format';
import { ref, reportPage, trainingCell, type ReportOptions } from '../../audit/report/shell';
import { html, type SafeHtml } from '../../audit/report/safe-html';
import { OUTCOME_COLORS, groupedBarPlot, rateLinePlot, stackedBarPlot } from '../../audit/report/svg';
import type { GroundingExample, JavaEvaluationAudit, RlcfCampaignAudit } from './audit';

/**
 * The RLCF campaign report: one self-contained HTML file (inline CSS and SVG, no script) with
 * the four rates per iteration (compile, static-check pass, execution, pass@k) on MBJP and
 * MathQA-Java beside iteration 0, the grounding stages' counts, the reward distribution, the
 * policy-update jobs, the audit table, the workflow ids and a few grounded rollouts. All store
 * text is escaped.
 */
const num3 = (v: number | null) => (v === null ? '-' : v.toFixed(3));

function ratesPlot(a: RlcfCampaignAudit, title: string, pick: (e: { mbjp: JavaEvaluationAudit | null; mathqa: JavaEvaluationAudit | null } | null) => JavaEvaluationAudit | null): SafeHtml {
  // Iteration 0, the starting policy, stands first so each iteration's change shows.
  const evals = [...(a.start ? [pick(a.start.evaluation)] : []), ...a.iterations.map((it) => pick(it.evaluation))];
  const ks = [...new Set(evals.flatMap((e) => Object.keys(e?.passAtK ?? {})))].sort((x, y) => Number(x) - Number(y));
  const kColors = ['#2e7d32', '#81c784', '#a5d6a7'];
  return rateLinePlot({
    title,
    xLabels: [...(a.start ? ['start'] : []), ...a.iterations.map((it) => `it ${it.iteration}`)],
    series: [
      { name: 'compile rate', color: '#1565c0', values: evals.map((e) => e?.compileRate ?? null) },
      { name: 'static-check pass rate', color: '#6a1b9a', values: evals.map((e) => e?.staticCheckPassRate ?? null) },
      { name: 'execution rate', color: '#ef6c00', values: evals.map((e) => e?.executionRate ?? null) },
      ...ks.map((k, i) => ({ name: `pass@${k}`, color: kColors[i % kColors.length]!, values: evals.map((e) => e?.passAtK[k] ?? null) })),
    ],
  });
}

function plots(a: RlcfCampaignAudit): SafeHtml {
  const its = a.iterations;
  const xLabels = its.map((it) => `it ${it.iteration}`);
  const mbjp = ratesPlot(a, 'The four rates on the MBJP eval tasks', (e) => e?.mbjp ?? null);
  const mathqa = a.start?.evaluation.mathqa || its.some((it) => it.evaluation?.mathqa) ? ratesPlot(a, 'The four rates on MathQA-Java', (e) => e?.mathqa ?? null) : html``;
  const stages = stackedBarPlot({
    title: 'Rollouts by the grounding stage they end at',
    yLabel: 'programs',
    xLabels,
    series: [
      { name: 'compile error / timeout', color: OUTCOME_COLORS.compile_error ?? '#c62828', values: its.map((it) => it.stages.compileErrors + it.stages.compileTimeouts) },
      { name: 'static checks failed', color: '#6a1b9a', values: its.map((it) => it.stages.staticChecked - it.stages.staticPassed) },
      { name: 'static checks passed', color: '#2e7d32', values: its.map((it) => it.stages.staticPassed) },
      { name: 'infra error', color: OUTCOME_COLORS.infra_error ?? '#9e9e9e', values: its.map((it) => it.stages.compileInfraErrors) },
    ],
  });
  const rewards = groupedBarPlot({
    title: 'Reward distribution per iteration (scored rollouts)',
    yLabel: 'rollouts',
    xLabels: its[0]?.rewards.histogram.map((b) => b.bin) ?? [],
    series: its.map((it, i) => ({ name: `it ${it.iteration}`, color: ['#90caf9', '#42a5f5', '#1565c0', '#0d47a1'][i % 4]!, values: it.rewards.histogram.map((b) => b.n) })),
  });
  const discriminator = stackedBarPlot({
    title: 'Discriminator verdicts (programs that compiled)',
    yLabel: 'programs',
    xLabels,
    series: [
      { name: 'scored', color: '#1565c0', values: its.map((it) => it.stages.discriminator.scored) },
      { name: 'unscorable', color: '#9e9e9e', values: its.map((it) => it.stages.discriminator.unscorable) },
    ],
  });
  return html`<div class="plots">${mbjp}${mathqa}${stages}${discriminator}${rewards}</div>`;
}

function summary(a: RlcfCampaignAudit): SafeHtml {
  const c = a.campaign;
  const cfg = c.config;
  return html`<dl class="summary">
<dt>campaign</dt><dd><code>${c.id}</code> (rlcf)</dd>
<dt>status</dt><dd>${endText(c)}; started ${c.createdAt}${c.finishedAt ? `, finished ${c.finishedAt}` : ''}</dd>
<dt>workflow id</dt><dd><code>${c.workflowId}</code></dd>
${cfg.description ? html`<dt>description</dt><dd>${cfg.description}</dd>` : ''}
<dt>models</dt><dd>policy: <code>${cfg.models.policy?.label ?? '-'}</code><br>discriminator: ${cfg.discriminatorKind ?? '-'}${cfg.discriminatorKind === 'simulated' ? ' (SIMULATED)' : ''} ${cfg.models.discriminator ? html`<code>${cfg.models.discriminator.label}</code>` : ''}</dd>
<dt>data</dt><dd>MBJP split "${cfg.split ?? '-'}": ${cfg.rolloutTasks ?? 'all'} training tasks x ${cfg.rolloutSamplesPerTask ?? '-'} per iteration; ${cfg.maxEvalTasks ?? 'all'} eval tasks x ${cfg.evalSamplesPerTask ?? '-'} (pass@${cfg.ks.join(', pass@')}); MathQA-Java: ${cfg.mathqaEvalTasks ?? 0} tasks (evaluation only)</dd>
<dt>grounding</dt><dd>compiles (javac -Xlint:all) → static checks <code>${cfg.staticChecksVersion ?? '-'}</code> → MBJP tests → discriminator (compiled programs only) → reward <code>${JSON.stringify(cfg.reward)}</code></dd>
<dt>trainer</dt><dd><code>${cfg.trainerCommand.join(' ')}</code></dd>
</dl>`;
}

function auditTable(a: RlcfCampaignAudit): SafeHtml {
  const rates = (e: JavaEvaluationAudit | null | undefined) =>
    html`<td class="num">${pct(e?.compileRate)}</td><td class="num">${pct(e?.staticCheckPassRate)}</td><td class="num">${pct(e?.executionRate)}</td><td class="num">${Object.entries(e?.passAtK ?? {}).map(([k, v]) => html`pass@${k} ${pct(v)}<br>`)}</td>`;
  const start = a.start ? html`<tr><td class="num">0</td><td>start</td><td><code>${a.start.evaluation.mbjp?.policy.label ?? '-'}</code></td><td colspan="5">the starting policy's evaluation</td>${rates(a.start.evaluation.mbjp)}</tr>` : '';
  const rows = a.iterations.map((it) => {
    const s = it.stages;
    return html`<tr>
<td class="num">${it.iteration}</td><td>${it.status}<br><small>phase ${it.phase}</small></td><td><code>${it.policy.label}</code></td>
<td class="num">${it.rollouts.generated}</td>
<td class="num">${s.compiled} compiled / ${s.compileErrors} errors<br><small>static ok ${s.staticPassed} of ${s.staticChecked}</small></td>
<td class="num">${s.discriminator.scored} / ${s.discriminator.unscorable}<br><small>mean P(Yes) ${num3(s.discriminator.meanPYes)}</small>${s.discriminator.job ? html`<br>${trainingCell(s.discriminator.job)}` : ''}</td>
<td class="num">${it.rewards.scored} / ${it.rewards.unscorable}<br><small>mean ${num3(it.rewards.meanReward)}</small></td>
<td>${trainingCell(it.policyUpdate)}</td>${rates(it.evaluation?.mbjp)}
</tr>${it.mismatches.length ? html`<tr><td></td><td colspan="11" class="mismatch">${it.mismatches.map((m) => html`${m}<br>`)}</td></tr>` : ''}`;
  });
  return html`<table><thead><tr><th>iteration</th><th>status</th><th>policy</th><th>rollouts</th><th>compile / static</th><th>discriminator scored / unscorable</th>
<th>rewards scored / unscorable</th><th>policy update</th><th>MBJP compile</th><th>static</th><th>execution</th><th>pass@k</th></tr></thead>
<tbody>${start}${rows.length ? rows : html`<tr><td colspan="12">no iterations recorded yet</td></tr>`}</tbody></table>`;
}

function historyTable(a: RlcfCampaignAudit): SafeHtml {
  const rows = a.iterations.map((it) => html`<tr><td class="num">${it.iteration}</td><td>${ref(it.history.iteration)}</td><td>${ref(it.history.evaluation)}</td><td>${[it.stages.discriminator.job, it.policyUpdate].filter((j) => j !== null).map((j) => html`<code>${j!.id}</code><br>`)}</td></tr>`);
  return html`<p>Campaign workflow <code>${a.campaign.workflowId}</code>. Export any history with <code>npx feedloop history export &lt;workflowId&gt; --run-id &lt;runId&gt;</code>.</p>
<table><thead><tr><th>iteration</th><th>iteration workflow</th><th>evaluation</th><th>training jobs</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function examples(list: readonly GroundingExample[]): SafeHtml {
  if (list.length === 0) return html`<p>No grounded rollouts recorded.</p>`;
  return html`${list.map(
    (e) => html`<div class="example"><div class="meta">iteration ${e.iteration} · task <code>${e.taskId}</code> · compile ${e.compile} · static ${e.staticPassed === null ? '-' : e.staticPassed ? 'passed' : 'failed'} · tests ${e.test ?? '-'} ·
discriminator ${e.discriminator.status === 'unscorable' ? html`<span class="dropped">UNSCORABLE</span>` : num3(e.discriminator.pYes)} ·
reward ${e.reward.status === 'unscorable' ? html`<span class="dropped">UNSCORABLE: kept out of the update</span>` : num3(e.reward.value)}</div>
<details><summary>program, compiler output and verdicts</summary><pre>${e.program}</pre>${e.diagnostics ? html`<pre>${e.diagnostics}</pre>` : ''}<p><small>${e.staticDetail}</small></p><p><small>discriminator: ${e.discriminator.text}${e.discriminator.problem ? ` (${e.discriminator.problem})` : ''}; reward ${e.reward.detail}</small></p></details></div>`,
  )}`;
}

export function renderRlcfReport(audit: RlcfCampaignAudit, groundingExamples: readonly GroundingExample[], opts: ReportOptions = {}): string {
  return reportPage(audit, [
    ['Campaign', summary(audit)],
    ['Per iteration', plots(audit)],
    ['Audit', auditTable(audit)],
    ['Workflow histories', historyTable(audit)],
    ['Grounded rollouts', examples(groundingExamples)],
  ], opts);
}
