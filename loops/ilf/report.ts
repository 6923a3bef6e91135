import { OUTCOMES } from '../../activities/sandbox/types';
import { endText, isSimulatedName } from '../../audit/core';
import { FEEDBACK_SOURCES, type CampaignAudit, type FeedbackExample, type IterationAudit } from './audit';
import { formatOutcomes, pct } from '../../audit/report/format';
import { learningSignalSection } from '../../audit/report/learning-signal';
import { html, type SafeHtml } from '../../audit/report/safe-html';
import { ref, reportPage, trainingCell, type ReportOptions } from '../../audit/report/shell';
import { groupedBarPlot, rateLinePlot, OUTCOME_COLORS, stackedBarPlot } from '../../audit/report/svg';

/**
 * The campaign report: one self-contained HTML file (inline CSS and SVG, no script, no external
 * resource) with pass@k, outcome mix and feedback/refinement yield per iteration, the audit
 * table, the workflow ids behind every iteration and a few feedback examples. All store text
 * is escaped (html`` escapes by default).
 */

const K_COLORS = ['#1565c0', '#e65100', '#2e7d32', '#6a1b9a', '#00838f'];


function plots(a: CampaignAudit): SafeHtml {
  const its = a.iterations;
  const xLabels = its.map((it) => `it ${it.iteration}`);
  const ks = [...new Set([...a.campaign.config.ks.map(String), ...its.flatMap((it) => Object.keys(it.evaluation?.passAtK ?? {}))])].sort((x, y) => Number(x) - Number(y));
  // Iteration 0, the starting policy, stands first so each iteration's change shows.
  const start = a.start ? [a.start.evaluation] : [];
  const passAtK = rateLinePlot({
    title: 'pass@k on MBPP_Test per iteration',
    xLabels: [...(a.start ? ['start'] : []), ...xLabels],
    series: ks.map((k, i) => ({ name: `pass@${k}`, color: K_COLORS[i % K_COLORS.length]!, values: [...start, ...its.map((it) => it.evaluation)].map((e) => e?.passAtK[k] ?? null) })),
  });
  const outcomeSeries = (pick: (it: IterationAudit) => Record<string, number> | undefined) =>
    OUTCOMES.filter((o) => its.some((it) => (pick(it)?.[o] ?? 0) > 0)).map((o) => ({ name: o, color: OUTCOME_COLORS[o] ?? '#999', values: its.map((it) => pick(it)?.[o] ?? 0) }));
  const trainMix = stackedBarPlot({ title: 'Outcome mix of the policy samples on MBPP_Train', yLabel: 'programs', xLabels, series: outcomeSeries((it) => it.samples.outcomes) });
  const evalMix = stackedBarPlot({ title: 'Outcome mix of the evaluation on MBPP_Test', yLabel: 'programs', xLabels, series: outcomeSeries((it) => it.evaluation?.outcomes) });
  const yieldPlot = groupedBarPlot({
    title: 'Feedback and refinement yield per iteration',
    yLabel: 'count',
    xLabels,
    series: [
      { name: 'feedback requested', color: '#90a4ae', values: its.map((it) => it.feedback.requested) },
      { name: 'feedback received', color: '#1565c0', values: its.map((it) => it.feedback.received) },
      { name: 'refinements generated', color: '#ffb74d', values: its.map((it) => it.refinements.generated) },
      { name: 'refinements kept', color: '#2e7d32', values: its.map((it) => it.refinements.kept) },
    ],
  });
  return html`<div class="plots">${passAtK}${yieldPlot}${trainMix}${evalMix}</div>`;
}

function summary(a: CampaignAudit): SafeHtml {
  const c = a.campaign;
  const cfg = c.config;
  const models = (['policy', 'refiner', 'feedback'] as const).filter((r) => cfg.models[r]).map((r) => html`${r}: <code>${cfg.models[r]!.label}</code><br>`);
  const trainer = cfg.trainer ? `${cfg.trainer.kind}${cfg.trainer.simulated ? ' (SIMULATED)' : ''}` : '-';
  return html`<dl class="summary">
<dt>campaign</dt><dd><code>${c.id}</code> (${c.algorithm})</dd>
<dt>status</dt><dd>${endText(c)}; started ${c.createdAt}${c.finishedAt ? `, finished ${c.finishedAt}` : ''}</dd>
<dt>workflow id</dt><dd><code>${c.workflowId}</code></dd>
${cfg.description ? html`<dt>description</dt><dd>${cfg.description}</dd>` : ''}
<dt>models</dt><dd>${models.length ? models : '-'}</dd>
<dt>loop</dt><dd>${cfg.iterations ?? '?'} iterations; feedback from ${cfg.feedbackSource ?? '-'}; refiner ${cfg.refinerKind ?? '-'}${cfg.refinerTrained ? ' (trained first)' : ''}${cfg.refinerControl ? ` (${cfg.refinerControl}: a no-feedback control)` : ''}; trainer ${trainer}</dd>
<dt>sampling</dt><dd>${cfg.trainSamplesPerTask ?? '-'} per MBPP_Train task, ${cfg.evalSamplesPerTask ?? '-'} per MBPP_Test task; pass@${cfg.ks.join(', pass@') || '-'}</dd>
<dt>splits</dt><dd>${Object.entries(cfg.splits).map(([s, [lo, hi]]) => `${s} ${lo}-${hi}`).join(', ') || '-'}${cfg.maxTrainTasks ? `; first ${cfg.maxTrainTasks} train tasks` : ''}${cfg.maxTestTasks ? `; first ${cfg.maxTestTasks} test tasks` : ''}</dd>
${a.refinerTraining ? html`<dt>refiner training</dt><dd>${trainingCell(a.refinerTraining)}</dd>` : ''}
<dt>start (iteration 0)</dt><dd>${a.start ? html`the starting policy <code>${a.start.evaluation.policy.label}</code>: pass@1 ${pct(a.start.passAt1)}, pass@10 ${pct(a.start.passAt10)} on ${a.start.evaluation.tasks ?? '-'} MBPP_Test tasks` : 'not evaluated'}</dd>
</dl>`;
}

function auditTable(a: CampaignAudit): SafeHtml {
  const rows = a.iterations.map((it) => {
    const sources = FEEDBACK_SOURCES.filter((s) => it.feedback.bySource[s].requested > 0 || it.feedback.bySource[s].received > 0).map(
      (s) => html`<br><small>${s}: ${it.feedback.bySource[s].requested} / ${it.feedback.bySource[s].received}</small>`,
    );
    return html`<tr>
<td class="num">${it.iteration}</td><td>${it.status}<br><small>phase ${it.phase}</small></td><td><code>${it.policy.label}</code></td>
<td class="num">${it.samples.generated}</td><td>${formatOutcomes(it.samples.outcomes)}</td>
<td class="num">${it.feedback.requested} / ${it.feedback.received}${sources}</td>
<td class="num">${it.refinements.generated} / ${it.refinements.kept}</td>
<td>${trainingCell(it.training)}</td>
<td class="num">${pct(it.passAt1)}</td><td class="num">${pct(it.passAt10)}</td>
</tr>${it.mismatches.length ? html`<tr><td></td><td colspan="9" class="mismatch">${it.mismatches.map((m) => html`${m}<br>`)}</td></tr>` : ''}`;
  });
  return html`<table><thead><tr><th>iteration</th><th>status</th><th>policy</th><th>samples</th><th>outcomes (MBPP_Train samples)</th>
<th>feedback requested / received</th><th>refinements generated / kept</th><th>training</th><th>pass@1</th><th>pass@10</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="10">no iterations recorded yet</td></tr>`}</tbody></table>`;
}

function historyTable(a: CampaignAudit): SafeHtml {
  const rows = a.iterations.map(
    (it) => html`<tr><td class="num">${it.iteration}</td><td>${ref(it.history.iteration)}</td><td>${ref(it.history.evaluation)}</td><td>${ref(it.history.trainSamples)}</td>
<td>${it.training ? html`<code>${it.training.id}</code>${it.training.host ? html`<br><small>host ${it.training.host}${it.training.workerTaskQueue ? `, queue ${it.training.workerTaskQueue}` : ''}</small>` : ''}` : '-'}</td>
<td>${it.sandboxHosts.map((h) => html`${h.hostname}${h.cpu ? html` <small>(${h.cpu})</small>` : ''}<br>`)}</td></tr>`,
  );
  return html`<p>Campaign workflow <code>${a.campaign.workflowId}</code>. Export any history with
<code>npx feedloop history export &lt;workflowId&gt; --run-id &lt;runId&gt;</code> (replayable JSON).</p>
<table><thead><tr><th>iteration</th><th>iteration workflow</th><th>evaluation workflow</th><th>train samples (eval run)</th><th>training job</th><th>sandbox hosts</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function examples(a: CampaignAudit, list: readonly FeedbackExample[]): SafeHtml {
  if (list.length === 0) return html`<p>No feedback requests recorded.</p>`;
  const llmSimulated = a.campaign.config.models.feedback?.simulated === true;
  return html`${list.map((e) => {
    const author = e.author ? `${e.author}${e.source === 'llm' && llmSimulated ? ' (SIMULATED)' : ''}` : e.source === 'llm' && llmSimulated ? 'SIMULATED model' : 'unknown';
    const refiner = e.refiner ? `${e.refiner}${isSimulatedName(e.refiner) ? ' (SIMULATED)' : ''}` : '';
    const verdict = e.kept === null ? html`untested` : e.kept ? html`<span class="kept">kept</span>` : html`<span class="dropped">not kept</span>`;
    return html`<div class="example"><div class="meta">iteration ${e.iteration} · task ${e.taskId} · request <code>${e.requestId}</code> · ${e.source} feedback, ${e.status}${e.outcome ? ` · failing program: ${e.outcome}` : ''}</div>
<p><strong>feedback</strong> (${author}):</p>${e.feedback !== null ? html`<pre>${e.feedback}</pre>` : html`<p><em>none received</em></p>`}
<details><summary>failing program</summary><pre>${e.failingProgram}</pre></details>
${e.refinement !== null ? html`<details><summary>refinement by ${refiner}: ${verdict}</summary><pre>${e.refinement}</pre></details>` : html`<p>no refinement</p>`}</div>`;
  })}`;
}

/** The whole report as one HTML document. */
export function renderCampaignReport(audit: CampaignAudit, feedbackExamples: readonly FeedbackExample[], opts: ReportOptions = {}): string {
  return reportPage(audit, [
    ['Campaign', summary(audit)],
    ['Per iteration', plots(audit)],
    ['Learning signal', learningSignalSection(audit.iterations.map((it) => ({ iteration: it.iteration, job: it.training })))],
    ['Audit', auditTable(audit)],
    ['Workflow histories', historyTable(audit)],
    ['Feedback examples', examples(audit, feedbackExamples)],
  ], opts);
}
