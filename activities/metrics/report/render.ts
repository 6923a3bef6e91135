import { OUTCOMES } from '../../sandbox/types';
import { FEEDBACK_SOURCES, isSimulatedName, type CampaignAudit, type ExecutionRef, type FeedbackExample, type IterationAudit, type TrainingJobAudit } from '../../store/audit';
import { formatDuration, formatOutcomes, pct } from './format';
import { html, trusted, type SafeHtml } from './safe-html';
import { groupedBarPlot, linePlot, OUTCOME_COLORS, stackedBarPlot } from './svg';

/**
 * The campaign report: one self-contained HTML file (inline CSS and SVG, no script, no external
 * resource) with pass@k, outcome mix and feedback/refinement yield per iteration, the audit
 * table, the workflow ids behind every iteration and a few feedback examples. All store text
 * is escaped (html`` escapes by default).
 */
export const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.banner-simulated{background:#fff3cd;border:2px solid #b58100;color:#5c4100;padding:.7rem 1rem;font-weight:600;margin:1rem 0}
.mismatch{color:#b00020;font-weight:600}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.summary dt{font-weight:600}dl.summary dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre{background:#f7f7f7;padding:.5rem;overflow:auto;white-space:pre-wrap}
.plots{display:flex;flex-wrap:wrap;gap:1rem}.plot{max-width:100%;height:auto;border:1px solid #eee;background:#fff}
.plot .grid{stroke:#eee}.plot .axis{stroke:#888}.plot .tick{font-size:11px;fill:#555}.plot .plot-title{font-size:13px;font-weight:600;fill:#222}
.example{border:1px solid #ddd;padding:.5rem .8rem;margin:.6rem 0}.example .meta{color:#555}
.kept{color:#2e7d32;font-weight:600}.dropped{color:#c62828;font-weight:600}
footer{margin-top:2rem;color:#777;font-size:12px}
`;

const K_COLORS = ['#1565c0', '#e65100', '#2e7d32', '#6a1b9a', '#00838f'];

export function ref(r: ExecutionRef | null): SafeHtml {
  return r ? html`<code>${r.workflowId}</code><br><small>run <code>${r.runId ?? 'unknown'}</code></small>` : html`-`;
}

export function trainingCell(j: TrainingJobAudit | null): SafeHtml {
  if (!j) return html`no training job recorded`;
  const simulated = j.weights === 'simulated' || j.trainer === 'simulated';
  return html`<code>${j.id}</code><br>trainer ${j.trainer}${simulated ? ' (SIMULATED)' : ''}, ${j.status}; ${j.examples} examples, ${j.steps ?? '-'} steps,
    ${formatDuration(j.durationMs)}<br>checkpoint ${j.checkpoint ? html`<code>${j.checkpoint}</code>${isSimulatedName(j.checkpoint) ? ' (SIMULATED)' : ''}` : 'none'}<br><em>${j.statement}</em>`;
}

function plots(a: CampaignAudit): SafeHtml {
  const its = a.iterations;
  const xLabels = its.map((it) => `it ${it.iteration}`);
  const ks = [...new Set([...a.campaign.config.ks.map(String), ...its.flatMap((it) => Object.keys(it.evaluation?.passAtK ?? {}))])].sort((x, y) => Number(x) - Number(y));
  const passAtK = linePlot({
    title: 'pass@k on MBPP_Test per iteration',
    xLabels,
    yMax: 1,
    yFormat: (v) => `${Math.round(100 * v)}%`,
    valueFormat: pct,
    series: ks.map((k, i) => ({ name: `pass@${k}`, color: K_COLORS[i % K_COLORS.length]!, values: its.map((it) => it.evaluation?.passAtK[k] ?? null) })),
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
<dt>status</dt><dd>${c.status}; started ${c.createdAt}${c.finishedAt ? `, finished ${c.finishedAt}` : ''}</dd>
<dt>workflow id</dt><dd><code>${c.workflowId}</code></dd>
${cfg.description ? html`<dt>description</dt><dd>${cfg.description}</dd>` : ''}
<dt>models</dt><dd>${models.length ? models : '-'}</dd>
<dt>loop</dt><dd>${cfg.iterations ?? '?'} iterations; feedback from ${cfg.feedbackSource ?? '-'}; refiner ${cfg.refinerKind ?? '-'}${cfg.refinerTrained ? ' (trained first)' : ''}; trainer ${trainer}</dd>
<dt>sampling</dt><dd>${cfg.trainSamplesPerTask ?? '-'} per MBPP_Train task, ${cfg.evalSamplesPerTask ?? '-'} per MBPP_Test task; pass@${cfg.ks.join(', pass@') || '-'}</dd>
<dt>splits</dt><dd>${Object.entries(cfg.splits).map(([s, [lo, hi]]) => `${s} ${lo}-${hi}`).join(', ') || '-'}${cfg.maxTrainTasks ? `; first ${cfg.maxTrainTasks} train tasks` : ''}${cfg.maxTestTasks ? `; first ${cfg.maxTestTasks} test tasks` : ''}</dd>
${a.refinerTraining ? html`<dt>refiner training</dt><dd>${trainingCell(a.refinerTraining)}</dd>` : ''}
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

export interface ReportOptions {
  /** when the report was made (shown in the footer) */
  generatedAt?: Date;
}

/** The whole report as one HTML document. */
export function renderCampaignReport(audit: CampaignAudit, feedbackExamples: readonly FeedbackExample[], opts: ReportOptions = {}): string {
  const c = audit.campaign;
  const banner = c.simulated
    ? html`<div class="banner-simulated" role="alert">SIMULATED models (${c.simulatedParts.join(', ')}): the numbers in this report come from simulated stand-ins, not from real LLMs or real training.</div>`
    : '';
  const mismatches = audit.iterations.reduce((n, it) => n + it.mismatches.length, 0);
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>feedloop report: ${c.id}</title><style>${trusted(CSS)}</style></head>
<body>
<header><h1>Campaign <code>${c.id}</code></h1><div>${c.algorithm} · ${c.status} · ${audit.iterations.length} iteration(s) recorded</div></header>
${banner}
${mismatches ? html`<p class="mismatch">${mismatches} recorded count(s) disagree with the stored rows: see the audit table.</p>` : ''}
<h2>Campaign</h2>${summary(audit)}
<h2>Per iteration</h2>${plots(audit)}
<h2>Audit</h2>${auditTable(audit)}
<h2>Workflow histories</h2>${historyTable(audit)}
<h2>Feedback examples</h2>${examples(audit, feedbackExamples)}
<h2>Audit data</h2><details><summary>the audit as JSON (<code>feedloop audit ${c.id} --json</code>)</summary><pre>${JSON.stringify(audit, null, 2)}</pre></details>
<footer>generated by <code>feedloop report</code>${opts.generatedAt ? ` at ${opts.generatedAt.toISOString()}` : ''}; self-contained: no scripts, no external resources.</footer>
</body></html>
`;
  return page.value;
}
