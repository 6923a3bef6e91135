import type { TrainingJobAudit } from '../core';
import { linePlot } from './svg';
import { html, type SafeHtml } from './safe-html';

/**
 * The report's learning-signal section, for any loop: per iteration, the training loss curve of
 * its job (trainer protocol progress events) and the policy's perplexity on the fixed held-out set
 * and on the job's own training set, before and after the job (learning_signals).
 */
const CURVE_COLORS = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f'];

export function learningSignalSection(jobs: ReadonlyArray<{ iteration: number; job: TrainingJobAudit | null }>): SafeHtml {
  const signals = jobs.flatMap(({ iteration, job }) => (job?.learningSignal ? [{ iteration, signal: job.learningSignal }] : []));
  if (signals.length === 0) return html`<p>No learning signal recorded (no trainer wrote weights, or the campaign predates it).</p>`;
  const steps = Math.max(...signals.map((s) => s.signal.lossCurve.at(-1)?.[0] ?? 0));
  const xSteps = Array.from({ length: steps }, (_, i) => String(i + 1));
  const loss = linePlot({
    title: 'Training loss per step (each iteration\'s job)',
    yLabel: 'loss',
    xLabels: xSteps,
    series: signals.map(({ iteration, signal }, i) => {
      const byStep = new Map(signal.lossCurve);
      return { name: `it ${iteration}`, color: CURVE_COLORS[i % CURVE_COLORS.length]!, values: xSteps.map((s) => byStep.get(Number(s)) ?? null) };
    }),
    yFormat: (v) => v.toFixed(2),
    valueFormat: () => '',
  });
  const xLabels = signals.map((s) => `it ${s.iteration}`);
  const ppl = (pick: (s: (typeof signals)[number]['signal']) => number | undefined) => signals.map((s) => pick(s.signal) ?? null);
  const perplexity = linePlot({
    title: `Perplexity before -> after each iteration's training: held-out ${signals[0]!.signal.heldOut?.set ?? '-'}, own training set`,
    yLabel: 'perplexity',
    xLabels,
    series: [
      { name: 'held-out before', color: '#90a4ae', values: ppl((s) => s.heldOut?.before.perplexity) },
      { name: 'held-out after', color: '#1565c0', values: ppl((s) => s.heldOut?.after.perplexity) },
      { name: 'train before', color: '#ffb74d', values: ppl((s) => s.trainingSet?.before.perplexity) },
      { name: 'train after', color: '#2e7d32', values: ppl((s) => s.trainingSet?.after.perplexity) },
    ],
    yFormat: (v) => v.toFixed(1),
    valueFormat: (v) => v.toFixed(2),
  });
  const flags = signals.flatMap(({ iteration, signal }) => signal.flags.map((f) => html`<li>iteration ${iteration}: ${f}</li>`));
  const origins = signals.map(
    ({ iteration, signal }) => html`<li>iteration ${iteration}: trained ${signal.policyBefore}${signal.policyBeforeFrom ? ` (the export of ${signal.policyBeforeFrom})` : ' (the starting model)'}; wrote ${signal.policyAfter}</li>`,
  );
  return html`<div class="plots">${loss}${perplexity}</div><ul>${origins}</ul>${flags.length ? html`<p><strong>Flags</strong></p><ul>${flags}</ul>` : ''}`;
}
