import { pct } from '../../audit/report/format';
import { endText, formatPlacement } from '../../audit/core';
import { againstStart, auditText, campaignLines, columnTable, formatRef, formatTrainingJob, simulatedLines, workerVersionLines, formatDatasetFile, type Column } from '../../audit/text';
import type { JavaEvaluationAudit, RlcfCampaignAudit, RlcfIterationAudit } from './audit';

/** The human form of `feedloop audit` for RLCF campaigns. */
const num3 = (v: number | null) => (v === null ? '-' : v.toFixed(3));
const counts = (c: Record<string, number>) => (Object.keys(c).length ? Object.entries(c).map(([k, n]) => `${k} ${n}`).join(', ') : 'none');

/** The four rates of one evaluation (pass@k for every k), with the change against the start. */
export function formatJavaRates(e: JavaEvaluationAudit | null, start: JavaEvaluationAudit | null | undefined): string {
  if (!e) return 'not evaluated';
  const ks = Object.keys(e.passAtK).sort((a, b) => Number(a) - Number(b));
  return [
    `compile ${pct(e.compileRate)}${againstStart(e.compileRate, start?.compileRate)}`,
    `static checks ${pct(e.staticCheckPassRate)}${againstStart(e.staticCheckPassRate, start?.staticCheckPassRate)}`,
    `execution ${pct(e.executionRate)}${againstStart(e.executionRate, start?.executionRate)}`,
    ...ks.map((k) => `pass@${k} ${pct(e.passAtK[k])}${againstStart(e.passAtK[k] ?? null, start?.passAtK[k])}`),
  ].join(', ') + ` (${e.status}; ${e.tasks ?? '-'} tasks, ${e.samples ?? '-'} programs; policy ${e.policy.label})`;
}

/** A row of the table: an iteration, or the start (iteration 0: an evaluation, no iteration). */
interface TableRow {
  label: string;
  status: string;
  it: RlcfIterationAudit | null;
  e: JavaEvaluationAudit | null;
}

const ITERATION_COLUMNS: readonly Column<TableRow>[] = [
  ['iteration', (r) => r.label],
  ['status', (r) => r.status],
  ['rollouts', ({ it }) => (it ? String(it.rollouts.generated) : '-')],
  ['compiled/static ok', ({ it }) => (it ? `${it.stages.compiled}/${it.stages.staticPassed}` : '-')],
  ['discr. scored/unscorable', ({ it }) => (it ? `${it.stages.discriminator.scored}/${it.stages.discriminator.unscorable}` : '-')],
  ['rewards scored/unscorable', ({ it }) => (it ? `${it.rewards.scored}/${it.rewards.unscorable}` : '-')],
  ['mean reward', ({ it }) => (it ? num3(it.rewards.meanReward) : '-')],
  ['update', ({ it }) => (it?.policyUpdate ? String(it.policyUpdate.examples) : '-')],
  ['compile', ({ e }) => pct(e?.compileRate)],
  ['static', ({ e }) => pct(e?.staticCheckPassRate)],
  ['execution', ({ e }) => pct(e?.executionRate)],
  ['pass@1', ({ e }) => pct(e?.passAtK['1'])],
  ['pass@k', ({ e }) => Object.entries(e?.passAtK ?? {}).filter(([k]) => k !== '1').map(([k, v]) => `@${k} ${pct(v)}`).join(' ') || '-'],
];

export function rlcfSummaryTable(a: RlcfCampaignAudit): string {
  return columnTable(ITERATION_COLUMNS, [
    ...(a.start ? [{ label: '0 (start)', status: a.start.evaluation.mbjp?.status ?? '-', it: null, e: a.start.evaluation.mbjp }] : []),
    ...a.iterations.map((it) => ({ label: String(it.iteration), status: it.status, it, e: it.evaluation?.mbjp ?? null })),
  ]);
}

function formatIteration(it: RlcfIterationAudit, start: RlcfCampaignAudit['start']): string {
  const row = (label: string, value: string) => `  ${label.padEnd(15)}${value}`;
  const s = it.stages;
  const d = s.discriminator;
  const r = it.rewards;
  const lines = [
    `── iteration ${it.iteration}: ${endText(it)} (phase ${it.phase})`,
    row('policy', it.policy.label),
    ...workerVersionLines(it, row),
    row('rollouts', `${it.rollouts.generated} Java programs for ${it.rollouts.tasks} MBJP training tasks`),
    row('a. compiles', `${s.compiled} compiled, ${s.compileErrors} compile errors, ${s.compileTimeouts} timeouts, ${s.compileInfraErrors} infra errors`),
    row('b. static', `${s.staticChecked} checked, ${s.staticPassed} passed; failures: ${counts(s.staticFailures)}`),
    row('c. tests', counts(s.tests)),
    row('d. discrimin.', `${d.kind ?? '-'}${d.kind === 'simulated' ? ' (SIMULATED)' : ''}: ${d.asked} asked (compiled only), ${d.scored} scored (${counts(d.byMethod)}), ${d.unscorable} UNSCORABLE; mean P(Yes) ${num3(d.meanPYes)}`),
    ...(d.job ? [row('discr. job', formatTrainingJob(d.job))] : []),
    ...(d.placement ? [row('discr. ran', formatPlacement(d.placement)!)] : []),
    row('reward', `${r.scored} scored, ${r.unscorable} UNSCORABLE (kept out of the update, never 0: ${counts(r.unscorableByReason)}); mean ${num3(r.meanReward)}, min ${num3(r.minReward)}, max ${num3(r.maxReward)}`),
    row('', `distribution: ${r.histogram.map((b) => `${b.bin}: ${b.n}`).join(', ')}`),
    row('policy update', formatTrainingJob(it.policyUpdate)),
    row('MBJP eval', formatJavaRates(it.evaluation?.mbjp ?? null, start?.evaluation.mbjp)),
    row('MathQA-Java', formatJavaRates(it.evaluation?.mathqa ?? null, start?.evaluation.mathqa)),
    row('history', `iteration     ${formatRef(it.history.iteration)}`),
    row('', `evaluation    ${formatRef(it.history.evaluation)}`),
  ];
  for (const m of it.mismatches) lines.push(row('MISMATCH', m));
  return lines.join('\n');
}

export function formatRlcfAudit(a: RlcfCampaignAudit): string {
  const c = a.campaign;
  const cfg = c.config;
  const header = [
    ...campaignLines(c),
    `models       policy ${cfg.models.policy?.label ?? '-'}; discriminator ${cfg.discriminatorKind ?? '-'}${cfg.models.discriminator ? ` ${cfg.models.discriminator.label}` : ''}`,
    `config       ${cfg.iterations ?? '?'} iterations; MBJP split "${cfg.split ?? '-'}" (${cfg.rolloutTasks ?? 'all'} training tasks x ${cfg.rolloutSamplesPerTask ?? '-'}; ${cfg.maxEvalTasks ?? 'all'} eval tasks x ${cfg.evalSamplesPerTask ?? '-'}, ks ${cfg.ks.join('/')}); ` +
      `MathQA-Java ${cfg.mathqaEvalTasks ?? 0} tasks; static checks ${cfg.staticChecksVersion ?? '-'}; reward ${JSON.stringify(cfg.reward)}; trainer ${cfg.trainerCommand.join(' ') || '-'}`,
  ];
  header.push(...formatDatasetFile(c));
  header.push(...simulatedLines(c, 'parts', 'real LLMs or real training'));
  header.push(
    a.start
      ? `start        iteration 0, the starting policy: MBJP ${formatJavaRates(a.start.evaluation.mbjp, null)}; MathQA-Java ${formatJavaRates(a.start.evaluation.mathqa, null)} (${formatRef(a.start.history)})`
      : 'start        the starting policy was not evaluated (evaluateStart: false)',
  );
  return auditText(header, a.iterations, () => ['MBJP eval tasks:', rlcfSummaryTable(a)], (it) => formatIteration(it, a.start), [
    'compile = javac accepts it; static = compiles and passes rlcf-static-checks-v1; execution = the test run ends without an exception of the program (passed or failed a test); pass@k unbiased (Chen et al. 2021)',
  ]);
}
