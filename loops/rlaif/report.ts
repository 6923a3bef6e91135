import { endText } from '../../audit/core';
import { rewardConfigText, rewardModelText, type AiFeedbackExample, type RlaifCampaignAudit } from './audit';
import { formatDuration, pct } from '../../audit/report/format';
import { ref, reportPage, trainingCell, type ReportOptions } from '../../audit/report/shell';
import { learningSignalSection } from '../../audit/report/learning-signal';
import { html, type SafeHtml } from '../../audit/report/safe-html';
import { groupedBarPlot, linePlot, rateLinePlot, stackedBarPlot } from '../../audit/report/svg';

/**
 * The RLAIF campaign report: one self-contained HTML file (inline CSS and SVG, no script) with
 * the paper's three metrics per iteration (executability, CodeBLEU, AST accuracy and
 * hallucination), the AI feedback's scored / unscorable split, the reward-model and
 * policy-update jobs, the audit table, the workflow ids and a few AI-feedback examples. All store
 * text is escaped.
 */
const num3 = (v: number | null) => (v === null ? '-' : v.toFixed(3));

function plots(a: RlaifCampaignAudit): SafeHtml {
  const its = a.iterations;
  const xLabels = its.map((it) => `it ${it.iteration}`);
  // Iteration 0, the starting policy, stands first so each iteration's change shows.
  const evals = [...(a.start ? [a.start.evaluation] : []), ...its.map((it) => it.evaluation)];
  const rates = rateLinePlot({
    title: 'Executability, AST accuracy and hallucination on the APIBench eval questions',
    xLabels: [...(a.start ? ['start'] : []), ...xLabels],
    series: [
      { name: 'executability', color: '#1565c0', values: evals.map((e) => e?.executabilityRate ?? null) },
      { name: 'AST accuracy', color: '#2e7d32', values: evals.map((e) => e?.astAccuracy ?? null) },
      { name: 'hallucination', color: '#c62828', values: evals.map((e) => e?.hallucinationRate ?? null) },
    ],
  });
  const codebleu = linePlot({
    title: 'CodeBLEU (corpus) on the APIBench eval questions',
    xLabels,
    yMax: 1,
    yFormat: (v) => v.toFixed(1),
    valueFormat: (v) => v.toFixed(3),
    series: [{ name: 'CodeBLEU', color: '#6a1b9a', values: its.map((it) => it.evaluation?.codebleu ?? null) }],
  });
  const feedback = stackedBarPlot({
    title: 'AI feedback per iteration: scored (by path) and unscorable',
    yLabel: 'rollouts',
    xLabels,
    series: [
      { name: 'scored (logprobs)', color: '#1565c0', values: its.map((it) => it.feedback.byMethod.logprobs) },
      { name: 'scored (parsed)', color: '#64b5f6', values: its.map((it) => it.feedback.byMethod.parsed) },
      { name: 'scored (mixed)', color: '#90caf9', values: its.map((it) => it.feedback.byMethod.mixed) },
      { name: 'unscorable', color: '#9e9e9e', values: its.map((it) => it.feedback.unscorable) },
    ],
  });
  const training = groupedBarPlot({
    title: 'Training sets per iteration',
    yLabel: 'examples',
    xLabels,
    series: [
      { name: 'reward-model examples', color: '#ef6c00', values: its.map((it) => (it.rewardModel.trainedThisIteration ? (it.rewardModel.job?.examples ?? 0) : null)) },
      { name: 'policy-update rollouts', color: '#2e7d32', values: its.map((it) => it.policyUpdate?.examples ?? null) },
    ],
  });
  return html`<div class="plots">${rates}${codebleu}${feedback}${training}</div>`;
}

function summary(a: RlaifCampaignAudit): SafeHtml {
  const c = a.campaign;
  const cfg = c.config;
  return html`<dl class="summary">
<dt>campaign</dt><dd><code>${c.id}</code> (rlaif)</dd>
<dt>status</dt><dd>${endText(c)}; started ${c.createdAt}${c.finishedAt ? `, finished ${c.finishedAt}` : ''}</dd>
<dt>workflow id</dt><dd><code>${c.workflowId}</code></dd>
${cfg.description ? html`<dt>description</dt><dd>${cfg.description}</dd>` : ''}
<dt>models</dt><dd>policy: <code>${cfg.models.policy?.label ?? '-'}</code><br>AI feedback: <code>${cfg.models.feedback?.label ?? '-'}</code></dd>
${cfg.dataset !== 'apibench' ? html`<dt>data</dt><dd>${cfg.dataset}: ${cfg.rolloutSamplesPerQuestion ?? '-'} rollouts per training task each iteration, judged and never tested; held-out pass@k on its test split, ${cfg.evalSamplesPerQuestion ?? '-'} samples per task</dd>
` : html`<dt>data</dt><dd>APIBench ${cfg.hubs.join(', ')}; training questions: TorchHub's training split and a held-out ${cfg.heldOutFraction ?? '-'} share of the HuggingFace and TensorFlow Hub eval sets (never evaluated); ${cfg.rolloutQuestions ?? '-'} rollout questions x ${cfg.rolloutSamplesPerQuestion ?? '-'} per iteration; ${cfg.evalSamplesPerQuestion ?? '-'} answer(s) per eval question${cfg.maxEvalQuestionsPerHub ? `, first ${cfg.maxEvalQuestionsPerHub} per hub` : ''}</dd>
`}
<dt>AI feedback</dt><dd>questions ${cfg.feedbackQuestions.join(', ')}; scoring ${cfg.feedbackScoring ?? '-'}</dd>
<dt>training</dt><dd>${rewardConfigText(cfg)}; trainer <code>${cfg.trainerCommand.join(' ')}</code></dd>
<dt>executability</dt><dd>the program compiles (CPython <code>compile</code>) and resolves against the API database (imports, the API call and its argument names). Whether it runs: <strong>${a.iterations.find((it) => it.evaluation)?.evaluation?.runs.note ?? 'not measured (no evaluation yet)'}</strong></dd>
<dt>start (iteration 0)</dt><dd>${a.start ? html`the starting policy <code>${a.start.evaluation.policy.label}</code>: executability ${pct(a.start.evaluation.executabilityRate)}, AST accuracy ${pct(a.start.evaluation.astAccuracy)}` : 'not evaluated'}</dd>
</dl>`;
}

function auditTable(a: RlaifCampaignAudit): SafeHtml {
  const rows = a.iterations.map((it) => {
    const ev = it.evaluation;
    return html`<tr>
<td class="num">${it.iteration}</td><td>${it.status}<br><small>phase ${it.phase}</small></td><td><code>${it.policy.label}</code></td>
<td class="num">${it.rollouts.generated}</td>
<td class="num">${it.feedback.scored} / ${it.feedback.unscorable}<br><small>logprobs ${it.feedback.byMethod.logprobs}, parsed ${it.feedback.byMethod.parsed}; mean ${num3(it.feedback.meanScore)}</small></td>
<td>${it.rewardModel.trainedThisIteration ? trainingCell(it.rewardModel.job) : rewardModelText(it, () => '')}</td>
<td class="num">${it.rewards.scored} / ${it.rewards.unscorable}<br><small>mean ${num3(it.rewards.meanReward)}</small></td>
<td>${trainingCell(it.policyUpdate)}</td>
<td class="num">${pct(ev?.executabilityRate)}<br><small>compiles ${pct(ev?.compileRate)}</small></td><td class="num">${num3(ev?.codebleu ?? null)}</td>
<td class="num">${pct(ev?.astAccuracy)}</td><td class="num">${pct(ev?.hallucinationRate)}</td>
</tr>${it.mismatches.length ? html`<tr><td></td><td colspan="11" class="mismatch">${it.mismatches.map((m) => html`${m}<br>`)}</td></tr>` : ''}`;
  });
  return html`<table><thead><tr><th>iteration</th><th>status</th><th>policy</th><th>rollouts</th><th>AI feedback scored / unscorable</th><th>reward model</th>
<th>rewards scored / unscorable</th><th>policy update</th><th>executability</th><th>CodeBLEU</th><th>AST accuracy</th><th>hallucination</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="12">no iterations recorded yet</td></tr>`}</tbody></table>`;
}

function perHubTable(a: RlaifCampaignAudit): SafeHtml {
  const rows = a.iterations.flatMap((it) =>
    Object.entries(it.evaluation?.perHub ?? {}).map(
      ([hub, h]) => html`<tr><td class="num">${it.iteration}</td><td>${hub}</td><td class="num">${h.samples}</td><td class="num">${pct(h.executabilityRate)}</td><td class="num">${num3(h.codebleu)}</td><td class="num">${pct(h.astAccuracy)}</td><td class="num">${pct(h.hallucinationRate)}</td></tr>`,
    ),
  );
  return html`<table><thead><tr><th>iteration</th><th>hub</th><th>answers</th><th>executability</th><th>CodeBLEU</th><th>AST accuracy</th><th>hallucination</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function historyTable(a: RlaifCampaignAudit): SafeHtml {
  const rows = a.iterations.map(
    (it) => html`<tr><td class="num">${it.iteration}</td><td>${ref(it.history.iteration)}</td><td>${ref(it.history.evaluation)}</td>
<td>${[it.rewardModel.job, it.policyUpdate].filter((j) => j !== null).map((j) => html`<code>${j!.id}</code> <small>${j!.host ?? ''} ${formatDuration(j!.durationMs)}</small><br>`)}</td></tr>`,
  );
  return html`<p>Campaign workflow <code>${a.campaign.workflowId}</code>. Export any history with <code>npx feedloop history export &lt;workflowId&gt; --run-id &lt;runId&gt;</code>.</p>
<table><thead><tr><th>iteration</th><th>iteration workflow</th><th>evaluation workflow</th><th>training jobs</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function examples(list: readonly AiFeedbackExample[]): SafeHtml {
  if (list.length === 0) return html`<p>No AI feedback recorded.</p>`;
  return html`${list.map(
    (e) => html`<div class="example"><div class="meta">iteration ${e.iteration} · question <code>${e.taskId}</code> · ${e.status === 'unscorable' ? html`<span class="dropped">UNSCORABLE: kept out of training</span>` : html`score ${num3(e.score)} (${e.method ?? '-'})`}</div>
<table><thead><tr><th>question</th><th>judge's answer</th><th>P(Yes)</th><th>path</th></tr></thead><tbody>${e.judged.map(
      (j) => html`<tr><td>${j.question}</td><td><code>${j.text}</code>${j.problem ? html`<br><small class="dropped">${j.problem}</small>` : ''}</td><td class="num">${j.pYes === null ? '-' : j.pYes.toFixed(3)}</td><td>${j.method ?? '-'}</td></tr>`,
    )}</tbody></table>
<details><summary>the answer judged</summary><pre>${e.answer}</pre></details></div>`,
  )}`;
}

export function renderRlaifReport(audit: RlaifCampaignAudit, feedbackExamples: readonly AiFeedbackExample[], opts: ReportOptions = {}): string {
  return reportPage(audit, [
    ['Campaign', summary(audit)],
    ['Per iteration', plots(audit)],
    ['Learning signal', learningSignalSection(audit.iterations.map((it) => ({ iteration: it.iteration, job: it.policyUpdate })))],
    ['Audit', auditTable(audit)],
    ['Per hub', perHubTable(audit)],
    ['Workflow histories', historyTable(audit)],
    ['AI feedback examples', examples(feedbackExamples)],
  ], opts);
}
