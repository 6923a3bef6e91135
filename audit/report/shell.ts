import { endText, isSimulatedName, type ExecutionRef, type TrainingJobAudit } from '../core';
import { formatDuration } from './format';
import type { RunAudit } from '../runs';
import { html, trusted, type SafeHtml } from './safe-html';

/**
 * The shell of every loop's campaign report: one self-contained HTML file (inline CSS and SVG,
 * no script, no external resource) with the campaign header, the SIMULATED banner, the
 * mismatch warning, the loop's sections and the audit as JSON. All store text is escaped
 * (html`` escapes by default). Tables are blocks that scroll sideways on their own, so a wide
 * audit table never hides its last columns behind the page's edge.
 */
export const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.banner-simulated{background:#fff3cd;border:2px solid #b58100;color:#5c4100;padding:.7rem 1rem;font-weight:600;margin:1rem 0}
.mismatch{color:#b00020;font-weight:600}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.summary dt{font-weight:600}dl.summary dd{margin:0}
table{border-collapse:collapse;margin:.5rem 0;display:block;max-width:100%;overflow-x:auto}th,td{border:1px solid #ddd;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre{background:#f7f7f7;padding:.5rem;overflow:auto;white-space:pre-wrap}
.plots{display:flex;flex-wrap:wrap;gap:1rem}.plot{max-width:100%;height:auto;border:1px solid #eee;background:#fff}
.plot .grid{stroke:#eee}.plot .axis{stroke:#888}.plot .tick{font-size:11px;fill:#555}.plot .plot-title{font-size:13px;font-weight:600;fill:#222}
.example{border:1px solid #ddd;padding:.5rem .8rem;margin:.6rem 0}.example .meta{color:#555}
.kept{color:#2e7d32;font-weight:600}.dropped{color:#c62828;font-weight:600}
footer{margin-top:2rem;color:#777;font-size:12px}
`;

export interface ReportOptions {
  /** when the report was made (shown in the footer) */
  generatedAt?: Date;
}

/** What the shell reads of any loop's audit. */
interface AuditForReport {
  campaign: { id: string; algorithm: string; status: string; endReason: string | null; simulated: boolean; simulatedParts: string[] };
  iterations: ReadonlyArray<{ mismatches: readonly string[] }>;
  /** the runs of the campaign id (`feedloop report` adds them; audit/runs.ts) */
  runs?: readonly RunAudit[];
}

/** The runs of an id with more than one: which run this report shows, and each run's iterations, times and Temporal ids. */
function runsSection(campaignId: string, runs: readonly RunAudit[] | undefined): { header: string; section: SafeHtml | '' } {
  const shown = runs?.find((r) => r.storeId === campaignId);
  if (!runs || runs.length <= 1 || !shown) return { header: '', section: '' };
  const rows = runs.map(
    (r) => html`<tr><td>run ${r.run}${r.run === shown.run ? ' (this report)' : ''}</td><td>${r.startedHow}, from iteration ${r.fromIteration}</td><td>${endText(r)}</td>
<td>${r.startedAt}${r.finishedAt ? html`<br>${r.finishedAt}` : ''}</td><td><code>${r.temporalRunId ?? 'not recorded'}</code></td>
<td>${r.iterations.map((i) => html`${i.iteration}: ${endText(i)} <small><code>${i.workflowId}</code> run <code>${i.runId ?? '?'}</code></small><br>`)}</td></tr>`,
  );
  return {
    header: ` · run ${shown.run} of ${runs.length}`,
    section: html`<h2>Runs of ${runs[0]!.storeId}</h2><table><thead><tr><th>run</th><th>started</th><th>ended</th><th>started / finished</th><th>Temporal run</th><th>iterations</th></tr></thead><tbody>${rows}</tbody></table>`,
  };
}

export function ref(r: ExecutionRef | null): SafeHtml {
  return r ? html`<code>${r.workflowId}</code><br><small>run <code>${r.runId ?? 'unknown'}</code></small>` : html`-`;
}

export function trainingCell(j: TrainingJobAudit | null): SafeHtml {
  if (!j) return html`no training job recorded`;
  const simulated = j.weights === 'simulated' || j.trainer === 'simulated';
  return html`<code>${j.id}</code><br>trainer ${j.trainer}${simulated ? ' (SIMULATED)' : ''}, ${j.status}; ${j.examples} examples, ${j.steps ?? '-'} steps,
    ${formatDuration(j.durationMs)}<br>checkpoint ${j.checkpoint ? html`<code>${j.checkpoint}</code>${isSimulatedName(j.checkpoint) ? ' (SIMULATED)' : ''}` : 'none'}<br><em>${j.statement}</em>`;
}

/** The page: the loop's sections, in order, between the shared header and footer. */
export function reportPage(audit: AuditForReport, sections: ReadonlyArray<[string, SafeHtml]>, opts: ReportOptions = {}): string {
  const c = audit.campaign;
  const banner = c.simulated
    ? html`<div class="banner-simulated" role="alert">SIMULATED models (${c.simulatedParts.join(', ')}): the numbers in this report come from simulated stand-ins, not from real LLMs or real training.</div>`
    : '';
  const mismatches = audit.iterations.reduce((n, it) => n + it.mismatches.length, 0);
  const runs = runsSection(c.id, audit.runs);
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>feedloop report: ${c.id}</title><style>${trusted(CSS)}</style></head>
<body>
<header><h1>Campaign <code>${c.id}</code></h1><div>${c.algorithm} · ${endText(c)} · ${audit.iterations.length} iteration(s) recorded${runs.header}</div></header>
${banner}
${runs.section}
${mismatches ? html`<p class="mismatch">${mismatches} recorded count(s) disagree with the stored rows: see the audit table.</p>` : ''}
${sections.map(([title, body]) => html`<h2>${title}</h2>${body}
`)}
<h2>Audit data</h2><details><summary>the audit as JSON (<code>feedloop audit ${c.id} --json</code>)</summary><pre>${JSON.stringify(audit, null, 2)}</pre></details>
<footer>generated by <code>feedloop report</code>${opts.generatedAt ? ` at ${opts.generatedAt.toISOString()}` : ''}; self-contained: no scripts, no external resources.</footer>
</body></html>
`.value;
}
